/**
 * Per-rule limits (rate_limit): the schema's and validation's rules through the real parser, the
 * handler and its place in the chain (after the IP filter, before the body limit), zone names that
 * are stable and per rule, status, and CaddyModuleMissing on a Caddy without the module; a fleet
 * limit's distributed mode, and SharedStorageMissing without CADDY_STORAGE.
 */
import { describe, expect, it } from '@jest/globals';
import { parseManifest } from '../../src/manifest/parse.js';
import type { Issue } from '../../src/model/issues.js';
import type { JsonObject } from '../../src/model/json.js';
import type { Ingress, Rule } from '../../src/model/resource.js';
import type { RenderSettings } from '../../src/model/settings.js';
import { desiredState, unsupportedStates } from '../../src/reconciler/desired-state.js';
import { indexInstances, routesOf } from '../../src/reconciler/routes-status.js';
import { validateResource } from '../../src/reconciler/validate.js';
import { render } from '../../src/render/index.js';
import { RENDER_SETTINGS, TLS } from '../helpers/tls-settings.js';

const SETTINGS: RenderSettings = RENDER_SETTINGS;
type Json = Record<string, unknown>;
const BASE: Json = { match: { hostname: 'shop.example.com' }, target: { instance: 'api-1', port: 8080 } };

/** Every issue of one ingress file with one rule (schema first, then validation). */
function problems(fields: Json): Issue[] {
  const manifest = parseManifest('shop.json', JSON.stringify({ rules: [{ ...BASE, ...fields }] }));
  const issues = manifest.resource === undefined ? manifest.issues : validateResource(manifest.resource, TLS);
  for (const i of issues) expect(i.message.length).toBeGreaterThan(20);
  return [...issues];
}

const ingressOf = (rules: Rule[], id = 'id-shop'): Ingress => ({ kind: 'Ingress', id, name: 'shop', rules });
const rule = (extra: Partial<Rule> = {}): Rule => ({ match: { hostname: 'shop.test', port: 80 }, target: { instance: 'a', port: 8080 }, tls: false, redirect_http: false, ...extra });

type Route = { '@id': string; handle: JsonObject[] };
function ownRoutes(ingresses: Ingress[], settings: RenderSettings = SETTINGS): Route[] {
  const config = render({ ingresses, instances: [] }, settings).config;
  const routes = (config['apps'] as { http: { servers: Record<string, { routes: Route[] }> } }).http.servers['ingress-80']!.routes;
  return routes.filter((r) => r['@id'].includes('.rule.'));
}

