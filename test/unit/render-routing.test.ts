/** Routing rules in render: order across files, path matchers, and what an old Caddy cannot serve. */
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import type { JsonObject } from '../../src/model/json.js';
import type { Ingress, Instance, Rule } from '../../src/model/resource.js';
import type { RenderSettings } from '../../src/model/settings.js';
import { desiredState, unsupportedStates } from '../../src/reconciler/desired-state.js';
import { render } from '../../src/render/index.js';
import { parseManifest } from '../../src/manifest/parse.js';

const SETTINGS: RenderSettings = {
  listenAddress: '127.0.0.1',
  dnsZone: 'ingressd.internal',
  dnsResolver: 'udp/127.0.0.1:25353',
  upstreamMode: 'dns',
  upstreamRefresh: '1s',
  upstreamIdleTimeout: '5s',
  caddy: DEFAULT_CADDY,
  streamCloseDelay: undefined,
  gracePeriod: '10s',
  trustedProxies: [],
  storage: undefined,
  httpPort: 80,
  httpsPort: 443,
  tls: { acme: undefined, acmeMissing: 'ACME_EMAIL is not set', challenge: 'dns-01', allowedDomains: [], httpPort: 80 },
};
const CADDY_262 = { version: { major: 2, minor: 6, patch: 2 }, modules: [] };

const plain = (hostname: string, instance: string, extra: Partial<Rule> = {}, path?: string): Rule => ({
  match: { hostname, port: 80, ...(path === undefined ? {} : { path }) },
  target: { instance, port: 8080 },
  tls: false,
  redirect_http: false,
  ...extra,
});
const ingress = (name: string, rules: Rule[]): Ingress => ({ kind: 'Ingress', id: `id-${name}`, name, rules });
const instances: Instance[] = ['a', 'b', 'c'].map((n) => ({ kind: 'Instance', id: `inst-${n}`, name: n, address: '127.0.0.1' }));

function routeIds(config: JsonObject): string[] {
  const servers = (config['apps'] as { http: { servers: Record<string, { routes: { '@id': string }[] }> } }).http.servers;
  return servers['ingress-80']!.routes.map((r) => r['@id']);
}

