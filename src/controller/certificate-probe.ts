/**
 * Finds out which certificate Caddy serves for each TLS hostname, by doing what a client does: a
 * TLS handshake with that SNI against the local listener. Caddy's own view (its storage, its logs)
 * would say what it holds, not what a client gets.
 */
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { CertificateTarget } from '../reconciler/reconciler.js';
import type { CertificateStatus } from '../reconciler/status-types.js';
import { joinHostPort } from '../model/host-port.js';

export interface CertificateProbeOptions {
  /** CADDY_LISTEN_ADDRESS. A wildcard is probed on loopback: `0.0.0.0` → 127.0.0.1, `::` → ::1. */
  readonly listenAddress: string;
  /** Bound on one handshake, connect included. @default 2000 */
  readonly timeoutMs?: number;
  /** Clock for the validity check, ms since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Handshakes in flight at once. @default 8 */
  readonly concurrency?: number;
}

export type CertificateProbe = (targets: readonly CertificateTarget[]) => Promise<ReadonlyMap<string, CertificateStatus>>;

/** The label put in place of each `{capture}` of a pattern hostname to get a name to probe. */
export const PROBE_LABEL = 'ingressd-probe';

/**
 * Returns a probe for `ReconcilerOptions.probeCertificates`. For each target it connects to
 * `<listen address>:<port>` with `servername` = the hostname (a pattern's captures replaced by
 * `ingressd-probe`), offers no ALPN and does not verify the chain (private CAs such as Pebble).
 *
 * The result has one entry per target, keyed `${hostname}:${port}` with the hostname as given.
 * `served` is true only when the handshake returned a certificate whose SAN covers the probed name
 * and whose validity period contains `now()`; then `notAfter` (RFC 3339) and `issuer` (the issuer
 * CN, or its O) are set. Any failure (refused, handshake alert, timeout, wrong name, expired)
 * gives `served: false` with a message for people; messages hold no timings, so a steady state
 * gives identical statuses. Never rejects. Runs at most `concurrency` handshakes at once; the map
 * lists the targets in the order given.
 */
export function createCertificateProbe(options: CertificateProbeOptions): CertificateProbe {
  const host = probeAddress(options.listenAddress);
  const timeoutMs = options.timeoutMs ?? 2000;
  const now = options.now ?? Date.now;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  return async (targets) => {
    const results: CertificateStatus[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length) {
        const i = next++;
        results[i] = await probeOne(host, targets[i]!, timeoutMs, now);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, () => worker()));
    // In target order, whatever order the handshakes finished in.
    return new Map(targets.map((t, i) => [`${t.hostname}:${t.port}`, results[i]!]));
  };
}

/** Where to connect for a listen address: wildcards become the loopback of their family. */
export function probeAddress(listenAddress: string): string {
  if (listenAddress === '0.0.0.0' || listenAddress === '') return '127.0.0.1';
  if (listenAddress === '::' || listenAddress === '[::]') return '::1';
  return listenAddress;
}

/** A concrete name for a hostname: each `{capture}` label becomes `ingressd-probe`. */
export function probeName(hostname: string): string {
  return hostname.replace(/\{[^{}]*\}/g, PROBE_LABEL);
}

type Handshake = { readonly ok: true; readonly cert: PeerCertificate | undefined } | { readonly ok: false; readonly error: Error };

async function probeOne(host: string, target: CertificateTarget, timeoutMs: number, now: () => number): Promise<CertificateStatus> {
  const name = probeName(target.hostname);
  const about = name === target.hostname ? '' : ` (probed as ${name})`;
  let handshake: Handshake;
  try {
    handshake = await handshakeWith(host, target.port, name, timeoutMs);
  } catch (err) {
    handshake = { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
  const notServed = (message: string): CertificateStatus => ({ hostname: target.hostname, served: false, message: `${message}${about}` });
  if (!handshake.ok) return notServed(failureMessage(handshake.error, host, target.port, timeoutMs));
  const cert = handshake.cert;
  if (cert === undefined) return notServed('no certificate yet (Caddy is obtaining one)');
  const issuer = issuerName(cert);
  const notAfterMs = Date.parse(cert.valid_to);
  const notBeforeMs = Date.parse(cert.valid_from);
  const notAfter = Number.isFinite(notAfterMs) ? new Date(notAfterMs).toISOString() : undefined;
  const details = { ...(notAfter === undefined ? {} : { notAfter }), ...(issuer === undefined ? {} : { issuer }) };
  if (checkServerIdentity(name, cert) !== undefined) {
    return notServed(`the certificate served (${describe(cert)}) does not cover ${name}; no certificate yet (Caddy is obtaining one)`);
  }
  const t = now();
  if (!Number.isFinite(notAfterMs) || !Number.isFinite(notBeforeMs)) return { ...notServed(`the certificate served (${describe(cert)}) has no readable validity period`), ...details };
  if (t < notBeforeMs) return { ...notServed(`the certificate served is not valid before ${new Date(notBeforeMs).toISOString()}`), ...details };
  if (t >= notAfterMs) return { ...notServed(`the certificate served expired at ${notAfter}; Caddy should renew it (see its log)`), ...details };
  return {
    hostname: target.hostname,
    served: true,
    ...details,
    message: `served, valid until ${notAfter}${issuer === undefined ? '' : `, issued by ${issuer}`}${about}`,
  };
}

/** One handshake; resolves with the peer certificate (undefined when none was sent), rejects on failure. */
function handshakeWith(host: string, port: number, servername: string, timeoutMs: number): Promise<Handshake> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host, port, servername, rejectUnauthorized: false, timeout: timeoutMs });
    const finish = (result: Handshake): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // `timeout` above only covers idleness; this bounds connect + handshake together.
    const timer = setTimeout(() => finish({ ok: false, error: new TimeoutError() }), timeoutMs);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(false);
      finish({ ok: true, cert: cert === null || Object.keys(cert).length === 0 ? undefined : cert });
    });
    socket.once('timeout', () => finish({ ok: false, error: new TimeoutError() }));
    socket.once('error', (error) => finish({ ok: false, error }));
    socket.once('close', () => finish({ ok: false, error: new Error('the connection closed before the TLS handshake finished') }));
  });
}

class TimeoutError extends Error {}

function failureMessage(error: Error, host: string, port: number, timeoutMs: number): string {
  const address = joinHostPort(host, port);
  if (error instanceof TimeoutError) return `no TLS answer from ${address} within ${timeoutMs} ms`;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return `nothing listens on ${address} yet`;
  // Caddy answers an SNI it has no certificate for with a TLS alert (internal_error) or a close.
  return `no certificate yet (Caddy is obtaining one): the TLS handshake with ${address} failed (${code ?? error.message})`;
}

function issuerName(cert: PeerCertificate): string | undefined {
  return firstOf(cert.issuer?.CN) ?? firstOf(cert.issuer?.O);
}

function describe(cert: PeerCertificate): string {
  const subject = firstOf(cert.subject?.CN);
  const issuer = issuerName(cert);
  const parts = [subject === undefined ? undefined : `CN=${subject}`, cert.subjectaltname, issuer === undefined ? undefined : `issuer ${issuer}`];
  return parts.filter((p): p is string => p !== undefined && p !== '').join(', ') || 'no subject';
}

/** Certificate name fields are a string, or an array when the attribute repeats. */
function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