describe('rate_limit', () => {
  it.each([
    [{ requests: 100, window: '1m' }],
    [{ requests: 1, window: '1s', key: 'client_ip' }],
    [{ requests: 100000, window: '1d', key: 'header:X-Api-Key' }],
    [{ requests: 5, window: '1h30m' }],
    [{ requests: 5, window: '1m', scope: 'node' }],
    [{ requests: 5, window: '1m', scope: 'fleet' }],
  ])('accepts %j', (rate_limit) => expect(problems({ rate_limit })).toEqual([]));

  it.each([
    [{ requests: 100 }, '/rules/0/rate_limit/window', 'add "window"'],
    [{ window: '1m' }, '/rules/0/rate_limit/requests', 'add "requests"'],
    [{ requests: 100, window: '1 fortnight' }, '/rules/0/rate_limit/window', 'duration such as 1m'],
    [{ requests: 100, window: '0s' }, '/rules/0/rate_limit/window', 'outside 1s to 1d'],
    [{ requests: 100, window: '500ms' }, '/rules/0/rate_limit/window', 'outside 1s to 1d'],
    [{ requests: 100, window: '2d' }, '/rules/0/rate_limit/window', 'outside 1s to 1d'],
    [{ requests: 0, window: '1m' }, '/rules/0/rate_limit/requests', 'from 1 to 100000'],
    [{ requests: 1.5, window: '1m' }, '/rules/0/rate_limit/requests', 'whole number'],
    [{ requests: '100', window: '1m' }, '/rules/0/rate_limit/requests', 'whole number'],
    [{ requests: 100001, window: '1m' }, '/rules/0/rate_limit/requests', 'from 1 to 100000'],
    [{ requests: 100, window: '1m', key: 'cookie:x' }, '/rules/0/rate_limit/key', 'header:<Name>'],
    [{ requests: 100, window: '1m', key: 'header:X Api' }, '/rules/0/rate_limit/key', 'not an HTTP token'],
    [{ requests: 100, window: '1m', key: 'header:' }, '/rules/0/rate_limit/key', 'not an HTTP token'],
    [{ requests: 100, window: '1m', burst: 5 }, '/rules/0/rate_limit/burst', ''],
    [{ requests: 100, window: '1m', scope: 'cluster' }, '/rules/0/rate_limit/scope', 'fleet'],
  ])('refuses %j with a pointer and a fix', (rate_limit, path, words) => {
    const issues = problems({ rate_limit });
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toContain(words);
  });

  it('renders the rate_limit handler after the IP filter and before the body limit, headers and proxy', () => {
    const r = rule({ allow_ips: ['10.0.0.0/8'], rate_limit: { requests: 100, window: '1m' }, max_request_body: '1KB', headers: { request: { set: { 'X-A': 'a' } } } });
    const [own] = ownRoutes([ingressOf([r])]);
    expect(own!.handle.map((h) => h['handler'])).toEqual(['subroute', 'rate_limit', 'request_body', 'headers', 'reverse_proxy']);
    expect(own!.handle[1]).toEqual({ handler: 'rate_limit', rate_limits: { 'id-shop/80/shop.test': { key: '{http.vars.client_ip}', max_events: 100, window: '1m' } } });
  });

  it('keys by a header value, and names one zone per rule from its ingress, port, host and path', () => {
    const a = rule({ match: { hostname: 'shop.test', port: 80, path: '/api' }, rate_limit: { requests: 5, window: '10s', key: 'header:X-Api-Key' } });
    const b = rule({ match: { hostname: 'shop.test', port: 80, path: '/api', path_type: 'exact' }, rate_limit: { requests: 5, window: '10s', key: 'header:X-Api-Key' } });
    const c = rule({ match: { hostname: 'other.test', port: 80, path: '/api' }, rate_limit: { requests: 5, window: '10s', key: 'header:X-Api-Key' } });
    const zones = (routes: Route[]): Json[] => routes.map((r) => r.handle[0]!['rate_limits'] as Json);
    const first = zones(ownRoutes([ingressOf([a, b]), ingressOf([c], 'id-other')]));
    expect(first).toHaveLength(3);
    expect(new Set(first.map((z) => Object.keys(z)[0])).size).toBe(3);
    expect(first).toContainEqual({ 'id-shop/80/shop.test/prefix:/api': { key: '{http.request.header.X-Api-Key}', max_events: 5, window: '10s' } });
    expect(first).toContainEqual({ 'id-shop/80/shop.test/exact:/api': { key: '{http.request.header.X-Api-Key}', max_events: 5, window: '10s' } });
    // Same input in another order, another rule added: the same zone names (counters survive reloads by name).
    const again = zones(ownRoutes([ingressOf([c], 'id-other'), ingressOf([rule({ match: { hostname: 'new.test', port: 80 } }), b, a])]));
    for (const z of first) expect(again).toContainEqual(z);
  });

  it('shows the limit in status, in the order policies apply', () => {
    const r = rule({ deny_ips: ['10.0.0.1'], rate_limit: { requests: 5, window: '1m', key: 'header:X-Api-Key' }, max_request_body: '1KB' });
    const [route] = routesOf(ingressOf([r]), indexInstances([]), SETTINGS);
    expect(route!.policies).toEqual([
      { policy: 'deny_ips', effect: 'clients in 10.0.0.1 get 403' },
      { policy: 'rate_limit', effect: '5 requests per 1m per value of X-Api-Key; more get 429 with Retry-After' },
      { policy: 'max_request_body', effect: 'bodies above 1KB (1000 bytes) get 413' },
    ]);
    const [plain] = routesOf(ingressOf([rule({ rate_limit: { requests: 9, window: '1s' } })]), indexInstances([]), SETTINGS);
    expect(plain!.policies).toEqual([{ policy: 'rate_limit', effect: '9 requests per 1s per client IP; more get 429 with Retry-After' }]);
  });

  it('is CaddyModuleMissing on a Caddy without http.handlers.rate_limit, naming the module and the build; the other rules serve', () => {
    const manifest = parseManifest('shop.json', JSON.stringify({ rules: [{ ...BASE, rate_limit: { requests: 1, window: '1m' } }, { match: { hostname: 'other.example.com' }, target: { instance: 'api-1', port: 8080 } }] }));
    const settings = { ...SETTINGS, caddy: { version: { major: 2, minor: 6, patch: 2 }, modules: ['http.handlers.reverse_proxy'] } };
    const state = desiredState({ manifests: [manifest], acceptedSince: new Map(), settings });
    const text = JSON.stringify(state.config);
    expect(text).not.toContain('rate_limit');
    expect(text).toContain('other.example.com');
    const shop = unsupportedStates(state.evaluated.ingresses, settings).get(state.evaluated.ingresses[0]!.id);
    expect(shop?.reason).toBe('CaddyModuleMissing');
    expect(shop?.message).toContain('http.handlers.rate_limit');
    expect(shop?.message).toContain('npm run build:caddy');
  });
});

