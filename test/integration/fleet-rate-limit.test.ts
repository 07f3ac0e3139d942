/**
 * One rate limit for a fleet (`rate_limit.scope: "fleet"`): three nodes (test/helpers/fleet.ts, :80
 * on 127.0.0.11, .12 and .13) sharing a `file_system` CADDY_STORAGE (and, on the built 2.11.9, a
 * Redis one), and a client that spreads its requests over them.
 * - With the rate-limit module (built 2.10.2 and 2.11.9): 6 per minute for the fleet. Two requests
 *   on each node pass (no node alone is at its limit); once the nodes have synced their counts
 *   through the storage, the next request is 429 with Retry-After on every node. A `node` limit of
 *   the same numbers beside it keeps counting per node: its next request passes everywhere.
 * - Without the module (Debian's 2.6.2): CaddyModuleMissing on every node, the other rule serves.
 * - A fleet limit on a node without CADDY_STORAGE: Programmed=False, SharedStorageMissing, naming
 *   the setting; the ingress's other rule serves.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CADDY_INFO } from '../helpers/caddy-under-test.js';
import { startFleet, startRedis, type Fleet, type RedisServer } from '../helpers/fleet.js';
import {
  condition,
  freePort,
  getAt,
  killDaemons,
  readStatus,
  removeDir,
  sleep,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  writeJson,
  type Backend,
} from '../helpers/processes.js';

const HAS_RATE_LIMIT = CADDY_INFO.modules.includes('http.handlers.rate_limit');
const BACKEND = { host: '127.0.0.2', port: await freePort() };
const LIMIT = { requests: 6, window: '1m' };
/** Two sync intervals (1 s each: FLEET_RATE_SYNC) and a margin: by then every node has read the others' counts. */
const SYNCED_MS = 3_000;

const rule = (hostname: string, port: number, rateLimit: object): object => ({ match: { hostname, port }, target: { instance: 'app', port: BACKEND.port }, rate_limit: rateLimit });

/** Redis storage is in the built 2.11.9 only; the other Caddys refuse it at start (fleet-tls.test.ts). */
const STORAGES = CADDY_INFO.modules.includes('caddy.storage.redis') ? (['file_system', 'redis'] as const) : (['file_system'] as const);
const REDIS_PASSWORD = 'fleet-rate-secret';

