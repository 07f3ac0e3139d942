/**
 * Debian's Pebble, a real ACME CA, on loopback ports: for the TLS integration tests. Pebble asks one
 * DNS server for everything it validates: either a `pebble-challtestsrv` started here (every A →
 * 127.0.0.1, for http-01 and tls-alpn-01 against ingressd's own ports) or a DNS server the test runs
 * (bind9 for dns-01: Pebble then reads the TXT records Caddy published there).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { delimiter, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { freePort, removeDir, tempDir, waitFor, type HttpAnswer } from './processes.js';

export interface Pebble {
  readonly directoryUrl: string;
  /** Pebble's own HTTPS certificate: what ACME_CA_ROOT must trust. */
  readonly tlsCertFile: string;
  /** The root of the certificates Pebble issues (random per start), from /roots/0. */
  readonly issuingRootPem: string;
  /** What Pebble (and challtestsrv) printed so far: for failure messages. */
  readonly output: () => string;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Where Pebble's VA connects for http-01 (ingressd's CADDY_HTTP_PORT). @default a free port */
  readonly httpPort?: number;
  /** Where Pebble's VA connects for tls-alpn-01 (ingressd's CADDY_HTTPS_PORT). @default a free port */
  readonly tlsPort?: number;
  /** `host:port` of the DNS server Pebble asks. @default a pebble-challtestsrv started here (every A → 127.0.0.1) */
  readonly dnsServer?: string;
  /** Lifetime of the certificates Pebble issues, in seconds (Pebble's `certificateValidityPeriod`). @default Pebble's (5 years) */
  readonly certificateValiditySeconds?: number;
}

/** Fails (never skips) when a binary the test needs is missing. */
export function requireExecutable(name: string, hint: string): void {
  const found = (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${name} is not installed: ${hint}`);
}

/** Starts Pebble (and challtestsrv unless `dnsServer` is given) on free loopback ports; resolves once its root can be read. */
export async function startPebble(options: PebbleOptions = {}): Promise<Pebble> {
  requireExecutable('pebble', 'apt-get install pebble');
  requireExecutable('openssl', 'apt-get install openssl');
  if (options.dnsServer === undefined) requireExecutable('pebble-challtestsrv', 'apt-get install pebble');
  const [acme, management] = [await freePort(), await freePort()];
  const dir = await tempDir('pebble');
  const tlsCertFile = join(dir, 'pebble-tls.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'pebble-tls.key'), '-out', tlsCertFile, '-days', '30',
    '-subj', '/CN=pebble-localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'pipe' });
  const config = { pebble: {
    listenAddress: `127.0.0.1:${acme}`, managementListenAddress: `127.0.0.1:${management}`,
    certificate: tlsCertFile, privateKey: join(dir, 'pebble-tls.key'),
    httpPort: options.httpPort ?? (await freePort()), tlsPort: options.tlsPort ?? (await freePort()),
    ocspResponderURL: '', externalAccountBindingRequired: false,
    ...(options.certificateValiditySeconds === undefined ? {} : { certificateValidityPeriod: options.certificateValiditySeconds }),
  } };
  await writeFile(join(dir, 'pebble-config.json'), JSON.stringify(config));
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const run = (command: string, args: readonly string[], env: Readonly<Record<string, string>>): void => {
    const child = spawn(command, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    children.push(child);
  };
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    })));
    await removeDir(dir);
  };
  try {
    let dnsServer = options.dnsServer;
    if (dnsServer === undefined) {
      // The lab recipe: challtestsrv serves only DNS on 127.0.0.1 (every A → 127.0.0.1).
      dnsServer = `127.0.0.1:${await freePort()}`;
      run('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', dnsServer,
        '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${await freePort()}`], {});
    }
    run('pebble', ['-config', join(dir, 'pebble-config.json'), '-dnsserver', dnsServer], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' });
    const ca = await readFile(tlsCertFile, 'utf8');
    const root = await waitFor('Pebble\'s root certificate', async () => {
      const answer = await httpsGet({ port: management, servername: 'localhost', path: '/roots/0', ca });
      return answer.status === 200 && answer.body.includes('BEGIN CERTIFICATE') ? answer.body : undefined;
    }, 15_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\npebble output:\n${output.join('')}`);
    });
    return { directoryUrl: `https://127.0.0.1:${acme}/dir`, tlsCertFile, issuingRootPem: root, output: () => output.join(''), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface HttpsAnswer extends HttpAnswer {
  /** The serial number (hex) of the certificate the server presented. */
  readonly serial: string;
  /** Its subject alternative names, as Node prints them (`DNS:a.example, DNS:b.example`). */
  readonly altNames: string;
}

/** GET https://<address, default 127.0.0.1>:<port><path> with SNI and Host = servername, verifying the chain against `ca` only. */
export function httpsGet(options: { port: number; servername: string; path: string; ca: string; address?: string }): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: options.address ?? '127.0.0.1', port: options.port, path: options.path, servername: options.servername, ca: options.ca, headers: { host: `${options.servername}:${options.port}` }, agent: false, timeout: 5000 },
      (res) => {
        // An https response's socket is a TLSSocket.
        const peer = (res.socket as TLSSocket).getPeerCertificate();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, serial: peer.serialNumber ?? '', altNames: peer.subjectaltname ?? '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}