describe('render: routing rules', () => {
  it('serves a plain-HTTP path rule of a host whose TLS rule redirects (the host-wide redirect comes after path rules)', () => {
    const input = {
      ingresses: [
        ingress('a-tls', [{ ...plain('shop.test', 'a'), match: { hostname: 'shop.test', port: 443 }, tls: true, redirect_http: true }]),
        ingress('b-health', [plain('shop.test', 'b', {}, '/healthz')]),
      ],
      instances,
    };
    const ids = routeIds(render(input, SETTINGS).config);
    expect(ids).toEqual([expect.stringMatching(/^ingressd\.80\.rule\.shop\.test\.prefix\.healthz-/), 'ingressd.80.redirect.443', 'ingressd.80.notfound']);
  });

  it('renders `health_check: {}` as no health check (targets reached as without one)', () => {
    const two = (health: Partial<Rule>): Rule => {
      const { target: _omitted, ...rule } = plain('hc.test', 'a', { targets: [{ instance: 'a', port: 8080 }, { instance: 'b', port: 8080 }], ...health }, '/x');
      return rule;
    };
    const handlerOf = (rule: Rule): string => JSON.stringify(render({ ingresses: [ingress('hc', [rule])], instances }, SETTINGS).config);
    const without = handlerOf(two({}));
    expect(without).toContain('dynamic_upstreams');
    expect(handlerOf(two({ health_check: {} }))).toBe(without);
  });

  it('orders one host\'s rules from several files: exact, longest prefix first, then the catch-all', () => {
    const input = {
      ingresses: [
        ingress('z-short', [plain('shop.test', 'a', {}, '/api')]),
        ingress('a-catch-all', [plain('shop.test', 'c')]),
        ingress('m-long', [plain('shop.test', 'b', {}, '/api/v1'), plain('shop.test', 'b', { match: { hostname: 'shop.test', port: 80, path: '/api', path_type: 'exact' } })]),
      ],
      instances,
    };
    const ids = routeIds(render(input, SETTINGS).config);
    expect(ids).toEqual([
      expect.stringMatching(/^ingressd\.80\.rule\.shop\.test\.exact\.api-/),
      expect.stringMatching(/^ingressd\.80\.rule\.shop\.test\.prefix\.api-v1-/),
      expect.stringMatching(/^ingressd\.80\.rule\.shop\.test\.prefix\.api-/),
      'ingressd.80.exact.c.8080',
      'ingressd.80.notfound',
    ]);
  });

  it('shares one route among hosts with the same path and handling, keeping each host\'s path order', () => {
    const hosts = Array.from({ length: 300 }, (_, i) => `h${String(i).padStart(3, '0')}.test`);
    const input = {
      ingresses: [
        ...hosts.map((h) => ingress(`i-${h.replace('.', '-')}`, [plain(h, 'a', {}, '/api'), plain(h, 'b', {}, '/static'), plain(h, 'c')])),
        ingress('special', [plain('h001.test', 'c', {}, '/api/v1')]),
      ],
      instances,
    };
    const config = render(input, SETTINGS).config;
    const ids = routeIds(config);
    // /api/v1 (one host) before the shared /api and /static routes, then the shared catch-all list.
    expect(ids).toEqual([
      expect.stringMatching(/^ingressd\.80\.rule\.h001\.test\.prefix\.api-v1-/),
      expect.stringMatching(/^ingressd\.80\.rules\.prefix\.static-/),
      expect.stringMatching(/^ingressd\.80\.rules\.prefix\.api-/),
      'ingressd.80.exact.c.8080',
      'ingressd.80.notfound',
    ]);
    const servers = (config['apps'] as { http: { servers: Record<string, { routes: { match?: { host: string[] }[] }[] }> } }).http.servers;
    expect(servers['ingress-80']!.routes[2]!.match![0]!.host).toEqual(hosts);
  });

  it('matches a prefix on whole segments and an exact path as written', () => {
    const input = { ingresses: [ingress('x', [plain('shop.test', 'a', {}, '/api/'), plain('shop.test', 'b', { match: { hostname: 'shop.test', port: 80, path: '/v1/', path_type: 'exact' } })])], instances };
    const text = JSON.stringify(render(input, SETTINGS).config);
    expect(text).toContain('"path":["/api","/api/*"]');
    expect(text).toContain('"path":["/v1/"]');
  });

  it('leaves out only the weighted rule on Caddy 2.6.2, with CaddyTooOld, and serves the rest', () => {
    const text = JSON.stringify({
      rules: [
        { match: { hostname: 'shop.test', path: '/w' }, targets: [{ instance: 'a', port: 1, weight: 3 }, { instance: 'b', port: 1 }], load_balancing: { policy: 'weighted_round_robin' } },
        { match: { hostname: 'shop.test', path: '/r' }, targets: [{ instance: 'a', port: 1 }, { instance: 'b', port: 1 }] },
      ],
    });
    const manifest = parseManifest('shop.json', text);
    const settings = { ...SETTINGS, caddy: CADDY_262 };
    const state = desiredState({ manifests: [manifest], acceptedSince: new Map(), settings });
    const ids = routeIds(state.config);
    expect(ids.some((id) => id.includes('.prefix.w-'))).toBe(false);
    expect(ids.some((id) => id.includes('.prefix.r-'))).toBe(true);
    const states = unsupportedStates(state.evaluated.ingresses, settings);
    const shop = states.get(state.evaluated.ingresses[0]!.id);
    expect(shop?.reason).toBe('CaddyTooOld');
    expect(shop?.message).toContain('/rules/0');
    expect(shop?.message).toContain('weighted_round_robin needs Caddy 2.7.0');
    // The newest Caddy serves both.
    const current = desiredState({ manifests: [manifest], acceptedSince: new Map(), settings: SETTINGS });
    expect(routeIds(current.config).filter((id) => id.includes('.rule.'))).toHaveLength(2);
    expect(unsupportedStates(current.evaluated.ingresses, SETTINGS).size).toBe(0);
  });

  it('resolves every target through the instance DNS in dns mode: dynamic upstreams in target order, or static names with health checks', () => {
    const targets = { target: undefined, targets: [{ instance: 'a', port: 1 }, { instance: 'B', port: 2 }] };
    const dynamic = JSON.stringify(render({ ingresses: [ingress('x', [{ ...plain('shop.test', 'a'), ...targets }])], instances }, SETTINGS).config);
    expect(dynamic).toContain('"dynamic_upstreams":{"source":"multi","sources":[{"name":"a.ingressd.internal","port":"1"');
    expect(dynamic).toContain('{"name":"b.ingressd.internal","port":"2"');
    expect(dynamic).not.toContain('"upstreams":[');
    const checked = { ...plain('shop.test', 'a'), ...targets, health_check: { active: { path: '/healthz' } } };
    const text = JSON.stringify(render({ ingresses: [ingress('x', [checked])], instances }, SETTINGS).config);
    expect(text).toContain('"upstreams":[{"dial":"a.ingressd.internal:1"},{"dial":"b.ingressd.internal:2"}]');
    expect(text).toContain('"resolver":{"addresses":["udp/127.0.0.1:25353"]}');
    expect(text).not.toContain('dynamic_upstreams');
  });
});
