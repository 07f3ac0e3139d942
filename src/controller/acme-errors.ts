/**
 * Why a certificate is still pending, in Caddy's words. A TLS handshake only shows that no
 * certificate is served yet; when Caddy's last ACME attempt for that subject failed (a DNS
 * provider that refused the update, a record that never propagated, a CA that said no), its log
 * says why. `withAcmeErrors` appends that reason to a pending certificate's message, so the
 * ingress's `CertificateReady` condition names the cause instead of "Caddy is obtaining one".
 */
import { open } from 'node:fs/promises';
import { hostKey } from '../model/hostname.js';
import type { CertificateProbe } from './certificate-probe.js';

/** How much of the end of Caddy's log is read: recent attempts only, at a bounded cost per sync. */
export const LOG_TAIL_BYTES = 1024 * 1024;
/** Longest reason kept in a status message. */
const MAX_REASON = 400;

/**
 * The last failed attempt per certificate subject (`api.example.com`, `*.dev.example.com`), from
 * Caddy's JSON log lines in order: `tls.obtain` "could not get certificate from issuer" sets it, a
 * later "certificate obtained successfully" for the subject clears it. Lines that are not JSON are
 * skipped. The reason drops what changes on every attempt (the order and CA URLs, the subject
 * prefix), so a status does not change between retries that fail alike.
 */
export function lastAcmeErrors(logText: string, secret?: string): Map<string, string> {
  const errors = new Map<string, string>();
  for (const line of logText.split('\n')) {
    // Most lines are about other things: parse only those naming a certificate subject.
    if (!line.startsWith('{') || !line.includes('"identifier"')) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof entry !== 'object' || entry === null) continue;
    const { logger, msg, identifier, error } = entry as Record<string, unknown>;
    if (typeof identifier !== 'string') continue;
    const subject = identifier.toLowerCase();
    if (logger === 'tls.obtain' && msg === 'could not get certificate from issuer' && typeof error === 'string') errors.set(subject, reasonOf(error, subject, secret));
    else if (msg === 'certificate obtained successfully') errors.delete(subject);
  }
  return errors;
}

/**
 * The reason as a status shows it: without what changes per attempt, and without secrets — the DNS
 * provider's token or key (Caddy's error text can quote a provider's request), URL credentials and
 * query strings (where providers put tokens).
 */
function reasonOf(error: string, subject: string, secret: string | undefined): string {
  let reason = error
    .replace(/ \((?:order|ca)=[^)]*\)/g, '')
    .split(`[${subject}] `)
    .join('')
    .replace(/(\w+:\/\/)[^\s/@"]+@/g, '$1<redacted>@')
    .replace(/(\w+:\/\/[^\s?"]+)\?[^\s"]*/g, '$1?<redacted>')
    .trim();
  if (secret !== undefined && secret.length > 0) reason = reason.split(secret).join('<redacted>');
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

/**
 * Wraps a certificate probe: for every target not served, when Caddy's log holds a failed attempt
 * for the target's subject (a pattern's wildcard form), the message gains "; Caddy's last attempt
 * failed: <reason>" (`secret`, the DNS provider's, redacted). `readLog` returns the log's text (or '' when there is none, e.g. an adopted
 * Caddy logging elsewhere); it is called only when some target is pending. Never rejects.
 */
export function withAcmeErrors(probe: CertificateProbe, readLog: () => Promise<string>, secret?: string): CertificateProbe {
  return async (targets) => {
    const results = await probe(targets);
    if ([...results.values()].every((r) => r.served)) return results;
    const errors = lastAcmeErrors(await readLog().catch(() => ''), secret);
    if (errors.size === 0) return results;
    return new Map(
      [...results].map(([key, status]) => {
        const reason = status.served ? undefined : errors.get(hostKey(status.hostname.toLowerCase()));
        return [key, reason === undefined ? status : { ...status, message: `${status.message}; Caddy's last attempt failed: ${reason}` }];
      }),
    );
  };
}

/** The last `bytes` of a file as text, starting at a line boundary; '' when it cannot be read. */
export async function readTail(path: string, bytes = LOG_TAIL_BYTES): Promise<string> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await file.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } catch {
    return '';
  } finally {
    await file.close();
  }
}
