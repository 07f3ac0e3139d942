/**
 * Debian's `pebble` (a real ACME CA) with `pebble-challtestsrv` as its DNS (every A → 127.0.0.1), on
 * loopback ports, for the integration tests that need real certificates; and an HTTPS GET that
 * trusts only a given root.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { delimiter, join } from 'node:path';
import { removeDir, tempDir, waitFor, type HttpAnswer } from './processes.js';

export interface Pebble {
  readonly directoryUrl: string;
  /** Pebble's own HTTPS certificate: what ACME_CA_ROOT must trust. */
  readonly tlsCertFile: string;
  /** The root of the certificates Pebble issues (random per start), from /roots/0. */
  readonly issuingRootPem: string;
  stop(): Promise<void>;
}

/** Fails (never skips) when a binary the test needs is missing. */
function requireExecutable(name: string, hint: string): void {
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

/** The lab recipe: challtestsrv serves only DNS on 127.0.0.1 (every A → 127.0.0.1), Pebble validates on our ports. */
export async function startPebble(ports: { acme: number; management: number; dns: number; dnsManagement: number; httpPort: number; tlsPort: number }): Promise<Pebble> {
  requireExecutable('pebble', 'apt-get install pebble');
  requireExecutable('pebble-challtestsrv', 'apt-get install pebble');
  requireExecutable('openssl', 'apt-get install openssl');
  const dir = await tempDir('pebble');
  const tlsCertFile = join(dir, 'pebble-tls.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'pebble-tls.key'), '-out', tlsCertFile, '-days', '30',
    '-subj', '/CN=pebble-localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE'], { stdio: 'pipe' });
  const config = { pebble: {
    listenAddress: `127.0.0.1:${ports.acme}`, managementListenAddress: `127.0.0.1:${ports.management}`,
    certificate: tlsCertFile, privateKey: join(dir, 'pebble-tls.key'),
    httpPort: ports.httpPort, tlsPort: ports.tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false,
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
    run('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${ports.dns}`,
      '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${ports.dnsManagement}`], {});
    run('pebble', ['-config', join(dir, 'pebble-config.json'), '-dnsserver', `127.0.0.1:${ports.dns}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' });
    const ca = await readFile(tlsCertFile, 'utf8');
    const root = await waitFor('Pebble\'s root certificate', async () => {
      const answer = await httpsGet({ port: ports.management, servername: 'localhost', path: '/roots/0', ca });
      return answer.status === 200 && answer.body.includes('BEGIN CERTIFICATE') ? answer.body : undefined;
    }, 15_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\npebble output:\n${output.join('')}`);
    });
    return { directoryUrl: `https://127.0.0.1:${ports.acme}/dir`, tlsCertFile, issuingRootPem: root, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** GET https://127.0.0.1:<port><path> with SNI and Host = servername, verifying the chain against `ca` only. */
export function httpsGet(options: { port: number; servername: string; path: string; ca: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: options.port, path: options.path, servername: options.servername, ca: options.ca, headers: { host: `${options.servername}:${options.port}` }, agent: false, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

