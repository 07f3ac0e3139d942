/**
 * Per-rule policies (this subset: allow_ips/deny_ips, max_request_body, headers): the schema's and validation's rules through
 * the real parser, the size units, the handler chain (policies before the path rewrite and the
 * proxy), plain rules untouched, status, and CaddyTooOld on Caddy 2.6.2.
 */
import { describe, expect, it } from '@jest/globals';
import { parseManifest } from '../../src/manifest/parse.js';
import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import type { Issue } from '../../src/model/issues.js';
import type { JsonObject } from '../../src/model/json.js';
import { parseByteSize } from '../../src/model/policies.js';
import type { Ingress, Rule } from '../../src/model/resource.js';
import type { RenderSettings } from '../../src/model/settings.js';
import { desiredState, unsupportedStates } from '../../src/reconciler/desired-state.js';
import { indexInstances, routesOf } from '../../src/reconciler/routes-status.js';
import { validateResource } from '../../src/reconciler/validate.js';
import { render } from '../../src/render/index.js';
import { TLS } from '../helpers/tls-settings.js';

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

type Json = Record<string, unknown>;
const BASE: Json = { match: { hostname: 'shop.example.com' }, target: { instance: 'api-1', port: 8080 } };

/** Every issue of one ingress file with one rule (schema first, then validation). */
function problems(fields: Json): Issue[] {
  const manifest = parseManifest('shop.json', JSON.stringify({ rules: [{ ...BASE, ...fields }] }));
  const issues = manifest.resource === undefined ? manifest.issues : validateResource(manifest.resource, TLS);
  for (const i of issues) expect(i.message.length).toBeGreaterThan(20);
  return [...issues];
}

const ingressOf = (rules: Rule[]): Ingress => ({ kind: 'Ingress', id: 'id-shop', name: 'shop', rules });
const rule = (extra: Partial<Rule> = {}): Rule => ({ match: { hostname: 'shop.test', port: 80 }, target: { instance: 'a', port: 8080 }, tls: false, redirect_http: false, ...extra });

function routesOfConfig(config: JsonObject): { '@id': string; handle: JsonObject[] }[] {
  return (config['apps'] as { http: { servers: Record<string, { routes: { '@id': string; handle: JsonObject[] }[] }> } }).http.servers['ingress-80']!.routes;
}