describe('rate_limit scope fleet', () => {
  const shared: RenderSettings = { ...SETTINGS, storage: { module: 'file_system', root: '/srv/shared/caddy' } };
  const fleetRule = rule({ rate_limit: { requests: 10, window: '1m', scope: 'fleet' } });

  it('turns on the module\'s distributed mode over Caddy\'s storage; a node limit has none', () => {
    const [fleet] = ownRoutes([ingressOf([fleetRule])], shared);
    expect(fleet!.handle[0]).toEqual({
      handler: 'rate_limit',
      rate_limits: { 'id-shop/80/shop.test': { key: '{http.vars.client_ip}', max_events: 10, window: '1m' } },
      distributed: { purge_age: '24h', read_interval: '1s', write_interval: '1s' },
    });
    for (const scope of ['node', undefined] as const) {
      const [node] = ownRoutes([ingressOf([rule({ rate_limit: { requests: 10, window: '1m', ...(scope === undefined ? {} : { scope }) } })])], shared);
      expect(node!.handle[0]).not.toHaveProperty('distributed');
    }
  });

  it('says "across the fleet" in status', () => {
    const [route] = routesOf(ingressOf([fleetRule]), indexInstances([]), shared);
    expect(route!.policies).toEqual([{ policy: 'rate_limit', effect: '10 requests per 1m per client IP across the fleet; more get 429 with Retry-After' }]);
  });

  it('is SharedStorageMissing without CADDY_STORAGE, naming the setting and the way out; the other rules serve', () => {
    const rules = [{ ...BASE, rate_limit: { requests: 10, window: '1m', scope: 'fleet' } }, { match: { hostname: 'other.example.com' }, target: { instance: 'api-1', port: 8080 } }];
    const manifest = parseManifest('shop.json', JSON.stringify({ rules }));
    expect(SETTINGS.storage).toBeUndefined();
    const state = desiredState({ manifests: [manifest], acceptedSince: new Map(), settings: SETTINGS });
    expect(JSON.stringify(state.config)).not.toContain('rate_limit');
    expect(JSON.stringify(state.config)).toContain('other.example.com');
    const shop = unsupportedStates(state.evaluated.ingresses, SETTINGS).get(state.evaluated.ingresses[0]!.id);
    expect(shop).toMatchObject({ status: 'False', reason: 'SharedStorageMissing' });
    expect(shop?.message).toContain('rule /rules/0 (shop.example.com:80) is not served');
    expect(shop?.message).toContain('CADDY_STORAGE');
    expect(shop?.message).toContain('"scope": "node"');
    expect(shop?.message).toContain('its other rule serves');
    // With a shared storage the same file is served whole, distributed mode on.
    const served = desiredState({ manifests: [manifest], acceptedSince: new Map(), settings: shared });
    expect(JSON.stringify(served.config)).toContain('"distributed"');
    expect(unsupportedStates(served.evaluated.ingresses, shared).size).toBe(0);
  });

  it('is CaddyModuleMissing first on a Caddy without the module, storage or not', () => {
    const old = { ...SETTINGS, caddy: { version: { major: 2, minor: 6, patch: 2 }, modules: ['http.handlers.reverse_proxy'] } };
    expect(unsupportedStates([ingressOf([fleetRule])], old).get('id-shop')?.reason).toBe('CaddyModuleMissing');
  });
});

