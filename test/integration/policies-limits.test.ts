/**
 * Per-rule limits end to end: real `ingressd run`, the Caddy under test (CADDY_BINARY), the real
 * instance DNS, a real backend on 127.0.0.2, real files and a real HTTP client, from more than one
 * loopback source address.
 * - rate_limit (a Caddy with http.handlers.rate_limit): exactly N requests pass in the window, the
 *   next gets 429 with Retry-After; client_ip keys each source address apart, header:X-Api-Key
 *   each header value; counters survive a config reload. On a Caddy without the module (Debian's
 *   2.6.2), the limited rule is Programmed=False CaddyModuleMissing and the other rule serves.
 * - timeouts (every Caddy): a backend that takes the request and never answers gets 504 after
 *   response_header; a dial that cannot complete (a listening socket whose accept queue is full:
 *   Linux drops further SYNs) gets 502 after dial, well before Caddy's default 3s; a refused port 502.
 * - compress (every Caddy): gzip to `Accept-Encoding: gzip`, zstd to `zstd` (decoded with the zstd
 *   tool) and when both are accepted, identity without; short and non-text responses untouched.
 * - a rule with every policy (built Caddys): denied requests get 403 without a login prompt and
 *   never count for the rate limit, nor do requests without credentials (401 with its error page);
 *   an oversized body counts and gets 413, past the limit 429 comes first (with its error page)
 *   and without the response headers; a served answer has them and is compressed.
 * - TRUSTED_PROXIES=127.0.0.1/32 (every Caddy): from 127.0.0.1 with `X-Forwarded-For: 127.0.0.3`
 *   a deny of 127.0.0.3 answers 403 and an allow list sees the forwarded address; an untrusted
 *   peer's X-Forwarded-For is ignored; the rate limit counts forwarded clients apart; the target
 *   sees the forwarded chain. Which address of a longer chain counts differs by version (2.8+:
 *   the rightmost untrusted; 2.6.2: the leftmost).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { SINCE } from '../../src/model/caddy-version.js';
import { CADDY, CADDY_INFO, isCaddyAtLeast } from '../helpers/caddy-under-test.js';
import { condition, freePort, killDaemons, readStatus, removeDir, startBackend, startIngressd, tempDir, waitFor, waitReady, writeJson, type Backend, type IngressdProcess } from '../helpers/processes.js';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One GET (a POST with `body`) through Caddy on 127.0.0.1:`port`, from `from` (127.0.0.1 unless given), with extra headers. */
function ask(port: number, host: string, options: { readonly path?: string; readonly headers?: Record<string, string>; readonly from?: string; readonly timeoutMs?: number; readonly body?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.body === undefined ? 'GET' : 'POST', path: options.path ?? '/', localAddress: options.from ?? '127.0.0.1', headers: { host, ...options.headers }, agent: false, timeout: options.timeoutMs ?? 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // Caddy may answer 413 and close before the whole body is sent: its answer still arrives.
    if (options.body !== undefined) req.on('error', () => undefined);
    req.end(options.body);
  });
}

/** A bcrypt hash of `password` from the Caddy under test (cost 4: the built Caddys take --bcrypt-cost). */
function bcryptOf(password: string): string {
  return execFileSync(CADDY, ['hash-password', '--algorithm', 'bcrypt', '--bcrypt-cost', '4', '--plaintext', password], { encoding: 'utf8' }).trim();
}

const TEXT = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(100));

const hasRateLimit = CADDY_INFO.modules.includes('http.handlers.rate_limit');
/** A Caddy that serves every policy of this version: the rate-limit module and 413 for bodies (2.7+). */
const everyPolicy = hasRateLimit && isCaddyAtLeast(SINCE.requestBody413);

/**
 * A TCP port on `host` that never completes a connection: a socket listening with backlog 0 that
 * never accepts (Python's, since Node accepts by itself), its one queue slot filled by `fillers`.
 */
