/**
 * The HTTP API against a real `ingressd run`, real Caddy and real backends: what it creates is
 * served, every refusal carries its code and leaves the directory as it was, lookups, deletes,
 * traversal attempts, limits and metrics. Auth and readiness: api-auth.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { deriveId } from '../../src/model/ids.js';
import { callApi, parsePrometheusText, type ApiAnswer } from '../helpers/api-client.js';
import {
  caddyWrites,
  get,
  killDaemons,
  removeDir,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  writeJson,
  type Backend,
  type IngressdProcess,
} from '../helpers/processes.js';
import { DEBIAN_CADDY } from '../helpers/caddy-under-test.js';

const MAIN = { admin: 26019, dns: 26053, api: 26089 };
const [HTTP, HTTP2, TLS_PORT, BUSY] = [26080, 26081, 26084, 26085];
const BACKEND_PORT = 26101;

const rule = (hostname: string, port: number, instance: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  match: { hostname, port },
  target: { instance, port: BACKEND_PORT },
  ...extra,
});
const ingress = (name: string, ...rules: Record<string, unknown>[]): Record<string, unknown> => ({ name, rules });
const listing = async (path: string): Promise<string[]> => (await readdir(path, { recursive: true })).map(String).sort();
const codeOf = (answer: ApiAnswer): unknown => (answer.json as { code?: unknown } | undefined)?.code;

/** Two ingress names whose derived ids start with the same character (ids are deterministic). */
function namesSharingFirstIdChar(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const name = `amb-${i}`;
    const first = deriveId('Ingress', name)[0]!;
    const other = seen.get(first);
    if (other !== undefined) return [other, name];
    seen.set(first, name);
  }
}

