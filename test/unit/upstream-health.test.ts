import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveOptions } from '../../src/controller/options.js';
import { parseManifest } from '../../src/manifest/parse.js';
import type { Ingress } from '../../src/model/resource.js';
import type { RenderSettings } from '../../src/model/settings.js';
import { evaluate } from '../../src/reconciler/evaluate.js';
import { indexInstances, routesOf } from '../../src/reconciler/routes-status.js';
import { buildStatus } from '../../src/reconciler/status.js';
import { StatusSync } from '../../src/reconciler/status-sync.js';
import { createStatusWriter } from '../../src/reconciler/status-writer.js';
import type { ResourceStatus } from '../../src/reconciler/status-types.js';
import { parseUpstreamHealth } from '../../src/reconciler/upstream-health.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/caddy-metrics/', import.meta.url));

/** Captured from `GET /metrics` on Caddy's admin API (scripted in the fixture README). */
async function captured(version: string): Promise<string> {
  return readFile(join(FIXTURES, `v${version}.prom`), 'utf8');
}

const settingsOf = (env: Record<string, string> = {}): RenderSettings => resolveOptions(env, {}, { cwd: '/tmp', isTty: false }).render;

function ingressOf(rules: unknown[]): Ingress {
  const manifest = parseManifest('shop.json', JSON.stringify({ kind: 'Ingress', name: 'shop', rules }));
  if (manifest.resource?.kind !== 'Ingress') throw new Error(`not an ingress: ${JSON.stringify(manifest.issues)}`);
  return manifest.resource;
}

const TARGETS = [{ instance: 'api-1', port: 41713 }, { instance: 'api-2', port: 41714 }];
const CHECKED = { match: { hostname: 'shop.test', path: '/api' }, targets: TARGETS, health_check: { active: { path: '/healthz' } } };

describe('parseUpstreamHealth (text captured from real Caddy)', () => {
  test.each(['2.11.9', '2.6.2'])('reads every upstream of the gauge on Caddy %s, healthy and not, and nothing else', async (version) => {
    const text = await captured(version);
    const port = version === '2.11.9' ? 4171 : 4172;
    expect(parseUpstreamHealth(text)).toEqual(
      new Map([
        [`127.0.0.1:${port}3`, true],
        [`[::1]:${port}4`, false],
        [`api-2.ingressd.internal:${port}4`, false],
      ]),
    );
  });

  test('skips HELP/TYPE lines, other metrics and malformed samples', () => {
    const text = [
      '# HELP caddy_reverse_proxy_upstreams_healthy x',
      'caddy_reverse_proxy_upstreams_healthy{upstream="a:1"} 1',
      'caddy_reverse_proxy_upstreams_healthy{upstream="b:1"} NaNish',
      'caddy_reverse_proxy_upstreams_healthy{other="c:1"} 0',
      'caddy_reverse_proxy_upstreams_healthy_other{upstream="d:1"} 0',
      'caddy_admin_http_requests_total{code="200",upstream="e:1"} 0',
    ].join('\n');
    expect(parseUpstreamHealth(text)).toEqual(new Map([['a:1', true]]));
    expect(parseUpstreamHealth('')).toEqual(new Map());
  });
});

describe('target health in routes', () => {
  const health = new Map([['api-1.ingressd.internal:41713', true], ['api-2.ingressd.internal:41714', false]]);

  test('a rule with health checks shows each target as Caddy reports it by the address it dials; unreported is unknown', () => {
    const ingress = ingressOf([CHECKED, { ...CHECKED, match: { hostname: 'other.test' }, targets: [...TARGETS, { instance: 'api-3', port: 1 }] }]);
    const routes = routesOf(ingress, indexInstances([]), settingsOf(), health);
    expect(routes[0]!.targets!.map((t) => t.health)).toEqual(['healthy', 'unhealthy']);
    expect(routes[1]!.targets!.map((t) => t.health)).toEqual(['healthy', 'unhealthy', 'unknown']);
  });

  test('passive checks alone report health too', () => {
    const ingress = ingressOf([{ ...CHECKED, health_check: { passive: { max_fails: 1 } } }]);
    expect(routesOf(ingress, indexInstances([]), settingsOf(), health)[0]!.targets!.map((t) => t.health)).toEqual(['healthy', 'unhealthy']);
  });

  test('rules without health checks and pattern rules have no health field', () => {
    const ingress = ingressOf([
      { match: { hostname: 'plain.test' }, target: TARGETS[0] },
      { ...CHECKED, health_check: undefined, match: { hostname: 'lb.test' } },
      { match: { hostname: '{instance}.apps.test', path: '/x' }, targets: [{ instance: '{instance}', port: 41713 }], health_check: { passive: {} } },
    ]);
    const routes = routesOf(ingress, indexInstances([]), settingsOf(), health);
    expect(routes[0]!.targets).toBeUndefined();
    expect(routes[1]!.targets!.every((t) => t.health === undefined)).toBe(true);
    expect(routes[2]!.targets![0]!.health).toBeUndefined();
  });

  test('static mode looks targets up by instance address; an undeclared one is dialled by no one and has no health', () => {
    const ingress = ingressOf([CHECKED]);
    const instances = indexInstances([{ kind: 'Instance', id: 'i1', name: 'api-1', address: '::1' }]);
    const routes = routesOf(ingress, instances, settingsOf({ UPSTREAM_MODE: 'static' }), new Map([['[::1]:41713', false]]));
    expect(routes[0]!.targets!.map((t) => [t.upstream, t.health])).toEqual([['::1', 'unhealthy'], ['(instance "api-2" not declared)', undefined]]);
  });
});