async function unreachablePort(host: string, port: number): Promise<{ stop(): void }> {
  const code = `import socket,sys,time\ns=socket.socket()\ns.bind(('${host}',${port}))\ns.listen(0)\nprint('ready',flush=True)\ntime.sleep(3600)`;
  const child: ChildProcess = spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', () => resolve());
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 3; i++) fillers.push(connect({ host, port }).on('error', () => undefined));
  await waitFor('accept queue full', () => (fillers.filter((s) => !s.connecting).length >= 1 ? true : undefined), 5000);
  return {
    stop() {
      for (const s of fillers) s.destroy();
      if (child.pid !== undefined) child.kill('SIGKILL');
    },
  };
}

describe('limits through the Caddy under test', () => {
  let dir: string;
  let dataDir: string;
  let http: number;
  let backendPort: number;
  let ingressd: IngressdProcess;
  let backend: Backend;
  let silent: Server;
  let text: Server;
  let unreachable: { stop(): void } | undefined;

  beforeAll(async () => {
    const [admin, dns, api] = [await freePort(), await freePort(), await freePort()];
    [http, backendPort] = [await freePort(), await freePort()];
    dir = await tempDir('limits-manifests');
    dataDir = await tempDir('limits-data');
    backend = await startBackend('app', '127.0.0.2', backendPort);
    const to = { instance: 'app', port: backendPort };
    await writeJson(join(dir, 'app.instance.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'rate.ingress.json'), {
      kind: 'Ingress',
      name: 'rate',
      rules: [
        { match: { hostname: 'rate.localhost', port: http }, target: to, rate_limit: { requests: 3, window: '1m' } },
        { match: { hostname: 'keyed.localhost', port: http }, target: to, rate_limit: { requests: 2, window: '1m', key: 'header:X-Api-Key' } },
        // Served in the same config write as the limited rules: waiting on it spends none of their requests.
        { match: { hostname: 'open.localhost', port: http }, target: to },
      ],
    });
    const [silentPort, unreachablePortNumber, refusedPort] = [await freePort(), await freePort(), await freePort()];
    // Takes every request and never answers it.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.2', () => resolve()));
    unreachable = await unreachablePort('127.0.0.2', unreachablePortNumber);
    await writeJson(join(dir, 'timeouts.ingress.json'), {
      kind: 'Ingress',
      name: 'timeouts',
      rules: [
        { match: { hostname: 'slow.localhost', port: http }, target: { instance: 'app', port: silentPort }, timeouts: { response_header: '500ms' } },
        { match: { hostname: 'stuck.localhost', port: http }, target: { instance: 'app', port: unreachablePortNumber }, timeouts: { dial: '500ms' } },
        { match: { hostname: 'refused.localhost', port: http }, target: { instance: 'app', port: refusedPort }, timeouts: { dial: '500ms', response_header: '5s' } },
        { match: { hostname: 'timed.localhost', port: http }, target: to, timeouts: { dial: '500ms', response_header: '500ms' } },
      ],
    });
    const textPort = await freePort();
    // 4,500 bytes of text on /, 100 on /small, 4,500 PNG-typed bytes on /png.
    text = createServer((req, res) => {
      const [type, size] = req.url === '/png' ? ['image/png', TEXT.length] : ['text/plain; charset=utf-8', req.url === '/small' ? 100 : TEXT.length];
      res.setHeader('content-type', type);
      res.end(TEXT.subarray(0, size));
    });
    await new Promise<void>((resolve) => text.listen(textPort, '127.0.0.2', () => resolve()));
    await writeJson(join(dir, 'compress.ingress.json'), {
      kind: 'Ingress',
      name: 'compress',
      rules: [{ match: { hostname: 'compress.localhost', port: http }, target: { instance: 'app', port: textPort }, compress: true }],
    });
    if (everyPolicy) {
      await writeJson(join(dir, 'all.ingress.json'), {
        kind: 'Ingress',
        name: 'all',
        rules: [
          {
            match: { hostname: 'all.localhost', port: http },
            target: { instance: 'app', port: textPort },
            deny_ips: ['127.0.0.3'],
            allow_ips: ['127.0.0.0/8'],
            basic_auth: { realm: 'all', users: [{ username: 'alice', password_hash: bcryptOf('secret') }] },
            rate_limit: { requests: 3, window: '1m', key: 'header:X-Api-Key' },
            max_request_body: '1KB',
            headers: { request: { set: { 'X-Tenant': 'all' } }, response: { set: { 'X-Frame-Options': 'DENY' } } },
            compress: true,
            timeouts: { dial: '1s', response_header: '5s' },
            error_pages: { '401': { body: 'who are you?', content_type: 'text/plain' }, '429': { body: 'slow down', content_type: 'text/plain' } },
          },
        ],
      });
    }
    ingressd = startIngressd({ dir, dataDir, ports: { admin, dns, api }, env: { CADDY_BINARY: CADDY, RESYNC_INTERVAL: '2s' } });
    await waitReady(ingressd);
    await waitFor('open.localhost served', async () => ((await ask(http, 'open.localhost').catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
  }, 60_000);

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    unreachable?.stop();
    silent?.closeAllConnections();
    text?.close();
    silent?.close();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  (hasRateLimit ? test.skip : test)('without http.handlers.rate_limit: the limited rules are CaddyModuleMissing naming the module, the other rule serves', async () => {
    const status = await waitFor('CaddyModuleMissing', async () => {
      const s = await readStatus(dir, 'rate.ingress');
      return condition(s, 'Programmed')?.reason === 'CaddyModuleMissing' ? s : undefined;
    }, 15_000);
    expect(condition(status, 'Programmed')?.status).toBe('False');
    expect(condition(status, 'Programmed')?.message).toContain('http.handlers.rate_limit');
    expect(condition(status, 'Programmed')?.message).toContain('npm run build:caddy');
    expect((await ask(http, 'rate.localhost')).status).not.toBe(200);
    expect((await ask(http, 'open.localhost')).status).toBe(200);
  });

  (hasRateLimit ? test : test.skip)('rate_limit client_ip: exactly 3 requests pass in the window, the 4th gets 429 with Retry-After; another address has its own count', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await ask(http, 'rate.localhost')).status);
    const refused = await ask(http, 'rate.localhost');
    expect([...statuses, refused.status]).toEqual([200, 200, 200, 429]);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(61);
    // The backend never saw the refused request: Caddy answered it, with an empty body.
    expect(refused.body.toString()).toBe('');
    expect((await ask(http, 'rate.localhost', { from: '127.0.0.3' })).status).toBe(200);
    // The other rules of the ingress and port have no limit.
    for (let i = 0; i < 5; i++) expect((await ask(http, 'open.localhost')).status).toBe(200);
  });

  (hasRateLimit ? test : test.skip)('rate_limit header:X-Api-Key: one count per header value', async () => {
    const key = (k: string): Promise<number> => ask(http, 'keyed.localhost', { headers: { 'x-api-key': k } }).then((a) => a.status);
    expect([await key('alpha'), await key('alpha'), await key('alpha')]).toEqual([200, 200, 429]);
    expect([await key('beta'), await key('beta'), await key('beta')]).toEqual([200, 200, 429]);
    // From another address, the same key is the same count.
    expect((await ask(http, 'keyed.localhost', { headers: { 'x-api-key': 'alpha' }, from: '127.0.0.3' })).status).toBe(429);
  });

  (hasRateLimit ? test : test.skip)('rate_limit counters survive a config reload that leaves the rule alone', async () => {
    expect((await ask(http, 'rate.localhost')).status).toBe(429);
    await writeJson(join(dir, 'reload.ingress.json'), { kind: 'Ingress', name: 'reload', rules: [{ match: { hostname: 'reload.localhost', port: http }, target: { instance: 'app', port: backendPort } }] });
    await waitFor('reload.localhost served', async () => ((await ask(http, 'reload.localhost').catch(() => undefined))?.status === 200 ? true : undefined), 15_000);
    expect((await ask(http, 'rate.localhost')).status).toBe(429);
    const status = await readStatus(dir, 'rate.ingress');
    const routes = (status?.routes ?? []) as { hostname: string; policies?: unknown }[];
    expect(routes.find((r) => r.hostname === 'rate.localhost')?.policies).toEqual([{ policy: 'rate_limit', effect: '3 requests per 1m per client IP; more get 429 with Retry-After' }]);
  });

  test('timeouts: 504 after response_header from a target that never answers, 502 after dial from one that never connects, 502 from a refused port', async () => {
    const timed = async (host: string): Promise<{ status: number; ms: number }> => {
      const start = performance.now();
      const answer = await ask(http, host, { timeoutMs: 10_000 });
      return { status: answer.status, ms: performance.now() - start };
    };
    await waitFor('timed.localhost served', async () => ((await ask(http, 'timed.localhost').catch(() => undefined))?.status === 200 ? true : undefined), 15_000);
    const slow = await timed('slow.localhost');
    expect(slow.status).toBe(504);
    expect(slow.ms).toBeGreaterThanOrEqual(450);
    const stuck = await timed('stuck.localhost');
    expect(stuck.status).toBe(502);
    expect(stuck.ms).toBeGreaterThanOrEqual(450);
    // Well under Caddy's default dial timeout (3s): the policy's 500ms applied.
    expect(stuck.ms).toBeLessThan(2500);
    expect((await timed('refused.localhost')).status).toBe(502);
    const status = await readStatus(dir, 'timeouts.ingress');
    const routes = (status?.routes ?? []) as { hostname: string; policies?: unknown }[];
    expect(routes.find((r) => r.hostname === 'slow.localhost')?.policies).toEqual([{ policy: 'timeouts', effect: 'response headers later than 500ms get 504' }]);
  }, 30_000);

  test('compress: gzip to Accept-Encoding gzip, zstd to zstd and to both, identity without; short and image responses as they are', async () => {
    const fetchWith = (encoding: string | undefined, path = '/'): Promise<Answer> => ask(http, 'compress.localhost', { path, headers: encoding === undefined ? {} : { 'accept-encoding': encoding } });
    await waitFor('compress.localhost served', async () => ((await fetchWith(undefined).catch(() => undefined))?.status === 200 ? true : undefined), 15_000);
    const gzip = await fetchWith('gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers['vary']).toContain('Accept-Encoding');
    expect(gzip.body.length).toBeLessThan(TEXT.length / 4);
    expect(gunzipSync(gzip.body).equals(TEXT)).toBe(true);
    const zstd = await fetchWith('zstd');
    expect(zstd.headers['content-encoding']).toBe('zstd');
    expect(execFileSync('zstd', ['-d', '-c'], { input: zstd.body }).equals(TEXT)).toBe(true);
    expect((await fetchWith('gzip, zstd')).headers['content-encoding']).toBe('zstd');
    const identity = await fetchWith(undefined);
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(identity.body.equals(TEXT)).toBe(true);
    const small = await fetchWith('gzip', '/small');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body.equals(TEXT.subarray(0, 100))).toBe(true);
    expect((await fetchWith('gzip', '/png')).headers['content-encoding']).toBeUndefined();
    const status = await readStatus(dir, 'compress.ingress');
    expect(((status?.routes ?? []) as { policies?: { policy: string }[] }[])[0]?.policies?.map((p) => p.policy)).toEqual(['compress']);
  });
  (everyPolicy ? test : test.skip)('a rule with every policy applies them in order: IP filter, basic auth, rate limit, body limit, headers, compress, proxy; error pages answer', async () => {
    const credentials = `Basic ${Buffer.from('alice:secret').toString('base64')}`;
    const all = (key: string, options: { readonly from?: string; readonly body?: Buffer; readonly gzip?: boolean; readonly anonymous?: boolean } = {}): Promise<Answer> =>
      ask(http, 'all.localhost', {
        from: options.from,
        body: options.body,
        headers: { 'x-api-key': key, ...(options.anonymous === true ? {} : { authorization: credentials }), ...(options.gzip === true ? { 'accept-encoding': 'gzip' } : {}) },
      });
    await waitFor('all.localhost served', async () => ((await all('probe').catch(() => undefined))?.status === 200 ? true : undefined), 15_000);
    // IP filter first: denied requests get no login prompt and never reach the rate limit.
    for (let i = 0; i < 4; i++) {
      const denied = await all('k', { from: '127.0.0.3', anonymous: i % 2 === 0 });
      expect([denied.status, denied.headers['www-authenticate']]).toEqual([403, undefined]);
    }
    // Basic auth next: without credentials, 401 with its page, and still none of key "k"'s 3 spent.
    for (let i = 0; i < 4; i++) {
      const anonymous = await all('k', { anonymous: true });
      expect([anonymous.status, anonymous.headers['www-authenticate'], anonymous.body.toString()]).toEqual([401, 'Basic realm="all"', 'who are you?']);
    }
    // Rate limit before the body limit: an oversized body counts and is then refused 413 ...
    expect((await all('k', { body: Buffer.alloc(2000, 0x61) })).status).toBe(413);
    // ... a served request has the response headers and is compressed (text above 512 bytes) ...
    const served = await all('k', { body: Buffer.alloc(1000, 0x61), gzip: true });
    expect(served.status).toBe(200);
    expect(served.headers['x-frame-options']).toBe('DENY');
    expect(served.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(served.body).equals(TEXT)).toBe(true);
    expect((await all('k')).status).toBe(200);
    // ... and past the limit the rate limit answers before the body limit would, and before headers run.
    const limited = await all('k', { body: Buffer.alloc(2000, 0x61) });
    expect([limited.status, limited.body.toString(), limited.headers['retry-after']]).toEqual([429, 'slow down', expect.stringMatching(/^\d+$/)]);
    expect(limited.headers['x-frame-options']).toBeUndefined();
    const status = await readStatus(dir, 'all.ingress');
    expect(((status?.routes ?? []) as { policies?: { policy: string }[] }[])[0]?.policies?.map((p) => p.policy)).toEqual(['deny_ips', 'allow_ips', 'basic_auth', 'rate_limit', 'max_request_body', 'headers', 'compress', 'timeouts', 'error_pages']);
  });
});