describe('max_request_body', () => {
  it.each([
    ['10MB', 10_000_000],
    ['512KiB', 524_288],
    ['1GiB', 1024 ** 3],
    ['2GB', 2e9],
    ['100', 100],
    ['100B', 100],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
    expect(problems({ max_request_body: text })).toEqual([]);
  });

  it.each([['ten'], ['10 MB'], ['10mb'], ['1.5MB'], ['-1KB'], ['']])('refuses %j with a pointer and the units', (text) => {
    const issues = problems({ max_request_body: text });
    expect(issues.map((i) => `${i.code} ${i.path}`)).toEqual(['invalid_request /rules/0/max_request_body']);
    expect(issues[0]!.message).toContain('10MB');
  });

  it('refuses 0 and more than 1TiB, with the fix', () => {
    expect(problems({ max_request_body: '0MB' }).map((i) => i.message)).toEqual([expect.stringContaining('remove the field for no limit')]);
    expect(problems({ max_request_body: '2000GiB' }).map((i) => i.path)).toEqual(['/rules/0/max_request_body']);
    expect(problems({ max_request_body: '1024GiB' })).toEqual([]);
  });

  it('refuses a number (sizes are strings with a unit) and an unknown policy field', () => {
    expect(problems({ max_request_body: 1000 }).map((i) => i.path)).toEqual(['/rules/0/max_request_body']);
    expect(problems({ max_body: '1MB' }).map((i) => i.path)).toEqual(['/rules/0/max_body']);
  });

  it('renders request_body before the path rewrite and the proxy, in a route of its own; a plain rule renders as before', () => {
    const limited = rule({ match: { hostname: 'shop.test', port: 80, path: '/up' }, strip_path_prefix: true, max_request_body: '10MB' });
    const config = render({ ingresses: [ingressOf([limited, rule({ match: { hostname: 'plain.test', port: 80 } })])], instances: [] }, SETTINGS).config;
    const routes = routesOfConfig(config);
    const own = routes.find((r) => r['@id'].startsWith('ingressd.80.rule.shop.test.prefix.up'))!;
    expect(own.handle.map((h) => h['handler'])).toEqual(['request_body', 'rewrite', 'reverse_proxy']);
    expect(own.handle[0]).toEqual({ handler: 'request_body', max_size: 10_000_000 });
    // The plain rule renders exactly as without the other rule's policy.
    const alone = routesOfConfig(render({ ingresses: [ingressOf([rule({ match: { hostname: 'plain.test', port: 80 } })])], instances: [] }, SETTINGS).config);
    const plainOf = (rs: typeof routes) => rs.filter((r) => !r['@id'].includes('.rule.'));
    expect(plainOf(routes)).toEqual(plainOf(alone));
  });

  it('makes a rule with only a body limit non-plain: status lists the policy and the targets', () => {
    const [limited, plain] = routesOf(ingressOf([rule({ max_request_body: '1KB' }), rule({ match: { hostname: 'other.test', port: 80 } })]), indexInstances([]), SETTINGS);
    expect(limited!.policies).toEqual([{ policy: 'max_request_body', effect: 'bodies above 1KB (1000 bytes) get 413' }]);
    expect(limited!.targets).toHaveLength(1);
    expect(plain).toEqual({ hostname: 'other.test', port: 80, upstream: 'a.ingressd.internal', upstreamPort: 8080, tls: false, redirectHttp: false });
  });

  it('is CaddyTooOld on Caddy 2.6.2 (which answers 502, not 413), the other rules serving', () => {
    const manifest = parseManifest('shop.json', JSON.stringify({ rules: [{ ...BASE, max_request_body: '1MB' }, { match: { hostname: 'other.example.com' }, target: { instance: 'api-1', port: 8080 } }] }));
    const settings = { ...SETTINGS, caddy: { version: { major: 2, minor: 6, patch: 2 }, modules: [] } };
    const state = desiredState({ manifests: [manifest], acceptedSince: new Map(), settings });
    const text = JSON.stringify(state.config);
    expect(text).not.toContain('request_body');
    expect(text).toContain('other.example.com');
    const shop = unsupportedStates(state.evaluated.ingresses, settings).get(state.evaluated.ingresses[0]!.id);
    expect(shop?.reason).toBe('CaddyTooOld');
    expect(shop?.message).toContain('max_request_body');
    expect(shop?.message).toContain('/rules/0');
  });
});

describe('headers', () => {
  const paths = (fields: Json): string[] => problems(fields).map((i) => `${i.code} ${i.path}`);

  it('accepts set, add and delete on both sides, with placeholders in values', () => {
    expect(paths({ headers: { request: { set: { 'X-Real-IP': '{http.request.remote.host}' }, add: { 'X-A': 'a' }, delete: ['Cookie'] }, response: { delete: ['Server'] } } })).toEqual([]);
  });

  it.each([
    [{ request: { set: { 'X Tenant': 'a' } } }, 'invalid_request /rules/0/headers/request/set/X Tenant', 'not an HTTP token'],
    [{ response: { add: { 'X-A:': 'a' } } }, 'invalid_request /rules/0/headers/response/add/X-A:', 'not an HTTP token'],
    [{ request: { delete: ['ok', 'bad name'] } }, 'invalid_request /rules/0/headers/request/delete/1', 'not an HTTP token'],
    [{ request: { set: { 'X-A': 'one\r\nX-B: two' } } }, 'invalid_request /rules/0/headers/request/set/X-A', 'line break'],
    [{ response: { set: { 'X-A': 'a' }, delete: ['x-a'] } }, 'invalid_request /rules/0/headers/response/delete/0', 'already in "set"'],
    [{ request: { body: {} } }, 'invalid_request /rules/0/headers/request/body', ''],
    [{ request: { set: { 'X-A': 1 } } }, 'invalid_request /rules/0/headers/request/set/X-A', ''],
  ])('refuses %j with a pointer and a fix', (headers, expected, words) => {
    const issues = problems({ headers });
    expect(issues.map((i) => `${i.code} ${i.path}`)).toEqual([expected]);
    expect(issues[0]!.message).toContain(words);
  });

  it('renders after the body limit and before the proxy; the response side deferred, so it changes what the target sent', () => {
    const r = rule({ max_request_body: '1KB', headers: { request: { set: { 'X-T': 'b' }, delete: ['X-S'] }, response: { add: { 'X-R': 'r' } } } });
    const own = routesOfConfig(render({ ingresses: [ingressOf([r])], instances: [] }, SETTINGS).config).find((x) => x['@id'].includes('.rule.'))!;
    expect(own.handle.map((h) => h['handler'])).toEqual(['request_body', 'headers', 'reverse_proxy']);
    expect(own.handle[1]).toEqual({ handler: 'headers', request: { set: { 'X-T': ['b'] }, delete: ['X-S'] }, response: { add: { 'X-R': ['r'] }, deferred: true } });
  });

  it('renders no handler for empty operations, and shows them in status', () => {
    const r = rule({ headers: { request: {}, response: { delete: [] } } });
    const own = routesOfConfig(render({ ingresses: [ingressOf([r])], instances: [] }, SETTINGS).config).find((x) => x['@id'].includes('.rule.'))!;
    expect(own.handle.map((h) => h['handler'])).toEqual(['reverse_proxy']);
    const [route] = routesOf(ingressOf([r]), indexInstances([]), SETTINGS);
    expect(route!.policies).toEqual([{ policy: 'headers', effect: 'no header changes' }]);
  });
});