describe('Ready and target health', () => {
  const ingress = ingressOf([CHECKED, { match: { hostname: 'plain.test' }, target: TARGETS[0] }]);
  const manifest = parseManifest('shop.json', JSON.stringify({ kind: 'Ingress', name: 'shop', rules: [CHECKED] }));
  const statusWith = (health: Map<string, boolean>): ResourceStatus =>
    buildStatus({
      evaluation: { manifest, accepted: true, issues: [] },
      program: { status: 'True', reason: 'Programmed', message: 'served' },
      routes: routesOf(ingress, indexInstances([]), settingsOf(), health),
      certificates: undefined,
      previous: undefined,
      now: '2026-01-01T00:00:00.000Z',
    });
  const ready = (s: ResourceStatus) => s.conditions.find((c) => c.type === 'Ready')!;

  test('a rule whose every target is unhealthy makes Ready False with NoHealthyTargets, Programmed stays True', () => {
    const status = statusWith(new Map([['api-1.ingressd.internal:41713', false], ['api-2.ingressd.internal:41714', false]]));
    expect(ready(status)).toMatchObject({ status: 'False', reason: 'NoHealthyTargets' });
    expect(ready(status).message).toContain('shop.test:80 prefix /api (api-1.ingressd.internal:41713, api-2.ingressd.internal:41714)');
    expect(status.conditions.find((c) => c.type === 'Programmed')!.status).toBe('True');
  });

  test('one healthy target, or health not reported yet, keeps Ready True', () => {
    expect(ready(statusWith(new Map([['api-1.ingressd.internal:41713', true], ['api-2.ingressd.internal:41714', false]])))).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(ready(statusWith(new Map([['api-1.ingressd.internal:41713', false]])))).toMatchObject({ status: 'True', reason: 'Ready' });
  });
});

describe('status files follow health changes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingressd-health-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a status is rewritten when its targets\' health changes, and only then', async () => {
    const settings = settingsOf();
    const manifests = [
      parseManifest('shop.json', JSON.stringify({ kind: 'Ingress', name: 'shop', rules: [CHECKED] })),
      parseManifest('plain.json', JSON.stringify({ kind: 'Ingress', name: 'plain', rules: [{ match: { hostname: 'plain.test' }, target: TARGETS[0] }] })),
      parseManifest('api-1.json', JSON.stringify({ kind: 'Instance', name: 'api-1', address: '127.0.0.1' })),
      parseManifest('api-2.json', JSON.stringify({ kind: 'Instance', name: 'api-2', address: '127.0.0.2' })),
    ];
    const evaluated = evaluate(manifests, new Map(), settings.tls);
    const sync = new StatusSync(createStatusWriter(dir), settings, () => true);
    const up = new Map([['api-1.ingressd.internal:41713', true], ['api-2.ingressd.internal:41714', true]]);
    const down = new Map([['api-1.ingressd.internal:41713', false], ['api-2.ingressd.internal:41714', false]]);
    const served = { status: 'True', reason: 'Programmed', message: 'served' } as const;
    const program = new Map(manifests.map((m) => [m.file, served]));
    const write = (health: Map<string, boolean>) => sync.write(evaluated, program, new Map(), 0, () => false, health);
    expect((await write(up)).written).toBe(4);
    expect((await write(new Map(up))).written).toBe(0);
    expect((await write(down)).written).toBe(1);
    const onDisk = JSON.parse(await readFile(join(dir, 'shop.status.json'), 'utf8')) as ResourceStatus;
    expect(onDisk.routes![0]!.targets!.map((t) => t.health)).toEqual(['unhealthy', 'unhealthy']);
    expect(onDisk.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'NoHealthyTargets' });
    expect((await write(down)).written).toBe(0);
    expect((await write(up)).written).toBe(1);
  });
});