describe('timeouts', () => {
  it.each([[{ dial: '3s', response_header: '30s' }], [{ dial: '250ms' }], [{ response_header: '1d' }], [{}]])('accepts %j', (timeouts) => expect(problems({ timeouts })).toEqual([]));

  it.each([
    [{ dial: '0s' }, '/rules/0/timeouts/dial', 'outside 1ms to 1d'],
    [{ response_header: '2d' }, '/rules/0/timeouts/response_header', 'outside 1ms to 1d'],
    [{ dial: 'soon' }, '/rules/0/timeouts/dial', 'duration such as 3s'],
    [{ dial: 3 }, '/rules/0/timeouts/dial', 'duration such as 3s'],
    [{ read: '1s' }, '/rules/0/timeouts/read', ''],
  ])('refuses %j with a pointer and a fix', (timeouts, path, words) => {
    const issues = problems({ timeouts });
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toContain(words);
  });

  it('renders dial_timeout and response_header_timeout on the proxy transport, beside what it had', () => {
    const [own] = ownRoutes([ingressOf([rule({ timeouts: { dial: '3s', response_header: '30s' } })])]);
    const proxy = own!.handle.at(-1)!;
    expect(proxy['handler']).toBe('reverse_proxy');
    expect(proxy['transport']).toEqual({ protocol: 'http', keep_alive: { idle_timeout: '5s', max_idle_conns_per_host: 32 }, dial_timeout: '3s', response_header_timeout: '30s' });
    const [bare] = ownRoutes([ingressOf([rule({ timeouts: {} })])]);
    expect(bare!.handle.at(-1)!['transport']).toEqual({ protocol: 'http', keep_alive: { idle_timeout: '5s', max_idle_conns_per_host: 32 } });
  });

  it('shows both timeouts and their answers in status, after the other policies', () => {
    const [route] = routesOf(ingressOf([rule({ timeouts: { dial: '1s', response_header: '20s' }, max_request_body: '1KB' })]), indexInstances([]), SETTINGS);
    expect(route!.policies).toEqual([
      { policy: 'max_request_body', effect: 'bodies above 1KB (1000 bytes) get 413' },
      { policy: 'timeouts', effect: 'connecting to a target over 1s gets 502; response headers later than 20s get 504' },
    ]);
  });
});

describe('compress', () => {
  it('accepts true and false; refuses anything else with a pointer', () => {
    expect(problems({ compress: true })).toEqual([]);
    expect(problems({ compress: false })).toEqual([]);
    const issues = problems({ compress: 'gzip' });
    expect(issues.map((i) => i.path)).toEqual(['/rules/0/compress']);
    expect(issues[0]!.message).toContain('true or false');
  });

  it('renders encode (zstd preferred, then gzip, above 512 bytes) last before the rewrite and the proxy', () => {
    const r = rule({ match: { hostname: 'shop.test', port: 80, path: '/app' }, strip_path_prefix: true, compress: true, headers: { response: { set: { 'X-A': 'a' } } }, rate_limit: { requests: 9, window: '1s' } });
    const [own] = ownRoutes([ingressOf([r])]);
    expect(own!.handle.map((h) => h['handler'])).toEqual(['rate_limit', 'headers', 'encode', 'rewrite', 'reverse_proxy']);
    expect(own!.handle[2]).toEqual({ handler: 'encode', encodings: { gzip: {}, zstd: {} }, prefer: ['zstd', 'gzip'], minimum_length: 512 });
  });

  it('compress: false renders exactly as a rule without it, and shows nothing in status', () => {
    const plain = render({ ingresses: [ingressOf([rule()])], instances: [] }, SETTINGS).config;
    const off = render({ ingresses: [ingressOf([rule({ compress: false })])], instances: [] }, SETTINGS).config;
    expect(off).toEqual(plain);
    const [route] = routesOf(ingressOf([rule({ compress: true, timeouts: { dial: '1s' } })]), indexInstances([]), SETTINGS);
    expect(route!.policies!.map((p) => p.policy)).toEqual(['compress', 'timeouts']);
  });
});

