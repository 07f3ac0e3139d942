/**
 * Upstream health end to end: real `ingressd run`, the Caddy under test, the real instance DNS,
 * real backends on 127.0.0.x, real files, ingressd's real `/metrics`.
 * A health-checked rule with two targets: both healthy → each target `healthy`, Ready=True; one
 * backend killed → that target `unhealthy` in the status and `0` in `ingressd_upstream_healthy`,
 * the other healthy, Ready=True, requests served by the live one; both killed →
 * Ready=False NoHealthyTargets (Caddy answers 503); both back → healthy and Ready=True again.
 * A rule without health checks shows its targets without `health`. At rest, the status file is
 * not rewritten. Passive checks alone report a target that refuses connections.
 * Caddy refreshes its health gauge every 10 s (upstream-health.ts) and ingressd reads it every 10 s
 * while a rule has health checks; RESYNC_INTERVAL is 60 s here, so the resync is not what carries
 * the change. Each wait allows 30 s.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CADDY } from '../helpers/caddy-under-test.js';
import { callApi, parsePrometheusText } from '../helpers/api-client.js';
import { statusSchema } from '../helpers/status-schema.js';
import {
  condition,
  freePort,
  get,
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
  type IngressdProcess,
  type StatusView,
} from '../helpers/processes.js';

/** Caddy's gauge lags its health state by up to 10 s; ingressd's next read (≤ 10 s) and a status pass follow. */
const HEALTH_WAIT_MS = 30_000;

interface TargetView {
  readonly upstream: string;
  readonly upstreamPort: number;
  readonly health?: string;
}

const healthOf = (status: StatusView | undefined, route = 0): (string | undefined)[] =>
  ((status?.routes?.[route] as { targets?: TargetView[] } | undefined)?.targets ?? []).map((t) => t.health);