describe('TRUSTED_PROXIES through the Caddy under test', () => {
  let dir: string;
  let dataDir: string;
  let http: number;
  let ingressd: IngressdProcess;
  let echo: Server;

  beforeAll(async () => {
    const [admin, dns, api, echoPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    http = await freePort();
    dir = await tempDir('trusted-manifests');
    dataDir = await tempDir('trusted-data');
    // Answers the request headers it got, as JSON.
    echo = createServer((req, res) => res.end(JSON.stringify(req.headers)));
    await new Promise<void>((resolve) => echo.listen(echoPort, '127.0.0.2', () => resolve()));
    const to = { instance: 'app', port: echoPort };
    await writeJson(join(dir, 'app.instance.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'filter.ingress.json'), {
      kind: 'Ingress',
      name: 'filter',
      rules: [
        { match: { hostname: 'deny.localhost', port: http }, target: to, deny_ips: ['127.0.0.3'] },
        { match: { hostname: 'allow.localhost', port: http }, target: to, allow_ips: ['127.0.0.5'] },
        { match: { hostname: 'plain.localhost', port: http }, target: to },
      ],
    });
    if (hasRateLimit) {
      await writeJson(join(dir, 'rate.ingress.json'), { kind: 'Ingress', name: 'rate', rules: [{ match: { hostname: 'rate.localhost', port: http }, target: to, rate_limit: { requests: 2, window: '1m' } }] });
    }
    ingressd = startIngressd({ dir, dataDir, ports: { admin, dns, api }, env: { CADDY_BINARY: CADDY, RESYNC_INTERVAL: '2s', TRUSTED_PROXIES: '127.0.0.1/32' } });
    await waitReady(ingressd);
    await waitFor('plain.localhost served', async () => ((await ask(http, 'plain.localhost').catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
    if (hasRateLimit) await waitFor('rate.localhost served', async () => ((await ask(http, 'rate.localhost', { headers: { 'x-forwarded-for': '127.0.0.99' } }).catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
  }, 60_000);

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    echo?.closeAllConnections();
    echo?.close();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  const from = async (host: string, source: string, forwardedFor?: string): Promise<number> =>
    (await ask(http, host, { from: source, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } })).status;

  test('the IP filter sees the forwarded client of a trusted peer, and the TCP peer of any other', async () => {
    expect(await from('deny.localhost', '127.0.0.1', '127.0.0.3')).toBe(403);
    expect(await from('deny.localhost', '127.0.0.1')).toBe(200);
    expect(await from('deny.localhost', '127.0.0.1', '127.0.0.4')).toBe(200);
    // An untrusted peer's X-Forwarded-For is ignored, both ways.
    expect(await from('deny.localhost', '127.0.0.4', '127.0.0.3')).toBe(200);
    expect(await from('deny.localhost', '127.0.0.3', '127.0.0.4')).toBe(403);
    expect(await from('allow.localhost', '127.0.0.1', '127.0.0.5')).toBe(200);
    expect(await from('allow.localhost', '127.0.0.1', '127.0.0.6')).toBe(403);
    expect(await from('allow.localhost', '127.0.0.4', '127.0.0.5')).toBe(403);
    expect(await from('allow.localhost', '127.0.0.5')).toBe(200);
  });

  test('in a longer X-Forwarded-For chain, 2.8+ takes the rightmost untrusted address, older Caddy the leftmost', async () => {
    // A client behind the trusted proxy sent "X-Forwarded-For: 127.0.0.3"; the proxy appended 127.0.0.6.
    const expected = isCaddyAtLeast(SINCE.trustedProxiesStrict) ? 200 : 403;
    expect(await from('deny.localhost', '127.0.0.1', '127.0.0.3, 127.0.0.6')).toBe(expected);
  });

  test('the target sees the trusted chain with the peer appended, or only the peer of an untrusted one', async () => {
    const seen = async (source: string): Promise<Record<string, string>> => JSON.parse((await ask(http, 'plain.localhost', { from: source, headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'front.example' } })).body.toString()) as Record<string, string>;
    const trusted = await seen('127.0.0.1');
    expect(trusted['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(trusted['x-forwarded-host']).toBe('front.example');
    expect(trusted['x-forwarded-proto']).toBe('http');
    const untrusted = await seen('127.0.0.4');
    expect(untrusted['x-forwarded-for']).toBe('127.0.0.4');
    expect(untrusted['x-forwarded-host']).toBe('plain.localhost');
  });

  (hasRateLimit ? test : test.skip)('the rate limit counts each forwarded client of a trusted peer apart', async () => {
    const statuses = async (xff: string): Promise<number[]> => [await from('rate.localhost', '127.0.0.1', xff), await from('rate.localhost', '127.0.0.1', xff), await from('rate.localhost', '127.0.0.1', xff)];
    expect(await statuses('127.0.0.7')).toEqual([200, 200, 429]);
    expect(await statuses('127.0.0.8')).toEqual([200, 200, 429]);
  });
});
