/**
 * The certificate probe against a real node:tls server on loopback, with a CA and a leaf
 * certificate made by `openssl` at test time: what counts as served, what a failure says, and
 * that the probe never throws and bounds its concurrency.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { createCertificateProbe, probeAddress, probeName } from '../../src/controller/certificate-probe.js';

const TLS_PORT = 25611;
const SILENT_PORT = 25612;
const CLOSED_PORT = 25613;
const HOUR_MS = 3_600_000;

function openssl(dir: string, args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl is not installed: apt-get install openssl');
    throw err;
  }
}

/** A CA ("Probe Test CA") and a leaf for good.test and *.wild.test, valid from now for 2 days. */
async function makeCertificates(dir: string): Promise<{ key: string; cert: string; notAfter: Date }> {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3', '-subj', '/CN=Probe Test CA']);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=good.test']);
  await writeFile(join(dir, 'leaf.ext'), 'subjectAltName=DNS:good.test,DNS:*.wild.test\n');
  openssl(dir, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext']);
  const end = execFileSync('openssl', ['x509', '-in', 'leaf.pem', '-noout', '-enddate'], { cwd: dir, encoding: 'utf8' });
  return {
    key: await readFile(join(dir, 'leaf.key'), 'utf8'),
    cert: await readFile(join(dir, 'leaf.pem'), 'utf8'),
    notAfter: new Date(end.trim().replace(/^notAfter=/, '')),
  };
}