describe('upstream health in status and metrics (Caddy under test)', () => {
  let dir: string;
  let dataDir: string;
  let http: number;
  let api: number;
  let port: number;
  let ingressd: IngressdProcess;
  const live = new Map<string, Backend>();
  const hosts: Record<string, string> = { b1: '127.0.0.2', b2: '127.0.0.3' };

  const start = async (name: string): Promise<void> => {
    live.set(name, await startBackend(name, hosts[name]!, port));
  };
  const kill = async (name: string): Promise<void> => {
    await live.get(name)?.close();
    live.delete(name);
  };
  const waitStatus = (what: string, check: (s: StatusView) => boolean): Promise<StatusView> =>
    waitFor(what, async () => {
      const s = await readStatus(dir, 'health');
      return s !== undefined && check(s) ? s : undefined;
    }, HEALTH_WAIT_MS, 200);
  /** `ingressd_upstream_healthy` samples of this ingress: upstream → value. */
  const gauge = async (): Promise<Map<string, number>> => {
    const families = parsePrometheusText((await callApi(api, '/metrics')).text);
    const samples = families.get('ingressd_upstream_healthy')?.samples ?? [];
    return new Map(samples.filter((s) => s.labels['ingress'] === 'health').map((s) => [s.labels['upstream']!, s.value]));
  };

  beforeAll(async () => {
    const [admin, dns] = [await freePort(), await freePort()];
    [http, api, port] = [await freePort(), await freePort(), await freePort()];
    dir = await tempDir('routing-health-manifests');
    dataDir = await tempDir('routing-health-data');
    ingressd = startIngressd({ dir, dataDir, ports: { admin, dns, api }, env: { CADDY_BINARY: CADDY, RESYNC_INTERVAL: '60s' } });
    await waitReady(ingressd);
    await start('b1');
    await start('b2');
    for (const [name, address] of Object.entries(hosts)) await writeJson(join(dir, `${name}.instance.json`), { kind: 'Instance', name, address });
    await writeJson(join(dir, 'health.json'), {
      kind: 'Ingress',
      name: 'health',
      rules: [
        {
          match: { hostname: 'health.test', port: http, path: '/api' },
          targets: [{ instance: 'b1', port }, { instance: 'b2', port }],
          health_check: { active: { path: '/', interval: '300ms', timeout: '200ms' } },
        },
        { match: { hostname: 'unchecked.test', port: http }, targets: [{ instance: 'b1', port }, { instance: 'b2', port }] },
      ],
    });
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    for (const name of [...live.keys()]) await kill(name);
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('both targets healthy: status and gauge say so, Ready=True; a rule without checks has no health; at rest no rewrite', async () => {
    const status = await waitStatus('both targets healthy', (s) => healthOf(s).join() === 'healthy,healthy');
    expect(statusSchema(status)).toBe(true);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(healthOf(status, 1)).toEqual([undefined, undefined]);
    expect(await gauge()).toEqual(new Map([[`b1.ingressd.internal:${port}`, 1], [`b2.ingressd.internal:${port}`, 1]]));
    // Written only when it changes: a health read (every 10 s) at rest leaves the file alone.
    const before = (await stat(join(dir, 'health.status.json'))).mtimeMs;
    await sleep(11_000);
    expect((await stat(join(dir, 'health.status.json'))).mtimeMs).toBe(before);
  }, 90_000);

  test('one backend killed: its target is unhealthy, the other healthy, Ready=True, requests reach the live one', async () => {
    await kill('b1');
    const status = await waitStatus('b1 unhealthy', (s) => healthOf(s).join() === 'unhealthy,healthy');
    expect(statusSchema(status)).toBe(true);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(await gauge()).toEqual(new Map([[`b1.ingressd.internal:${port}`, 0], [`b2.ingressd.internal:${port}`, 1]]));
    for (let i = 0; i < 6; i++) expect(await get(http, 'health.test', '/api/x')).toMatchObject({ status: 200, body: 'b2' });
  }, 90_000);

  test('both killed: Ready=False NoHealthyTargets naming the rule, Programmed stays True, Caddy answers 503', async () => {
    await kill('b2');
    const status = await waitStatus('no healthy target', (s) => condition(s, 'Ready')?.reason === 'NoHealthyTargets');
    expect(statusSchema(status)).toBe(true);
    expect(healthOf(status)).toEqual(['unhealthy', 'unhealthy']);
    expect(condition(status, 'Ready')?.status).toBe('False');
    expect(condition(status, 'Ready')?.message).toContain(`health.test:${http} prefix /api`);
    expect(condition(status, 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(await gauge()).toEqual(new Map([[`b1.ingressd.internal:${port}`, 0], [`b2.ingressd.internal:${port}`, 0]]));
    expect((await get(http, 'health.test', '/api/x')).status).toBe(503);
  }, 90_000);

  test('both back: healthy again and Ready=True, the gauge follows', async () => {
    await start('b1');
    await start('b2');
    const status = await waitStatus('both healthy again', (s) => healthOf(s).join() === 'healthy,healthy');
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(await gauge()).toEqual(new Map([[`b1.ingressd.internal:${port}`, 1], [`b2.ingressd.internal:${port}`, 1]]));
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await get(http, 'health.test', '/api/x')).body);
    expect(seen).toEqual(new Set(['b1', 'b2']));
  }, 90_000);

  test('passive checks alone: a target refusing connections is unhealthy after max_fails, retries keep requests whole', async () => {
    // 127.0.0.5: nothing listens there, every connection is refused.
    await writeJson(join(dir, 'dead.instance.json'), { kind: 'Instance', name: 'dead', address: '127.0.0.5' });
    await writeJson(join(dir, 'passive.json'), {
      kind: 'Ingress',
      name: 'passive',
      rules: [
        {
          match: { hostname: 'passive.test', port: http },
          targets: [{ instance: 'b1', port }, { instance: 'dead', port }],
          load_balancing: { retries: 1 },
          health_check: { passive: { max_fails: 1, fail_duration: '1m' } },
        },
      ],
    });
    await waitFor('passive.test served', async () => ((await get(http, 'passive.test', '/').catch(() => undefined))?.status === 200 ? true : undefined), 15_000);
    for (let i = 0; i < 6; i++) expect(await get(http, 'passive.test', '/')).toMatchObject({ status: 200, body: 'b1' });
    const status = await waitFor('dead unhealthy by passive checks', async () => {
      const s = await readStatus(dir, 'passive');
      return s !== undefined && healthOf(s).join() === 'healthy,unhealthy' ? s : undefined;
    }, HEALTH_WAIT_MS, 200);
    expect(statusSchema(status)).toBe(true);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
  }, 90_000);
});