describe('allow_ips and deny_ips', () => {
  it('accepts IPv4 and IPv6 addresses and CIDRs', () => {
    expect(problems({ allow_ips: ['10.0.0.0/8', '192.0.2.7', '::1', 'fd00::/8', '0.0.0.0/0'], deny_ips: ['10.1.0.0/16', '::/0'] })).toEqual([]);
  });

  it.each([
    [{ allow_ips: ['10.0.0.0/33'] }, '/rules/0/allow_ips/0', '0 to 32'],
    [{ deny_ips: ['::1', 'fd00::/129'] }, '/rules/0/deny_ips/1', '0 to 128'],
    [{ allow_ips: ['10.0.0.256'] }, '/rules/0/allow_ips/0', 'not an IPv4 or IPv6 address'],
    [{ allow_ips: ['example.com'] }, '/rules/0/allow_ips/0', 'not an IPv4 or IPv6 address'],
    [{ allow_ips: ['10.0.0.0/8/9'] }, '/rules/0/allow_ips/0', 'more than one /'],
    [{ allow_ips: ['10.0.0.0/x'] }, '/rules/0/allow_ips/0', 'prefix length'],
    [{ allow_ips: ['fe80::1%eth0'] }, '/rules/0/allow_ips/0', 'zone'],
    [{ allow_ips: [] }, '/rules/0/allow_ips', 'at least one'],
  ])('refuses %j with a pointer and a fix', (fields, path, words) => {
    const issues = problems(fields);
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toContain(words);
  });

  it('renders a 403 subroute first (deny, then not-allow), before the body limit, headers and proxy', () => {
    const r = rule({ allow_ips: ['10.0.0.0/8'], deny_ips: ['10.0.0.1'], max_request_body: '1KB', headers: { request: { set: { 'X-A': 'a' } } } });
    const own = routesOfConfig(render({ ingresses: [ingressOf([r])], instances: [] }, SETTINGS).config).find((x) => x['@id'].includes('.rule.'))!;
    expect(own.handle.map((h) => h['handler'])).toEqual(['subroute', 'request_body', 'headers', 'reverse_proxy']);
    const forbidden = { handler: 'static_response', status_code: 403, body: 'Forbidden' };
    expect(own.handle[0]).toEqual({
      handler: 'subroute',
      routes: [
        { match: [{ remote_ip: { ranges: ['10.0.0.1'] } }], handle: [forbidden] },
        { match: [{ not: [{ remote_ip: { ranges: ['10.0.0.0/8'] } }] }], handle: [forbidden] },
      ],
    });
    const [route] = routesOf(ingressOf([r]), indexInstances([]), SETTINGS);
    expect(route!.policies!.map((p) => p.policy)).toEqual(['deny_ips', 'allow_ips', 'max_request_body', 'headers']);
  });
});