let backends: Backend[] = [];
beforeAll(async () => {
  backends = [await startBackend('api', '127.0.0.2', BACKEND_PORT), await startBackend('web', '127.0.0.3', BACKEND_PORT)];
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

describe('HTTP API (ACME dns-01 without the Caddy module, TLS_ALLOWED_DOMAINS=allowed.test)', () => {
  let base: string;
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let squatter: Server;
  const api = (path: string, call?: Parameters<typeof callApi>[2]): Promise<ApiAnswer> => callApi(MAIN.api, path, call);
  const post = (body: unknown): Promise<ApiAnswer> => api('/ingresses', { method: 'POST', body });

  beforeAll(async () => {
    base = await tempDir('api');
    dir = join(base, 'manifests');
    // The subdirectory for hand-written files exists from the start, so the watcher already watches it.
    await mkdir(join(dir, 'team'), { recursive: true });
    dataDir = await tempDir('api-data');
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(BUSY, '127.0.0.1', () => resolve()));
    ingressd = startIngressd({
      dir,
      dataDir,
      ports: MAIN,
      env: {
        // The subject is a Caddy without the module, whichever Caddy the rest of the suite drives.
        CADDY_BINARY: DEBIAN_CADDY,
        ACME_EMAIL: 'ops@example.test',
        ACME_DNS_PROVIDER: 'cloudflare',
        CLOUDFLARE_API_TOKEN: 'not-a-real-token',
        // Never contacted (Caddy refuses the dns-01 config first); a local port of this test's range, to be safe.
        ACME_CA: 'https://127.0.0.1:26083/directory',
        TLS_ALLOWED_DOMAINS: 'allowed.test',
      },
    });
    await waitReady(ingressd);
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    squatter?.close();
    await removeDir(base);
    await removeDir(dataDir);
  });

  test('/healthz and /readyz answer 200 once the first sync is done', async () => {
    expect(await api('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await api('/readyz')).toMatchObject({ status: 200, json: { ready: true } });
  });

  test('PUT /instances creates (201), replaces (200) and lists them', async () => {
    expect(await api('/instances/api', { method: 'PUT', body: { address: '127.0.0.9' } })).toMatchObject({ status: 201, json: { name: 'api', address: '127.0.0.9' } });
    const replaced = await api('/instances/api', { method: 'PUT', body: { address: '127.0.0.2' } });
    expect(replaced).toMatchObject({ status: 200, json: { id: deriveId('Instance', 'api'), address: '127.0.0.2' } });
    const full = await api('/instances/web', { method: 'PUT', body: { kind: 'Instance', name: 'web', address: '127.0.0.3' } });
    expect(full.status).toBe(201);
    expect(await listing(dir)).toEqual(['api.instance.json', 'api.instance.status.json', 'team', 'web.instance.json', 'web.instance.status.json']);
    const list = await api('/instances');
    expect((list.json as { name: string }[]).map((i) => i.name)).toEqual(['api', 'web']);
    const mismatch = await api('/instances/api', { method: 'PUT', body: { name: 'web', address: '127.0.0.2' } });
    expect([mismatch.status, codeOf(mismatch)]).toEqual([400, 'invalid_request']);
  });

  // Runs while Caddy serves no other port: Caddy 2.6.2 does not stop the servers it already started
  // when a later listener fails to bind (caddyserver/caddy#7175), and they would keep serving the refused config.
  test('port_in_use: Caddy cannot bind a held port; the file is removed again', async () => {
    const before = await listing(dir);
    const answer = await post(ingress('busy', rule('busy.test', BUSY, 'api')));
    expect([answer.status, codeOf(answer)]).toEqual([409, 'port_in_use']);
    expect((answer.json as { message: string }).message).toContain(String(BUSY));
    expect(await listing(dir)).toEqual(before);
    expect((await api('/ingresses/busy')).status).toBe(404);
  });

  test('POST /ingresses answers 201 with the status, and Caddy serves the host', async () => {
    expect((await post(ingress('keep', rule('keep.test', HTTP, 'web')))).status).toBe(201);
    const before = Date.now();
    const created = await post(ingress('api', rule('api.test', HTTP, 'api')));
    expect(created.status).toBe(201);
    const body = created.json as { id: string; name: string; rules: unknown[]; created_at: string; status: { conditions: { type: string; status: string }[] } };
    expect(body).toMatchObject({ id: deriveId('Ingress', 'api'), name: 'api', rules: [{ ...rule('api.test', HTTP, 'api'), tls: false, redirect_http: false }] });
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(body.created_at) - before)).toBeLessThan(5_000);
    expect(body.status.conditions.find((c) => c.type === 'Programmed')?.status).toBe('True');
    expect(created.headers['location']).toBe(`/ingresses/${body.id}`);
    expect((await get(HTTP, 'api.test')).body).toBe('api');
    expect(JSON.parse(await readFile(join(dir, 'api.json'), 'utf8'))).toMatchObject({ name: 'api', created_at: body.created_at });
  });

  test('each refusal has its status and code, and writes nothing', async () => {
    const before = await listing(dir);
    const cases: [unknown, number, string][] = [
      [ingress('empty'), 400, 'invalid_request'],
      [ingress('bad-port', { match: { hostname: 'x.test', port: 70000 }, target: { instance: 'api', port: 1 } }), 400, 'invalid_request'],
      [{ rules: [rule('noname.test', HTTP, 'api')] }, 400, 'invalid_request'],
      [ingress('../x', rule('x.test', HTTP, 'api')), 400, 'invalid_request'],
      [ingress('api', rule('other.test', HTTP, 'api')), 409, 'already_exists'],
      [ingress('thief', rule('API.test', HTTP, 'web')), 409, 'hostname_in_use'],
      [ingress('ghost', rule('ghost.test', HTTP, 'ghost')), 400, 'instance_not_found'],
      [ingress('other', rule('other.test', TLS_PORT, 'api', { tls: true })), 400, 'domain_not_allowed'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await post(body);
      expect([JSON.stringify(body), answer.status, answer.json]).toEqual([JSON.stringify(body), status, { code, message: expect.any(String) }]);
    }
    const malformed = await api('/ingresses', { method: 'POST', rawBody: '{"name": "x",\n  "rules": [}' });
    expect([malformed.status, codeOf(malformed)]).toEqual([400, 'invalid_request']);
    expect((malformed.json as { message: string }).message).toMatch(/line 2, column \d+/);
    const wrongType = await api('/ingresses', { method: 'POST', rawBody: '{}', contentType: 'text/plain' });
    expect([wrongType.status, codeOf(wrongType)]).toEqual([400, 'invalid_request']);
    expect(await listing(dir)).toEqual(before);
  });

  test('config_validation_failed: Caddy rejects the dns-01 config (no cloudflare module); the file is removed again', async () => {
    const before = await listing(dir);
    const answer = await post(ingress('secure', rule('allowed.test', TLS_PORT, 'api', { tls: true })));
    expect([answer.status, codeOf(answer)]).toEqual([400, 'config_validation_failed']);
    expect((answer.json as { message: string }).message).toContain('dns.providers.cloudflare');
    expect(await listing(dir)).toEqual(before);
    expect((await get(HTTP, 'api.test')).body).toBe('api');
  });

  test('GET by id, by name and by unique id prefix; a shared prefix is ambiguous', async () => {
    const [first, second] = namesSharingFirstIdChar();
    for (const name of [first, second]) expect((await post(ingress(name, rule(`${name}.test`, HTTP2, 'web')))).status).toBe(201);
    const list = (await api('/ingresses')).json as { id: string; name: string; status: unknown }[];
    expect(list.map((i) => i.name)).toEqual(['api', first, second, 'keep'].sort());
    expect(list.every((i) => i.status !== null)).toBe(true);

    const id = deriveId('Ingress', 'api');
    const others = list.filter((i) => i.id !== id).map((i) => i.id);
    const prefix = [...Array(id.length).keys()].map((n) => id.slice(0, n + 1)).find((p) => !others.some((o) => o.startsWith(p)))!;
    for (const key of [id, 'api', prefix]) expect(await api(`/ingresses/${key}`)).toMatchObject({ status: 200, json: { id, name: 'api' } });

    const shared = deriveId('Ingress', first)[0]!;
    const ambiguous = { code: 'ambiguous', message: 'multiple resources match, use full ID' };
    expect(await api(`/ingresses/${shared}`)).toMatchObject({ status: 409, json: ambiguous });
    expect(await api(`/ingresses/${shared}`, { method: 'DELETE' })).toMatchObject({ status: 409, json: ambiguous });
    expect((await api('/ingresses')).json).toHaveLength(4);
    expect(await api('/ingresses/no-such-thing')).toMatchObject({ status: 404, json: { code: 'not_found', message: 'resource not found' } });
    const instanceId = deriveId('Instance', 'web');
    expect(await api(`/instances/${instanceId.slice(0, 6)}`)).toMatchObject({ status: 200, json: { name: 'web' } });
  });

  test('hand-written files in subdirectories are listed and deletable', async () => {
    await writeJson(join(dir, 'team', 'hand.json'), { rules: [rule('hand.test', HTTP2, 'web')] });
    const found = await waitFor('hand-written ingress', async () => {
      const answer = await api('/ingresses/hand');
      return answer.status === 200 && (answer.json as { status: unknown }).status !== null ? answer : undefined;
    });
    expect(found.json).toMatchObject({ id: deriveId('Ingress', 'hand'), name: 'hand' });
    await waitFor('hand.test served', async () => (await get(HTTP2, 'hand.test')).body === 'web');
    expect((await api('/ingresses/hand', { method: 'DELETE' })).status).toBe(204);
    expect(await listing(join(dir, 'team'))).toEqual([]);
  });

  test('DELETE answers 204 once Caddy no longer serves the host', async () => {
    expect((await api(`/ingresses/${deriveId('Ingress', 'api')}`, { method: 'DELETE' })).status).toBe(204);
    expect(await get(HTTP, 'api.test')).toMatchObject({ status: 404, body: 'Not Found: no ingress configured for hostname api.test\n' });
    expect(await api('/ingresses/api')).toMatchObject({ status: 404, json: { code: 'not_found', message: 'resource not found' } });
    expect((await listing(dir)).filter((f) => f.startsWith('api.'))).toEqual(['api.instance.json', 'api.instance.status.json']);
    expect((await get(HTTP, 'keep.test')).body).toBe('web');
    expect((await api('/instances/api', { method: 'DELETE' })).status).toBe(204);
    expect((await api('/instances/api')).status).toBe(404);
  });

  test('traversal attempts are refused and nothing is written outside the directory', async () => {
    const parent = dirname(base);
    const [beforeBase, beforeDir] = [await listing(base), await listing(dir)];
    const attempts: [string, string, unknown?][] = [
      ['GET', '/ingresses/..%2f..%2fetc'],
      ['DELETE', '/ingresses/..%2f..%2fetc'],
      ['PUT', '/instances/..%2Fx', { address: '127.0.0.2' }],
      ['PUT', '/instances/..%2F..%2F..%2Fetc%2Fx', { address: '127.0.0.2' }],
      ['GET', '/ingresses/%2e%2e'],
      ['DELETE', '/instances/%2E%2E'],
      ['GET', '/ingresses/..%5c..%5cetc'],
      ['PUT', '/instances/a%5cb', { address: '127.0.0.2' }],
      ['PUT', '/instances/a%00b', { address: '127.0.0.2' }],
      ['GET', '/ingresses/%252e%252e%252fetc'],
      ['GET', '/ingresses/../../etc'],
      ['DELETE', '/ingresses/./keep'],
      ['POST', '/ingresses', ingress('../x', rule('x.test', HTTP, 'web'))],
      ['POST', '/ingresses', ingress('..%2fx', rule('x.test', HTTP, 'web'))],
      ['PUT', '/instances/x', { name: '../x', address: '127.0.0.2' }],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await api(path, { method, body });
      expect([method, path, answer.status, codeOf(answer)]).toEqual([method, path, 400, 'invalid_request']);
    }
    expect([await listing(base), await listing(dir)]).toEqual([beforeBase, beforeDir]);
    for (const name of ['etc', 'etc.json', 'x.json', 'x.instance.json']) expect((await readdir(parent)).includes(name)).toBe(false);
    expect((await get(HTTP, 'keep.test')).body).toBe('web');
  });

  test('a body over 1 MiB is refused with 413; unknown routes 404; wrong methods 405', async () => {
    const before = await listing(dir);
    const big = JSON.stringify({ name: 'big', rules: [rule('big.test', HTTP, 'web')], pad: 'x'.repeat(1_048_576) });
    for (const chunked of [false, true]) {
      expect(await api('/ingresses', { method: 'POST', rawBody: big, chunked })).toMatchObject({ status: 413, json: { code: 'payload_too_large' } });
    }
    expect(await listing(dir)).toEqual(before);
    expect(await api('/nope')).toMatchObject({ status: 404, json: { code: 'not_found' } });
    const patch = await api('/ingresses', { method: 'PATCH' });
    expect([patch.status, codeOf(patch), patch.headers['allow']]).toEqual([405, 'method_not_allowed', 'GET, POST']);
    expect(await api('/instances', { method: 'POST', body: {} })).toMatchObject({ status: 405, json: { code: 'method_not_allowed' } });
  });

  test('/metrics is strict Prometheus text with the ingressd metrics', async () => {
    const answer = await api('/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(answer.text);
    // The parser is strict: malformed lines, duplicate series and broken histograms fail.
    expect(() => parsePrometheusText('# TYPE a counter\na{x="1"} one\n')).toThrow(/bad value/);
    expect(() => parsePrometheusText('# TYPE a gauge\na 1\na 2\n')).toThrow(/duplicate series/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    const types = Object.fromEntries([...families.values()].filter((f) => f.name.startsWith('ingressd_')).map((f) => [f.name, f.type]));
    expect(types).toEqual({
      ingressd_reconciles_total: 'counter',
      ingressd_reconcile_duration_seconds: 'histogram',
      ingressd_caddy_writes_total: 'counter',
      ingressd_caddy_info: 'gauge',
      ingressd_queue_depth: 'gauge',
      ingressd_resources: 'gauge',
      ingressd_last_successful_sync_timestamp_seconds: 'gauge',
      ingressd_caddy_reachable: 'gauge',
      ingressd_cross_checks_total: 'counter',
      ingressd_status_files_writable: 'gauge',
      ingressd_upstream_healthy: 'gauge',
      ingressd_node_info: 'gauge',
    });
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      [...families.values()].flatMap((f) => f.samples).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('ingressd_reconciles_total', { result: 'success' })).toBeGreaterThan(5);
    expect(value('ingressd_caddy_reachable')).toBe(1);
    expect(value('ingressd_status_files_writable')).toBe(1);
    expect(value('ingressd_resources', { kind: 'Ingress', ready: 'true' })).toBe(3);
    expect(value('ingressd_resources', { kind: 'Instance', ready: 'true' })).toBe(1);
    expect(Math.abs(value('ingressd_last_successful_sync_timestamp_seconds')! - Date.now() / 1000)).toBeLessThan(120);
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // Writes Caddy accepted, counted by ingressd, never exceed the writes Caddy's own log saw.
    const writes = value('ingressd_caddy_writes_total')!;
    expect(writes).toBeGreaterThan(5);
    expect(writes).toBeLessThanOrEqual(await caddyWrites(dataDir));
  });
});