describe('TRUSTED_PROXIES', () => {
  const trusted = (version: [number, number, number]): RenderSettings => ({ ...SETTINGS, trustedProxies: ['127.0.0.1/32'], caddy: { version: { major: version[0], minor: version[1], patch: version[2] }, modules: [] } });
  const server = (settings: RenderSettings): Json => {
    const config = render({ ingresses: [ingressOf([rule({ deny_ips: ['127.0.0.3'], allow_ips: ['127.0.0.0/8'] })])], instances: [] }, settings).config;
    return (config['apps'] as { http: { servers: Record<string, Json> } }).http.servers['ingress-80']!;
  };
  const forbidden = { handler: 'static_response', status_code: 403, body: 'Forbidden' };

  it('without them renders no trust, and the IP filter matches the TCP peer (remote_ip), as before', () => {
    const s = server(SETTINGS);
    expect(s['trusted_proxies']).toBeUndefined();
    expect(JSON.stringify(s)).not.toContain('client_ip');
  });

  it('on Caddy 2.8+: the servers trust them (static source, strict: rightmost untrusted address) and the IP filter matches client_ip', () => {
    const s = server(trusted([2, 11, 9]));
    expect(s['trusted_proxies']).toEqual({ source: 'static', ranges: ['127.0.0.1/32'] });
    expect(s['trusted_proxies_strict']).toBe(1);
    const [own] = ownRoutes([ingressOf([rule({ deny_ips: ['127.0.0.3'], allow_ips: ['127.0.0.0/8'] })])], trusted([2, 11, 9]));
    expect(own!.handle[0]).toEqual({
      handler: 'subroute',
      routes: [
        { match: [{ client_ip: { ranges: ['127.0.0.3'] } }], handle: [forbidden] },
        { match: [{ not: [{ client_ip: { ranges: ['127.0.0.0/8'] } }] }], handle: [forbidden] },
      ],
    });
    expect(JSON.stringify(own)).not.toContain('"trusted_proxies"');
  });

  it('on Caddy 2.7: server trust without strict (2.8 added it)', () => {
    const s = server(trusted([2, 7, 6]));
    expect(s['trusted_proxies']).toEqual({ source: 'static', ranges: ['127.0.0.1/32'] });
    expect(s['trusted_proxies_strict']).toBeUndefined();
  });

  it('on Caddy 2.6.2: no server trust; the proxy trusts them itself and the IP filter reads X-Forwarded-For only from a trusted peer', () => {
    const settings = trusted([2, 6, 2]);
    expect(server(settings)['trusted_proxies']).toBeUndefined();
    const [own] = ownRoutes([ingressOf([rule({ deny_ips: ['127.0.0.3'], allow_ips: ['127.0.0.0/8'] })])], settings);
    const peerTrusted = { remote_ip: { ranges: ['127.0.0.1/32'] } };
    expect(own!.handle[0]).toEqual({
      handler: 'subroute',
      routes: [
        {
          match: [
            { ...peerTrusted, not: [{ not: [{ remote_ip: { ranges: ['127.0.0.3'], forwarded: true } }] }] },
            { remote_ip: { ranges: ['127.0.0.3'] }, not: [peerTrusted] },
          ],
          handle: [forbidden],
        },
        {
          match: [{ ...peerTrusted, not: [{ remote_ip: { ranges: ['127.0.0.0/8'], forwarded: true } }] }, { not: [{ remote_ip: { ranges: ['127.0.0.0/8'] } }, peerTrusted] }],
          handle: [forbidden],
        },
      ],
    });
    expect(own!.handle.at(-1)!['trusted_proxies']).toEqual(['127.0.0.1/32']);
    // Plain rules' proxies trust them too, so every route keeps a trusted peer's X-Forwarded-For.
    const config = render({ ingresses: [ingressOf([rule({ match: { hostname: 'plain.test', port: 80 } })])], instances: [] }, settings).config;
    expect(JSON.stringify(config)).toContain('"trusted_proxies":["127.0.0.1/32"]');
  });
});
