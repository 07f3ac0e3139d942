/**
 * Routing end to end: real `ingressd run`, the Caddy under test, the real instance DNS, real
 * backends on 127.0.0.x (each answering its name and the path it saw), real files.
 * - Path rules of two files on one host in the right order (exact, longest prefix, catch-all;
 *   `/apis` never matched by `/api`), a stripped prefix as the backend sees it.
 * - round_robin over two targets, weighted_round_robin 3:1 (Caddy 2.7+; CaddyTooOld on older ones,
 *   the other rules serving), an active health check taking a killed target out and back in,
 *   passive checks, retries over a dead target.
 * - The same host+path in a second file: hostname_in_use naming the holder and the path.
 * - A pattern host's path rule over template targets, and a literal host's own rule winning over it.
 * - A moved instance takes its share of a two-target rule with no Caddy write; a WebSocket through
 *   a path rule with two targets.
 * - With Debian's Caddy 2.6.2 as well: the weighted rule is CaddyTooOld and the others serve.
 * - HTTP/2 over TLS (a certificate from Pebble, a real ACME CA) through a path rule with two targets.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { WebSocket, WebSocketServer } from 'ws';
import { join } from 'node:path';
import { SINCE } from '../../src/model/caddy-version.js';
import { CADDY, DEBIAN_CADDY, isCaddyAtLeast } from '../helpers/caddy-under-test.js';
import { callApi } from '../helpers/api-client.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { caddyWrites, condition, freePort, get, killDaemons, readStatus, removeDir, startIngressd, tempDir, waitFor, waitReady, writeJson, type IngressdProcess } from '../helpers/processes.js';
import { statusSchema } from '../helpers/status-schema.js';

/** A backend answering `<name> <path>`; `/healthz` answers 200 while `healthy`, else 503. */
interface PathBackend {
  readonly name: string;
  healthy: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function pathBackend(name: string, host: string, port: number): PathBackend {
  let server: Server | undefined;
  const backend: PathBackend = {
    name,
    healthy: true,
    async start() {
      const s = createServer((req, res) => {
        if (req.url === '/healthz') res.statusCode = backend.healthy ? 200 : 503;
        res.setHeader('content-type', 'text/plain');
        res.end(`${name} ${req.url ?? ''}`);
      });
      s.keepAliveTimeout = 60_000;
      // WebSockets on any path: every message comes back as `<name> <path> <message>`.
      new WebSocketServer({ server: s }).on('connection', (socket, req) => {
        socket.on('message', (data: Buffer) => socket.send(`${name} ${req.url ?? ''} ${data.toString()}`));
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, host, () => resolve()));
      server = s;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  return backend;
}

interface Site {
  dir: string;
  dataDir: string;
  http: number;
  api: number;
  backendPort: number;
  ingressd: IngressdProcess;
}

async function startSite(prefix: string, caddy: string, env: Readonly<Record<string, string>> = {}): Promise<Site> {
  const [admin, dns, http, backendPort, api] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = await tempDir(`${prefix}-manifests`);
  const dataDir = await tempDir(`${prefix}-data`);
  const ingressd = startIngressd({ dir, dataDir, ports: { admin, dns, api }, env: { CADDY_BINARY: caddy, RESYNC_INTERVAL: '2s', ...env } });
  await waitReady(ingressd);
  return { dir, dataDir, http, api, backendPort, ingressd };
}

async function stopSite(site: Site | undefined): Promise<void> {
  if (site === undefined) return;
  await site.ingressd.stop();
  await killDaemons(site.dataDir);
  await removeDir(site.dir);
  await removeDir(site.dataDir);
}

/** `count` requests one after another (a fresh connection each); answers by status and body's first word. */
async function tally(port: number, host: string, count: number, path = '/'): Promise<{ byBackend: Map<string, number>; failed: number; last: string[] }> {
  const byBackend = new Map<string, number>();
  let failed = 0;
  const last: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await get(port, host, path).catch((err: Error) => ({ status: 0, body: err.message }));
    const who = answer.status === 200 ? answer.body.split(' ')[0]! : `failed:${answer.status}`;
    if (answer.status !== 200) failed++;
    byBackend.set(who, (byBackend.get(who) ?? 0) + 1);
    last.push(who);
  }
  return { byBackend, failed, last };
}

/** `who` alternates between the two `names` (round_robin), starting with either. */
function expectAlternating(who: readonly string[], names: readonly [string, string]): void {
  const first = who[0] === names[0] ? names : ([names[1], names[0]] as const);
  expect(who).toEqual(who.map((_, i) => first[i % 2]));
}

async function waitStatus(dir: string, stem: string, check: (s: NonNullable<Awaited<ReturnType<typeof readStatus>>>) => boolean, what: string) {
  return waitFor(what, async () => {
    const s = await readStatus(dir, stem);
    return s !== undefined && check(s) ? s : undefined;
  }, 15_000);
}

const instances = (site: Site, names: Record<string, string>): Promise<void[]> =>
  Promise.all(Object.entries(names).map(([name, address]) => writeJson(join(site.dir, `${name}.instance.json`), { kind: 'Instance', name, address })));

describe('routing through the Caddy under test', () => {
  let site: Site;
  const backends: PathBackend[] = [];
  let a1: PathBackend;
  let a2: PathBackend;
  let web: PathBackend;
  let flaky: PathBackend;
  const weighted = isCaddyAtLeast(SINCE.weightedRoundRobin);

  beforeAll(async () => {
    site = await startSite('routing', CADDY);
    a1 = pathBackend('a1', '127.0.0.2', site.backendPort);
    a2 = pathBackend('a2', '127.0.0.3', site.backendPort);
    web = pathBackend('web', '127.0.0.4', site.backendPort);
    flaky = pathBackend('flaky', '127.0.0.6', site.backendPort);
    backends.push(a1, a2, web, flaky);
    for (const b of backends) await b.start();
    // dead (127.0.0.5): nothing listens there, every connection is refused.
    await instances(site, { a1: '127.0.0.2', a2: '127.0.0.3', web: '127.0.0.4', dead: '127.0.0.5', flaky: '127.0.0.6' });
  });

  afterAll(async () => {
    await stopSite(site);
    await Promise.all(backends.map((b) => b.stop()));
  });

  const target = (instance: string, extra: Record<string, unknown> = {}) => ({ instance, port: site.backendPort, ...extra });
  const match = (hostname: string, extra: Record<string, unknown> = {}) => ({ hostname, port: site.http, ...extra });

  test('path rules from two files share a host in match order; a stripped prefix reaches the backend stripped', async () => {
    await writeJson(join(site.dir, 'api.json'), {
      rules: [
        { match: match('shop.test', { path: '/api/v1' }), target: target('a1') },
        { match: match('shop.test', { path: '/api/' }), target: target('a2'), strip_path_prefix: true },
      ],
    });
    await writeJson(join(site.dir, 'web.json'), {
      rules: [
        { match: match('shop.test'), target: target('web') },
        { match: match('shop.test', { path: '/api/v1/health', path_type: 'exact' }), target: target('web') },
      ],
    });
    await waitFor('shop.test routes', async () => (await get(site.http, 'shop.test', '/api/v1/x')).body === 'a1 /api/v1/x' || undefined, 15_000);
    const seen: Record<string, string> = {};
    for (const path of ['/api/v1/x', '/api/v1', '/api/v1/', '/api/v1/health', '/api/v1/health/x', '/api', '/api/', '/api/foo/bar', '/apis', '/api-x', '/', '/other']) {
      seen[path] = (await get(site.http, 'shop.test', path)).body;
    }
    expect(seen).toEqual({
      '/api/v1/x': 'a1 /api/v1/x',
      '/api/v1': 'a1 /api/v1',
      '/api/v1/': 'a1 /api/v1/',
      '/api/v1/health': 'web /api/v1/health',
      '/api/v1/health/x': 'a1 /api/v1/health/x',
      '/api': 'a2 /',
      '/api/': 'a2 /',
      '/api/foo/bar': 'a2 /foo/bar',
      '/apis': 'web /apis',
      '/api-x': 'web /api-x',
      '/': 'web /',
      '/other': 'web /other',
    });
    const api = await waitStatus(site.dir, 'api', (s) => condition(s, 'Ready')?.status === 'True', 'api Ready');
    expect(statusSchema(api) ? [] : statusSchema.errors).toEqual([]);
    expect(api.routes).toEqual([
      expect.objectContaining({ hostname: 'shop.test', path: '/api/v1', pathType: 'prefix', targets: [{ upstream: 'a1.ingressd.internal', upstreamPort: site.backendPort }] }),
      expect.objectContaining({ hostname: 'shop.test', path: '/api', pathType: 'prefix', targets: [{ upstream: 'a2.ingressd.internal', upstreamPort: site.backendPort }] }),
    ]);
  });

  test('the same host, port and path in a second file is a conflict naming the holder and the path; the holder keeps serving', async () => {
    await writeJson(join(site.dir, 'zz-again.json'), { rules: [{ match: match('shop.test', { path: '/api' }), target: target('web') }] });
    const status = await waitStatus(site.dir, 'zz-again', (s) => s.errors.length > 0, 'zz-again refused');
    expect(status.errors.map((e) => `${e.code} ${e.path}`)).toEqual(['hostname_in_use /rules/0/match/hostname']);
    expect(status.errors[0]!.message).toContain('prefix path /api');
    expect(status.errors[0]!.message).toContain('"api" (api.json)');
    expect(condition(status, 'Accepted')?.reason).toBe('HostnameConflict');
    expect((await get(site.http, 'shop.test', '/api/x')).body).toBe('a2 /x');
  });

  test('round_robin shares 400 requests between two targets within 20%', async () => {
    await writeJson(join(site.dir, 'rr.json'), { rules: [{ match: match('rr.test'), targets: [target('a1'), target('a2')] }] });
    await waitFor('rr.test served', async () => (await get(site.http, 'rr.test')).status === 200 || undefined, 15_000);
    const { byBackend, failed } = await tally(site.http, 'rr.test', 400);
    expect(failed).toBe(0);
    expect(byBackend.get('a1')).toBeGreaterThanOrEqual(160);
    expect(byBackend.get('a2')).toBeGreaterThanOrEqual(160);
  });

  test(weighted ? 'weighted_round_robin 3:1 shares 400 requests within 15%' : 'weighted_round_robin on this Caddy (< 2.7) is CaddyTooOld and the other rules serve', async () => {
    await writeJson(join(site.dir, 'wrr.json'), {
      rules: [
        { match: match('wrr.test'), targets: [target('a1', { weight: 3 }), target('a2', { weight: 1 })], load_balancing: { policy: 'weighted_round_robin' } },
        { match: match('wrr.test', { path: '/plain' }), target: target('web') },
      ],
    });
    if (!weighted) {
      const status = await waitStatus(site.dir, 'wrr', (s) => condition(s, 'Programmed')?.status === 'False', 'wrr CaddyTooOld');
      expect(condition(status, 'Programmed')?.reason).toBe('CaddyTooOld');
      expect(condition(status, 'Programmed')?.message).toContain('/rules/0');
      await waitFor('the other rule served', async () => (await get(site.http, 'wrr.test', '/plain')).body === 'web /plain' || undefined, 15_000);
      expect((await get(site.http, 'wrr.test', '/')).status).toBe(404);
      return;
    }
    await waitFor('wrr.test served', async () => (await get(site.http, 'wrr.test')).status === 200 || undefined, 15_000);
    const { byBackend, failed } = await tally(site.http, 'wrr.test', 400);
    expect(failed).toBe(0);
    expect(Math.abs((byBackend.get('a1') ?? 0) - 300)).toBeLessThanOrEqual(45);
    expect(Math.abs((byBackend.get('a2') ?? 0) - 100)).toBeLessThanOrEqual(15);
  });

  test('retries take a request to the live target when the other refuses connections: no request fails', async () => {
    await writeJson(join(site.dir, 'retry.json'), { rules: [{ match: match('retry.test'), targets: [target('dead'), target('a1')], load_balancing: { retries: 2 } }] });
    await waitFor('retry.test served', async () => (await get(site.http, 'retry.test')).status === 200 || undefined, 15_000);
    const { byBackend, failed } = await tally(site.http, 'retry.test', 40);
    expect(failed).toBe(0);
    expect(byBackend.get('a1')).toBe(40);
  });

  test('passive checks take a failing target out after max_fails', async () => {
    await writeJson(join(site.dir, 'passive.json'), {
      rules: [{ match: match('passive.test'), targets: [target('a1'), target('dead')], health_check: { passive: { max_fails: 1, fail_duration: '1m' } } }],
    });
    await waitFor('passive.test served', async () => (await get(site.http, 'passive.test')).status === 200 || undefined, 15_000);
    const { failed, last } = await tally(site.http, 'passive.test', 40);
    // Without retries the request that hits dead fails once; after that dead gets nothing.
    expect(failed).toBeLessThanOrEqual(1);
    expect(last.slice(-30).every((who) => who === 'a1')).toBe(true);
  });

  test('an active health check takes a killed target out within interval + timeout, and back in when it recovers', async () => {
    await writeJson(join(site.dir, 'active.json'), {
      rules: [
        {
          match: match('active.test'),
          targets: [target('a2'), target('flaky')],
          health_check: { active: { path: '/healthz', interval: '300ms', timeout: '200ms', expect_status: 200 } },
        },
      ],
    });
    await waitFor('both targets serve', async () => {
      const { byBackend } = await tally(site.http, 'active.test', 4);
      return (byBackend.get('a2') ?? 0) > 0 && (byBackend.get('flaky') ?? 0) > 0 ? true : undefined;
    }, 15_000);
    await flaky.stop();
    // interval + timeout = 0.5 s; give it 1.5 s on this shared machine.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const during = await tally(site.http, 'active.test', 40);
    expect(during.failed).toBe(0);
    expect(during.byBackend.get('a2')).toBe(40);
    await flaky.start();
    await waitFor('flaky back in rotation', async () => ((await tally(site.http, 'active.test', 4)).byBackend.get('flaky') ?? 0) > 0 || undefined, 10_000);
    // A target that answers 503 on its health path is out too, though it still accepts connections.
    flaky.healthy = false;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await tally(site.http, 'active.test', 20)).byBackend.get('a2')).toBe(20);
  });

  test('a pattern host\'s path rule balances over template targets; a literal host\'s own rule still wins over it', async () => {
    await instances(site, { 'p1': '127.0.0.2', 'p1-b': '127.0.0.3' });
    await writeJson(join(site.dir, 'pattern.json'), {
      rules: [
        { match: match('{instance}.pat.test', { path: '/p' }), targets: [target('{instance}'), target('{instance}-b')], strip_path_prefix: true },
        { match: match('{instance}.pat.test'), target: target('{instance}') },
      ],
    });
    await writeJson(join(site.dir, 'literal.json'), { rules: [{ match: match('p1.pat.test'), target: target('web') }] });
    await waitFor('p1.pat.test served by its own rule', async () => (await get(site.http, 'p1.pat.test', '/q')).body === 'web /q' || undefined, 15_000);
    // An undeclared instance behind a pattern: Caddy answers 503 until it is declared.
    expect((await get(site.http, 'q.pat.test', '/p/x')).status).toBe(503);
    const viaPattern = await tally(site.http, 'p1.pat.test', 4, '/p/x');
    // p1.pat.test has a rule of its own (literal.json, every path): it wins over the pattern's path rule.
    expect(viaPattern.byBackend.get('web')).toBe(4);
    await writeJson(join(site.dir, 'literal.json'), { rules: [{ match: match('other.pat.test'), target: target('web') }] });
    await waitFor('p1 back on the pattern', async () => (await get(site.http, 'p1.pat.test', '/p/x')).body.startsWith('a') || undefined, 15_000);
    const balanced = await tally(site.http, 'p1.pat.test', 4, '/p/x');
    expect(balanced.failed).toBe(0);
    expect(balanced.byBackend.get('a1')).toBe(2);
    expect(balanced.byBackend.get('a2')).toBe(2);
    expect((await get(site.http, 'p1.pat.test', '/p/x')).body).toMatch(/^a[12] \/x$/);
    // Outside the path, the pattern's catch-all: instance p1 only.
    expect((await get(site.http, 'p1.pat.test', '/q')).body).toBe('a1 /q');
  });

  test('the HTTP API accepts and returns the routing fields, and refuses an undeclared target by its pointer', async () => {
    // The API refuses literal targets it does not know yet: wait until the instances are accepted.
    for (const name of ['a1', 'a2']) await waitStatus(site.dir, `${name}.instance`, (s) => condition(s, 'Ready')?.status === 'True', `${name} Ready`);
    const rules = [{ match: match('api.test', { path: '/v2', path_type: 'exact' }), targets: [target('a1', { weight: 2 }), target('a2')], load_balancing: { policy: 'weighted_round_robin', retries: 1 } }];
    const created = await callApi(site.api, '/ingresses', { method: 'POST', body: { name: 'via-api', rules } });
    expect(created.status).toBe(201);
    const view = created.json as { rules: unknown[]; status: { routes: unknown[] } };
    expect(statusSchema(view.status) ? [] : statusSchema.errors).toEqual([]);
    expect(view.rules).toEqual([{ ...rules[0], redirect_http: false, tls: false }]);
    expect(view.status.routes).toEqual([
      expect.objectContaining({ path: '/v2', pathType: 'exact', targets: [{ upstream: 'a1.ingressd.internal', upstreamPort: site.backendPort, weight: 2 }, { upstream: 'a2.ingressd.internal', upstreamPort: site.backendPort, weight: 1 }] }),
    ]);
    if (weighted) expect((await get(site.http, 'api.test', '/v2')).status).toBe(200);
    const missing = await callApi(site.api, '/ingresses', { method: 'POST', body: { name: 'ghostly', rules: [{ match: match('ghost.test'), targets: [target('a1'), target('ghost')] }] } });
    expect(missing.status).toBe(400);
    expect(missing.json).toMatchObject({ code: 'instance_not_found', message: expect.stringContaining('/rules/0/targets/1/instance: instance "ghost" not found') });
    const bad = await callApi(site.api, '/ingresses', { method: 'POST', body: { name: 'bad', rules: [{ match: match('bad.test', { path: 'nope' }), target: target('a1') }] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('/rules/0/match/path');
  });

  test('a moved instance takes its share of a two-target rule within about a second, with no Caddy write', async () => {
    await writeJson(join(site.dir, 'mover.instance.json'), { kind: 'Instance', name: 'mover', address: '127.0.0.3' });
    await writeJson(join(site.dir, 'move.json'), { rules: [{ match: match('move.test', { path: '/app' }), targets: [target('mover'), target('a1')] }] });
    await waitFor('move.test reaches a2 through mover', async () => ((await tally(site.http, 'move.test', 4, '/app')).byBackend.get('a2') ?? 0) > 0 || undefined, 15_000);
    await waitStatus(site.dir, 'move', (s) => condition(s, 'Ready')?.status === 'True', 'move Ready');
    const writes = await caddyWrites(site.dataDir);
    const started = Date.now();
    await writeJson(join(site.dir, 'mover.instance.json'), { kind: 'Instance', name: 'mover', address: '127.0.0.4' });
    await waitFor('mover answered by web', async () => ((await tally(site.http, 'move.test', 4, '/app')).byBackend.get('web') ?? 0) > 0 || undefined, 5000);
    expect(Date.now() - started).toBeLessThan(3000);
    const after = await tally(site.http, 'move.test', 20, '/app');
    expect(after.failed).toBe(0);
    expect(after.byBackend.get('a2')).toBeUndefined();
    await waitStatus(site.dir, 'mover.instance', (s) => condition(s, 'Programmed')?.message.includes('127.0.0.4') ?? false, 'mover status rewritten');
    expect(await caddyWrites(site.dataDir)).toBe(writes);
  });

  test('a WebSocket goes through a path rule with two targets, on each of them', async () => {
    await writeJson(join(site.dir, 'ws.json'), { rules: [{ match: match('ws.test', { path: '/chat' }), targets: [target('a1'), target('a2')], strip_path_prefix: true }] });
    await waitFor('ws.test served', async () => (await get(site.http, 'ws.test', '/chat')).status === 200 || undefined, 15_000);
    const echoes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${site.http}/chat/room`, { headers: { host: 'ws.test' }, handshakeTimeout: 5000 });
      const echo = new Promise<string>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.once('error', reject);
      });
      await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      ws.send(`hello ${i}`);
      echoes.push(await echo);
      ws.close();
    }
    // round_robin: four sockets, two on each target by turns, each seeing the stripped path.
    expect(echoes.map((e) => e.split(' ').slice(1).join(' '))).toEqual(['/room hello 0', '/room hello 1', '/room hello 2', '/room hello 3']);
    expectAlternating(echoes.map((e) => e.split(' ')[0]!), ['a1', 'a2']);
  });
});

// Debian's 2.6.2 beside the Caddy under test: the weighted rule alone is left out there.
const describeOld = CADDY === DEBIAN_CADDY ? describe.skip : describe;
describeOld("on Debian's Caddy 2.6.2", () => {
  let site: Site;
  let a1: PathBackend;

  beforeAll(async () => {
    site = await startSite('routing-262', DEBIAN_CADDY);
    a1 = pathBackend('a1', '127.0.0.7', site.backendPort);
    await a1.start();
    await instances(site, { a1: '127.0.0.7' });
  });

  afterAll(async () => {
    await stopSite(site);
    await a1.stop();
  });

  test('a weighted_round_robin rule is CaddyTooOld; the path rules beside it serve', async () => {
    const t = { instance: 'a1', port: site.backendPort };
    await writeJson(join(site.dir, 'mixed.json'), {
      rules: [
        { match: { hostname: 'old.test', port: site.http, path: '/w' }, targets: [{ ...t, weight: 2 }], load_balancing: { policy: 'weighted_round_robin' } },
        { match: { hostname: 'old.test', port: site.http, path: '/r' }, targets: [t], load_balancing: { policy: 'round_robin', retries: 1 }, strip_path_prefix: true },
      ],
    });
    const status = await waitStatus(site.dir, 'mixed', (s) => condition(s, 'Programmed')?.status === 'False', 'mixed CaddyTooOld');
    expect(condition(status, 'Programmed')?.reason).toBe('CaddyTooOld');
    expect(condition(status, 'Programmed')?.message).toContain('weighted_round_robin needs Caddy 2.7.0');
    await waitFor('/r served', async () => (await get(site.http, 'old.test', '/r/x')).body === 'a1 /x' || undefined, 15_000);
    expect((await get(site.http, 'old.test', '/w')).status).toBe(404);
  });
});

describe('HTTP/2 over TLS through a path rule with two targets', () => {
  let pebble: Pebble;
  let site: Site;
  const backends: PathBackend[] = [];
  let https: number;
  let httpPort: number;

  beforeAll(async () => {
    httpPort = await freePort();
    https = await freePort();
    pebble = await startPebble({ httpPort, tlsPort: https });
    site = await startSite('routing-h2', CADDY, {
      ACME_EMAIL: 'ops@example.test',
      ACME_CA: pebble.directoryUrl,
      ACME_CA_ROOT: pebble.tlsCertFile,
      ACME_CHALLENGE: 'http-01',
      TLS_ALLOWED_DOMAINS: 'h2.test',
      CADDY_HTTP_PORT: String(httpPort),
      CADDY_HTTPS_PORT: String(https),
    });
    backends.push(pathBackend('h2a', '127.0.0.8', site.backendPort), pathBackend('h2b', '127.0.0.9', site.backendPort));
    for (const b of backends) await b.start();
    await instances(site, { h2a: '127.0.0.8', h2b: '127.0.0.9' });
    await writeJson(join(site.dir, 'h2.json'), {
      rules: [{ match: { hostname: 'h2.test', port: https, path: '/api' }, targets: [{ instance: 'h2a', port: site.backendPort }, { instance: 'h2b', port: site.backendPort }], strip_path_prefix: true, tls: true, redirect_http: true }],
    });
    await waitStatus(site.dir, 'h2', (s) => condition(s, 'CertificateReady')?.status === 'True', 'h2 CertificateReady');
  }, 60_000);

  afterAll(async () => {
    await stopSite(site);
    await Promise.all(backends.map((b) => b.stop()));
    await pebble?.stop();
  });

  test('an h2 session (ALPN h2, trusting only Pebble\'s root) reaches both targets with the prefix stripped', async () => {
    const session = http2Connect(`https://127.0.0.1:${https}`, { servername: 'h2.test', ca: pebble.issuingRootPem });
    try {
      await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
      expect(session.alpnProtocol).toBe('h2');
      const bodies: string[] = [];
      // Several streams on the one connection, balanced per request.
      for (let i = 0; i < 4; i++) {
        bodies.push(
          await new Promise<string>((resolve, reject) => {
            const stream = session.request({ ':path': `/api/items/${i}`, ':authority': `h2.test:${https}` });
            let body = '';
            stream.setEncoding('utf8');
            stream.on('response', (headers) => {
              if (headers[':status'] !== 200) reject(new Error(`status ${String(headers[':status'])}`));
            });
            stream.on('data', (chunk: string) => (body += chunk));
            stream.on('end', () => resolve(body));
            stream.on('error', reject);
            stream.end();
          }),
        );
      }
      expect(bodies.map((b) => b.split(' ')[1])).toEqual(['/items/0', '/items/1', '/items/2', '/items/3']);
      expectAlternating(bodies.map((b) => b.split(' ')[0]!), ['h2a', 'h2b']);
    } finally {
      session.close();
    }
  });

  test('redirect_http on a path rule redirects that path only', async () => {
    const redirected = await get(httpPort, 'h2.test', '/api/items?x=1');
    expect(redirected.status).toBe(301);
    expect(redirected.headers['location']).toBe(`https://h2.test:${https}/api/items?x=1`);
    expect((await get(httpPort, 'h2.test', '/apis')).status).toBe(404);
  });

  test('a plain-HTTP rule of a more specific path inside the redirected one is served, not redirected', async () => {
    await writeJson(join(site.dir, 'h2-public.json'), { rules: [{ match: { hostname: 'h2.test', port: httpPort, path: '/api/public' }, target: { instance: 'h2a', port: site.backendPort } }] });
    await waitFor('/api/public served over plain HTTP', async () => (await get(httpPort, 'h2.test', '/API/Public/x')).status === 200 || undefined);
    expect((await get(httpPort, 'h2.test', '/api/public/x')).body).toMatch(/^h2a \/api\/public\/x/);
    const redirected = await get(httpPort, 'h2.test', '/api/items');
    expect([redirected.status, redirected.headers['location']]).toEqual([301, `https://h2.test:${https}/api/items`]);
    expect((await get(httpPort, 'h2.test', '/api/publicity')).status).toBe(301);
  });
});
