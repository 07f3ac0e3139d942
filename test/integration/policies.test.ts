/**
 * Per-rule policies end to end: real `ingressd run`, the Caddy under test (CADDY_BINARY), the real
 * instance DNS, a real backend on 127.0.0.2 that answers how many body bytes it received, real
 * files and a real HTTP client.
 * - max_request_body: a body at the limit reaches the backend; one byte above gets 413 from Caddy
 *   (with and without a Content-Length), and a rule without the policy on the same port takes it.
 * - allow_ips / deny_ips: requests from a second loopback source address (127.0.0.3) get 403
 *   where they are denied or not allowed, while 127.0.0.1 is served (and the reverse), on every Caddy.
 * - headers: set, add and delete on the request (as the backend sees it) and on the response
 *   (over and instead of headers the backend sent), on every Caddy.
 * - Status routes[] lists the policy; a body limit of "ten" is refused with its pointer.
 * - On a Caddy before 2.7 (Debian's 2.6.2, which answers an oversized body with 502), the limited
 *   rule is Programmed=False CaddyTooOld and the other rule of the ingress serves.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { SINCE } from '../../src/model/caddy-version.js';
import { CADDY, isCaddyAtLeast } from '../helpers/caddy-under-test.js';
import { condition, freePort, get, killDaemons, readStatus, removeDir, startIngressd, tempDir, waitFor, waitReady, writeJson, type IngressdProcess } from '../helpers/processes.js';
import { statusSchema } from '../helpers/status-schema.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** POST `size` bytes to `host` through Caddy; `chunked` leaves Content-Length out. */
function post(port: number, host: string, size: number, chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { host, 'content-type': 'application/octet-stream' };
    if (!chunked) headers['content-length'] = size;
    const req = httpRequest({ host: '127.0.0.1', port, path: '/upload', method: 'POST', headers, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // Caddy may answer 413 and close before the whole body is sent: that is its answer, not an error.
    req.on('error', () => undefined);
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024), 0x61);
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/** GET /headers with extra request headers; the answer's status, body and headers. */
function getWith(port: number, host: string, headers: Record<string, string>): Promise<Answer & { headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/headers', headers: { host, ...headers }, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** GET / from `localAddress` (another loopback source address), with extra headers. */
function getFrom(port: number, host: string, localAddress: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', localAddress, headers: { host, ...headers }, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Answers `<name> <bytes received>`; on /headers, the request headers it got as JSON, with `x-powered-by` and `x-upstream` set. */
function countingBackend(name: string, host: string, port: number): { start(): Promise<void>; stop(): Promise<void> } {
  let server: Server | undefined;
  return {
    async start() {
      const s = createServer((req, res) => {
        let bytes = 0;
        req.on('data', (c: Buffer) => (bytes += c.length));
        req.on('end', () => {
          if (req.url !== '/headers') return res.end(`${name} ${bytes}`);
          res.setHeader('x-powered-by', 'node');
          res.setHeader('x-upstream', name);
          res.setHeader('content-type', 'application/json');
          return res.end(JSON.stringify(req.headers));
        });
      });
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, host, () => resolve()));
      server = s;
    },
    async stop() {
      const s = server;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

describe('policies through the Caddy under test', () => {
  let dir: string;
  let dataDir: string;
  let http: number;
  let ingressd: IngressdProcess;
  let backend: ReturnType<typeof countingBackend>;

  beforeAll(async () => {
    const [admin, dns, api, backendPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    http = await freePort();
    dir = await tempDir('policies-manifests');
    dataDir = await tempDir('policies-data');
    backend = countingBackend('app', '127.0.0.2', backendPort);
    await backend.start();
    await writeJson(join(dir, 'app.instance.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'limited.ingress.json'), {
      kind: 'Ingress',
      name: 'limited',
      rules: [
        { match: { hostname: 'limited.localhost', port: http }, target: { instance: 'app', port: backendPort }, max_request_body: '1KB' },
        { match: { hostname: 'open.localhost', port: http }, target: { instance: 'app', port: backendPort } },
      ],
    });
    await writeJson(join(dir, 'ips.ingress.json'), {
      kind: 'Ingress',
      name: 'ips',
      rules: [
        { match: { hostname: 'allow.localhost', port: http }, target: { instance: 'app', port: backendPort }, allow_ips: ['127.0.0.1/32', '::1'] },
        { match: { hostname: 'deny.localhost', port: http }, target: { instance: 'app', port: backendPort }, deny_ips: ['127.0.0.3', '10.0.0.0/8'] },
        // deny_ips is checked before allow_ips: 127.0.0.3 is inside the allowed /8 but denied.
        { match: { hostname: 'both.localhost', port: http }, target: { instance: 'app', port: backendPort }, allow_ips: ['127.0.0.0/8'], deny_ips: ['127.0.0.3/32'] },
      ],
    });
    await writeJson(join(dir, 'headers.ingress.json'), {
      kind: 'Ingress',
      name: 'headers',
      rules: [
        {
          match: { hostname: 'headers.localhost', port: http },
          target: { instance: 'app', port: backendPort },
          headers: {
            request: { set: { 'X-Tenant': 'blue' }, add: { 'X-Extra': 'one' }, delete: ['X-Secret'] },
            response: { set: { 'X-Upstream': 'hidden', 'X-Frame-Options': 'DENY' }, delete: ['X-Powered-By'] },
          },
        },
      ],
    });
    await writeJson(join(dir, 'bad.ingress.json'), {
      kind: 'Ingress',
      name: 'bad',
      rules: [{ match: { hostname: 'bad.localhost', port: http }, target: { instance: 'app', port: backendPort }, max_request_body: 'ten' }],
    });
    ingressd = startIngressd({ dir, dataDir, ports: { admin, dns, api }, env: { CADDY_BINARY: CADDY, RESYNC_INTERVAL: '2s' } });
    await waitReady(ingressd);
    const served = isCaddyAtLeast(SINCE.requestBody413) ? 'limited.localhost' : 'open.localhost';
    await waitFor(`${served} served`, async () => ((await get(http, served).catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
  }, 60_000);

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.stop();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  const bodyLimits = isCaddyAtLeast(SINCE.requestBody413);

  (bodyLimits ? test.skip : test)('before Caddy 2.7: the body-limited rule is CaddyTooOld, the other rule serves', async () => {
    const status = await waitFor('CaddyTooOld', async () => {
      const s = await readStatus(dir, 'limited.ingress');
      return condition(s, 'Programmed')?.reason === 'CaddyTooOld' ? s : undefined;
    }, 15_000);
    expect(condition(status, 'Programmed')?.message).toContain('max_request_body');
    expect((await get(http, 'limited.localhost')).status).not.toBe(200);
    expect(await post(http, 'open.localhost', 2000)).toEqual({ status: 200, body: 'app 2000' });
  });

  (bodyLimits ? test : test.skip)('max_request_body: 1KB passes 1000 bytes and refuses 1001 with 413, with or without Content-Length', async () => {
    expect(await post(http, 'limited.localhost', 1000)).toEqual({ status: 200, body: 'app 1000' });
    expect((await post(http, 'limited.localhost', 1001)).status).toBe(413);
    expect(await post(http, 'limited.localhost', 1000, true)).toEqual({ status: 200, body: 'app 1000' });
    expect((await post(http, 'limited.localhost', 200_000, true)).status).toBe(413);
    // The other rule of the same ingress and port has no limit.
    expect(await post(http, 'open.localhost', 200_000)).toEqual({ status: 200, body: 'app 200000' });
  });

  test('allow_ips and deny_ips: 403 by the TCP peer address, the rest served', async () => {
    const from = async (host: string, source: string): Promise<number> => (await getFrom(http, host, source)).status;
    await waitFor('ips served', async () => ((await getFrom(http, 'deny.localhost', '127.0.0.1').catch(() => undefined))?.status === 200 ? true : undefined), 15_000);
    expect(await from('allow.localhost', '127.0.0.1')).toBe(200);
    expect(await from('allow.localhost', '127.0.0.3')).toBe(403);
    expect(await from('deny.localhost', '127.0.0.3')).toBe(403);
    expect(await from('deny.localhost', '127.0.0.1')).toBe(200);
    expect(await from('both.localhost', '127.0.0.3')).toBe(403);
    expect(await from('both.localhost', '127.0.0.4')).toBe(200);
    // A forged X-Forwarded-For does not get a denied peer in.
    expect((await getFrom(http, 'allow.localhost', '127.0.0.3', { 'x-forwarded-for': '127.0.0.1' })).status).toBe(403);
  });

  test('headers: set, add and delete on both sides', async () => {
    const answer = await waitFor('headers.localhost served', async () => {
      const a = await getWith(http, 'headers.localhost', { 'x-secret': 'token', 'x-tenant': 'red', 'x-extra': 'zero', 'x-forwarded-for': '203.0.113.9' }).catch(() => undefined);
      return a?.status === 200 ? a : undefined;
    }, 15_000);
    const seen = JSON.parse(answer.body) as Record<string, string>;
    expect(seen['x-tenant']).toBe('blue');
    expect(seen['x-extra']).toBe('zero, one');
    expect(seen['x-secret']).toBeUndefined();
    // The client's X-Forwarded-For is replaced by the TCP peer (no trusted proxies).
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(answer.headers['x-upstream']).toBe('hidden');
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect(answer.headers['x-powered-by']).toBeUndefined();
    const status = await waitFor('headers status', async () => readStatus(dir, 'headers.ingress'), 10_000);
    const routes = (status.routes ?? []) as { policies?: unknown }[];
    expect(statusSchema(status)).toBe(true);
    expect(routes[0]?.policies).toEqual([{ policy: 'headers', effect: 'request: set X-Tenant, add X-Extra, delete X-Secret; response: set X-Frame-Options, X-Upstream, delete X-Powered-By' }]);
  });

  (bodyLimits ? test : test.skip)('status lists the policy; a body limit of "ten" is refused with its pointer', async () => {
    const status = await readStatus(dir, 'limited.ingress');
    expect(statusSchema(status)).toBe(true);
    const routes = (status?.routes ?? []) as { hostname: string; policies?: unknown }[];
    expect(routes.find((r) => r.hostname === 'limited.localhost')?.policies).toEqual([{ policy: 'max_request_body', effect: 'bodies above 1KB (1000 bytes) get 413' }]);
    expect(routes.find((r) => r.hostname === 'open.localhost')?.policies).toBeUndefined();
    const bad = await waitFor('bad status', async () => readStatus(dir, 'bad.ingress'), 10_000);
    expect(condition(bad, 'Accepted')?.status).toBe('False');
    expect(bad?.errors.map((e) => e.path)).toContain('/rules/0/max_request_body');
  });
});