describe.each(STORAGES)('rate_limit scope fleet over three nodes sharing a %s storage', (storage) => {
  let fleet: Fleet;
  let backend: Backend;
  let sharedDir: string;
  let manifestDir: string;
  let redis: RedisServer | undefined;

  beforeAll(async () => {
    backend = await startBackend('limited-backend', BACKEND.host, BACKEND.port);
    sharedDir = await tempDir('fleet-rate-storage');
    if (storage === 'redis') redis = await startRedis(REDIS_PASSWORD);
    const caddyStorage = redis === undefined ? `file_system:${sharedDir}` : `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}/0?key_prefix=fleet-rate`;
    manifestDir = await tempDir('fleet-rate-manifests');
    await writeJson(join(manifestDir, 'app.json'), { kind: 'Instance', name: 'app', address: BACKEND.host });
    await writeJson(join(manifestDir, 'api.json'), {
      rules: [
        rule('fleet.rate.test', 80, { ...LIMIT, scope: 'fleet' }),
        rule('node.rate.test', 80, { ...LIMIT, scope: 'node' }),
        { match: { hostname: 'free.rate.test', port: 80 }, target: { instance: 'app', port: BACKEND.port } },
      ],
    });
    fleet = await startFleet({ manifestDir, env: { CADDY_STORAGE: caddyStorage } });
    for (const node of fleet.nodes) {
      await waitFor(`${node.name} serving free.rate.test`, async () => (await getAt(node.address, 80, 'free.rate.test')).status === 200 || undefined, 15_000);
    }
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await backend?.close();
    await redis?.stop();
    for (const dir of [sharedDir, manifestDir]) if (dir !== undefined) await removeDir(dir);
  });

  (HAS_RATE_LIMIT ? test : test.skip)('6 per minute for the fleet: 2 on each node pass, then every node answers 429; a node limit beside it still passes', async () => {
    for (const host of ['fleet.rate.test', 'node.rate.test']) {
      for (const node of fleet.nodes) {
        for (let i = 0; i < 2; i++) expect(`${host} on ${node.name}: ${(await getAt(node.address, 80, host)).status}`).toBe(`${host} on ${node.name}: 200`);
      }
    }
    await sleep(SYNCED_MS);
    for (const node of fleet.nodes) {
      const limited = await getAt(node.address, 80, 'fleet.rate.test');
      expect(`${node.name}: ${limited.status}`).toBe(`${node.name}: 429`);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(`${node.name}: ${(await getAt(node.address, 80, 'node.rate.test')).status}`).toBe(`${node.name}: 200`);
    }
    // Each Caddy wrote its counts to the shared storage under its own instance id.
    const stored = redis === undefined ? await readdir(join(sharedDir, 'rate_limit', 'instances')) : (await redis.cli('--scan', '--pattern', 'fleet-rate*rate_limit/instances/*')).split('\n');
    expect(stored.filter((f) => f.endsWith('.rlstate'))).toHaveLength(3);
    for (const node of fleet.nodes) {
      const status = await readStatus(node.statusDir, 'api');
      expect(condition(status, 'Ready')?.status).toBe('True');
      const routes = (status?.routes ?? []) as { hostname: string; policies?: { policy: string; effect: string }[] }[];
      expect(routes.find((r) => r.hostname === 'fleet.rate.test')?.policies).toEqual([{ policy: 'rate_limit', effect: '6 requests per 1m per client IP across the fleet; more get 429 with Retry-After' }]);
    }
  }, 30_000);

  (HAS_RATE_LIMIT ? test.skip : test)('without http.handlers.rate_limit: CaddyModuleMissing on every node, the other rule serves', async () => {
    for (const node of fleet.nodes) {
      const status = await waitFor(`${node.name}: CaddyModuleMissing`, async () => {
        const s = await readStatus(node.statusDir, 'api');
        return condition(s, 'Programmed')?.reason === 'CaddyModuleMissing' ? s : undefined;
      });
      expect(condition(status, 'Programmed')?.message).toContain('http.handlers.rate_limit');
      expect((await getAt(node.address, 80, 'free.rate.test')).status).toBe(200);
    }
  });
});

describe('rate_limit scope fleet without CADDY_STORAGE', () => {
  test('Programmed=False, SharedStorageMissing naming CADDY_STORAGE; the ingress\'s other rule serves', async () => {
    const dir = await tempDir('rate-no-storage');
    const dataDir = await tempDir('rate-no-storage-data');
    const backend = await startBackend('alone-backend', BACKEND.host, await freePort());
    const http = await freePort();
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: BACKEND.host });
    await writeJson(join(dir, 'api.json'), {
      rules: [
        { match: { hostname: 'fleet.rate.test', port: http }, target: { instance: 'app', port: backend.port }, rate_limit: { ...LIMIT, scope: 'fleet' } },
        { match: { hostname: 'free.rate.test', port: http }, target: { instance: 'app', port: backend.port } },
      ],
    });
    const ingressd = startIngressd({ dir, dataDir, ports: { admin: await freePort(), dns: await freePort() } });
    try {
      await waitReady(ingressd);
      const status = await waitFor('SharedStorageMissing or CaddyModuleMissing', async () => {
        const s = await readStatus(dir, 'api');
        const reason = condition(s, 'Programmed')?.reason;
        return reason === 'SharedStorageMissing' || reason === 'CaddyModuleMissing' ? s : undefined;
      });
      const programmed = condition(status, 'Programmed');
      // A Caddy without the module says that first: no storage would make the rule servable there.
      expect(programmed?.reason).toBe(HAS_RATE_LIMIT ? 'SharedStorageMissing' : 'CaddyModuleMissing');
      if (HAS_RATE_LIMIT) expect(programmed?.message).toContain('CADDY_STORAGE is not set on this node');
      expect(programmed?.message).toContain('its other rule serves');
      expect((await getAt('127.0.0.1', http, 'free.rate.test')).status).toBe(200);
      expect((await getAt('127.0.0.1', http, 'fleet.rate.test')).status).not.toBe(200);
    } finally {
      await ingressd.stop();
      await killDaemons(dataDir);
      await backend.close();
      await removeDir(dir);
      await removeDir(dataDir);
    }
  }, 40_000);
});