describe('createCertificateProbe', () => {
  let dir: string;
  let tlsServer: TlsServer;
  let silent: TcpServer;
  let notAfter: Date;
  const silentSockets = new Set<Socket>();
  let maxSilentAtOnce = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingressd-probe-'));
    const made = await makeCertificates(dir);
    notAfter = made.notAfter;
    const context = createSecureContext({ key: made.key, cert: made.cert });
    // Like Caddy: a certificate for names it manages, a handshake failure for any other SNI.
    tlsServer = createTlsServer({
      SNICallback: (name, cb) => (name === 'unknown.test' ? cb(new Error('no certificate for this name'), undefined) : cb(null, context)),
    });
    tlsServer.on('secureConnection', (socket) => socket.end());
    tlsServer.on('tlsClientError', () => undefined);
    silent = createTcpServer((socket) => {
      silentSockets.add(socket);
      maxSilentAtOnce = Math.max(maxSilentAtOnce, silentSockets.size);
      // The probe closes its side when it gives up; count the connection as gone from then on.
      socket.on('end', () => silentSockets.delete(socket));
      socket.on('close', () => silentSockets.delete(socket));
      socket.on('error', () => undefined);
      socket.resume(); // read (and drop) the ClientHello, so the probe's close is seen as 'end'
    });
    await new Promise<void>((resolve, reject) => tlsServer.once('error', reject).listen(TLS_PORT, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve, reject) => silent.once('error', reject).listen(SILENT_PORT, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    for (const socket of silentSockets) socket.destroy();
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a served certificate with notAfter and the issuer CN, keyed hostname:port', async () => {
    const probe = createCertificateProbe({ listenAddress: '127.0.0.1' });
    const result = await probe([{ hostname: 'good.test', port: TLS_PORT }]);
    expect([...result.keys()]).toEqual([`good.test:${TLS_PORT}`]);
    expect(result.get(`good.test:${TLS_PORT}`)).toEqual({
      hostname: 'good.test',
      served: true,
      notAfter: notAfter.toISOString(),
      issuer: 'Probe Test CA',
      message: `served, valid until ${notAfter.toISOString()}, issued by Probe Test CA`,
    });
  });

  it('probes a wildcard listen address on loopback', async () => {
    const probe = createCertificateProbe({ listenAddress: '0.0.0.0' });
    expect((await probe([{ hostname: 'good.test', port: TLS_PORT }])).get(`good.test:${TLS_PORT}`)?.served).toBe(true);
    expect(probeAddress('0.0.0.0')).toBe('127.0.0.1');
    expect(probeAddress('::')).toBe('::1');
    expect(probeAddress('127.0.0.2')).toBe('127.0.0.2');
  });

  it('probes a pattern hostname with each capture replaced by ingressd-probe, keeping the pattern as the key', async () => {
    expect(probeName('{app}.{env}.wild.test')).toBe('ingressd-probe.ingressd-probe.wild.test');
    const probe = createCertificateProbe({ listenAddress: '127.0.0.1' });
    const status = (await probe([{ hostname: '{app}.wild.test', port: TLS_PORT }])).get(`{app}.wild.test:${TLS_PORT}`);
    expect(status).toMatchObject({ hostname: '{app}.wild.test', served: true, issuer: 'Probe Test CA' });
    expect(status?.message).toContain('(probed as ingressd-probe.wild.test)');
  });

  it('does not count a certificate whose SAN does not cover the hostname', async () => {
    const probe = createCertificateProbe({ listenAddress: '127.0.0.1' });
    const status = (await probe([{ hostname: 'other.test', port: TLS_PORT }])).get(`other.test:${TLS_PORT}`);
    expect(status?.served).toBe(false);
    expect(status?.message).toContain('does not cover other.test');
    expect(status?.message).toContain('no certificate yet (Caddy is obtaining one)');
    // A wildcard covers one label only.
    expect((await probe([{ hostname: 'a.b.wild.test', port: TLS_PORT }])).get(`a.b.wild.test:${TLS_PORT}`)?.served).toBe(false);
  });

  it('does not count an expired or not-yet-valid certificate, but still reports notAfter and issuer', async () => {
    const later = createCertificateProbe({ listenAddress: '127.0.0.1', now: () => notAfter.getTime() + HOUR_MS });
    const expired = (await later([{ hostname: 'good.test', port: TLS_PORT }])).get(`good.test:${TLS_PORT}`);
    expect(expired).toMatchObject({ served: false, notAfter: notAfter.toISOString(), issuer: 'Probe Test CA' });
    expect(expired?.message).toContain(`expired at ${notAfter.toISOString()}`);
    const earlier = createCertificateProbe({ listenAddress: '127.0.0.1', now: () => Date.now() - 24 * HOUR_MS });
    const early = (await earlier([{ hostname: 'good.test', port: TLS_PORT }])).get(`good.test:${TLS_PORT}`);
    expect(early?.served).toBe(false);
    expect(early?.message).toContain('is not valid before');
  });

  it('reports "no certificate yet" when the handshake fails for that name', async () => {
    const probe = createCertificateProbe({ listenAddress: '127.0.0.1' });
    const status = (await probe([{ hostname: 'unknown.test', port: TLS_PORT }])).get(`unknown.test:${TLS_PORT}`);
    expect(status).toEqual({ hostname: 'unknown.test', served: false, message: expect.stringContaining('no certificate yet (Caddy is obtaining one)') });
  });

  it('reports a port nobody listens on, and a silent server after timeoutMs, without throwing', async () => {
    const probe = createCertificateProbe({ listenAddress: '127.0.0.1', timeoutMs: 200 });
    const result = await probe([
      { hostname: 'good.test', port: CLOSED_PORT },
      { hostname: 'good.test', port: SILENT_PORT },
    ]);
    expect(result.get(`good.test:${CLOSED_PORT}`)).toEqual({ hostname: 'good.test', served: false, message: `nothing listens on 127.0.0.1:${CLOSED_PORT} yet` });
    expect(result.get(`good.test:${SILENT_PORT}`)).toEqual({ hostname: 'good.test', served: false, message: `no TLS answer from 127.0.0.1:${SILENT_PORT} within 200 ms` });
  });

  it('never rejects, even for an address that cannot be dialled', async () => {
    const probe = createCertificateProbe({ listenAddress: 'not an address', timeoutMs: 500 });
    const result = await probe([{ hostname: 'good.test', port: TLS_PORT }]);
    expect(result.get(`good.test:${TLS_PORT}`)?.served).toBe(false);
  });

  it('answers in target order with the same messages for the same state, so status files do not churn', async () => {
    const probe = createCertificateProbe({ listenAddress: '127.0.0.1', timeoutMs: 200 });
    const targets = [{ hostname: 'good.test', port: TLS_PORT }, { hostname: 'unknown.test', port: TLS_PORT }, { hostname: 'good.test', port: CLOSED_PORT }];
    const first = await probe(targets);
    expect([...first.keys()]).toEqual([`good.test:${TLS_PORT}`, `unknown.test:${TLS_PORT}`, `good.test:${CLOSED_PORT}`]);
    expect([...(await probe(targets)).entries()]).toEqual([...first.entries()]);
  });

  it('runs at most `concurrency` handshakes at once and answers every target', async () => {
    for (const socket of silentSockets) socket.destroy();
    silentSockets.clear();
    maxSilentAtOnce = 0;
    const probe = createCertificateProbe({ listenAddress: '127.0.0.1', timeoutMs: 150, concurrency: 2 });
    const targets = ['a.test', 'b.test', 'c.test', 'd.test', 'e.test'].map((hostname) => ({ hostname, port: SILENT_PORT }));
    const started = Date.now();
    const result = await probe(targets);
    expect(result.size).toBe(5);
    // Five silent servers, two at a time, each timing out after 150 ms: at least three rounds.
    // (The server's own count of open sockets can briefly exceed 2: a destroyed client socket
    // closes on the server side a little later.)
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 150 - 10);
    expect(maxSilentAtOnce).toBeLessThanOrEqual(3);
    expect(await probe([])).toEqual(new Map());
  });
});
