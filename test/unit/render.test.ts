import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import { describe, expect, it } from '@jest/globals';
import { stableStringify } from '../../src/model/canonical.js';
import type { JsonObject, JsonValue } from '../../src/model/json.js';
import type { Ingress, Instance, Rule } from '../../src/model/resource.js';
import type { AcmeSettings, RenderSettings } from '../../src/model/settings.js';
import { redactSecrets, render, type RenderInput } from '../../src/render/index.js';

// ---------- builders ----------

function settings(overrides: Partial<RenderSettings> = {}, acme?: Partial<AcmeSettings>): RenderSettings {
  const base: RenderSettings = {
    listenAddress: '0.0.0.0',
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
    tls: {
      acme: acme === undefined ? undefined : acmeSettings(acme),
      acmeMissing: acme === undefined ? 'ACME_EMAIL is not set' : '',
      challenge: acme?.challenge ?? 'dns-01',
      allowedDomains: ['*'],
      httpPort: overrides.httpPort ?? 80,
    },
  };
  return { ...base, ...overrides, tls: { ...base.tls, ...(overrides.tls ?? {}) } };
}

function acmeSettings(overrides: Partial<AcmeSettings>): AcmeSettings {
  return {
    email: 'ops@example.test',
    ca: undefined,
    caRootPemFile: undefined,
    challenge: 'dns-01',
    dnsProvider: { name: 'cloudflare', apiToken: 'secret-token' },
    propagationTimeout: undefined,
    resolvers: [],
    ...overrides,
  };
}

interface RuleSpec {
  readonly host: string;
  readonly port?: number;
  readonly to: string;
  readonly targetPort?: number;
  readonly tls?: boolean;
  readonly redirect?: boolean;
}

function ingress(name: string, ...rules: RuleSpec[]): Ingress {
  return {
    kind: 'Ingress',
    id: `ing-${name}`,
    name,
    rules: rules.map(
      (r): Rule => ({
        match: { hostname: r.host, port: r.port ?? 80 },
        target: { instance: r.to, port: r.targetPort ?? 8080 },
        tls: r.tls ?? false,
        redirect_http: r.redirect ?? false,
      }),
    ),
  };
}

function instance(name: string, address = '10.0.0.1'): Instance {
  return { kind: 'Instance', id: `inst-${name}`, name, address };
}

// ---------- navigation ----------

function obj(value: JsonValue | undefined): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not an object: ${JSON.stringify(value)}`);
  return value;
}
function arr(value: JsonValue | undefined): JsonValue[] {
  if (!Array.isArray(value)) throw new Error(`not an array: ${JSON.stringify(value)}`);
  return value;
}
function http(config: JsonObject): JsonObject {
  return obj(obj(config['apps'])['http']);
}
function server(config: JsonObject, port: number): JsonObject {
  return obj(obj(http(config)['servers'])[`ingress-${port}`]);
}
function routes(config: JsonObject, port: number): JsonObject[] {
  return arr(server(config, port)['routes']).map(obj);
}
function route(config: JsonObject, id: string): JsonObject {
  for (const s of Object.values(obj(http(config)['servers']))) {
    const found = arr(obj(s)['routes']).map(obj).find((r) => r['@id'] === id);
    if (found) return found;
  }
  throw new Error(`no route ${id}`);
}
function routeIds(config: JsonObject, port: number): string[] {
  return routes(config, port).map((r) => String(r['@id']));
}
function hosts(r: JsonObject): JsonValue {
  return obj(arr(r['match'])[0])['host'] ?? null;
}
function handler(r: JsonObject): JsonObject {
  return obj(arr(r['handle'])[0]);
}
function policy(config: JsonObject): JsonObject {
  return obj(arr(obj(obj(obj(config['apps'])['tls'])['automation'])['policies'])[0]);
}
function issuer(config: JsonObject): JsonObject {
  return obj(arr(policy(config)['issuers'])[0]);
}
function allIds(value: JsonValue): string[] {
  if (Array.isArray(value)) return value.flatMap(allIds);
  if (value === null || typeof value !== 'object') return [];
  const own = typeof value['@id'] === 'string' ? [value['@id']] : [];
  return [...own, ...Object.values(value).flatMap(allIds)];
}

/** Deterministic shuffle (mulberry32), so a failure reproduces. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// ---------- a realistic mixed input ----------

const mixed: RenderInput = {
  instances: [instance('web'), instance('api', 'fd00::2'), instance('db')],
  ingresses: [
    ingress('site', { host: 'www.example.com', to: 'web' }, { host: 'example.com', to: 'web' }, { host: 'shop.example.com', port: 443, to: 'web', tls: true, redirect: true }),
    ingress('api', { host: 'api.example.com', port: 443, to: 'api', targetPort: 9000, tls: true, redirect: true }, { host: 'api.example.com', port: 8443, to: 'api', targetPort: 9000, tls: true }),
    ingress('dev', { host: '{instance}.dev.example.com', to: '{instance}' }, { host: '{instance}.{env}.example.com', to: '{instance}-{env}' }),
    ingress('ghost', { host: 'ghost.example.com', to: 'nowhere' }),
    ingress('blog', { host: 'blog.example.com', to: 'web' }, { host: 'admin.example.com', port: 8080, to: 'inst-db', targetPort: 5000 }),
  ],
};
const mixedSettings = settings({}, { challenge: 'dns-01' });

describe('render', () => {
  describe('determinism', () => {
    it('gives byte-identical config, warnings and owners whatever the order of resources and rules', () => {
      const reference = render(mixed, mixedSettings);
      const referenceText = stableStringify(reference.config);
      for (let seed = 1; seed <= 25; seed++) {
        const input: RenderInput = {
          instances: shuffled(mixed.instances, seed),
          ingresses: shuffled(mixed.ingresses, seed * 7).map((i) => ({ ...i, rules: shuffled(i.rules, seed * 13) })),
        };
        const result = render(input, mixedSettings);
        expect(stableStringify(result.config)).toBe(referenceText);
        expect(JSON.stringify(result.owners)).toBe(JSON.stringify(reference.owners));
        expect(result.warnings).toEqual(reference.warnings);
      }
    });

    it('returns canonical config (keys sorted at every level)', () => {
      const { config } = render(mixed, mixedSettings);
      expect(JSON.stringify(config)).toBe(JSON.stringify(JSON.parse(stableStringify(config))));
    });

    it('does not modify its input', () => {
      const input = deepFreeze(structuredClone(mixed));
      expect(() => render(input, deepFreeze(mixedSettings))).not.toThrow();
      expect(input).toEqual(mixed);
    });
  });

  describe('layout', () => {
    it('renders one server per port, named ingress-<port>, with its @id and listen address', () => {
      const { config } = render(mixed, mixedSettings);
      expect(Object.keys(obj(http(config)['servers']))).toEqual(['ingress-443', 'ingress-80', 'ingress-8080', 'ingress-8443']);
      expect(server(config, 8443)['@id']).toBe('ingressd.server.8443');
      expect(server(config, 8443)['listen']).toEqual(['0.0.0.0:8443']);
      expect(http(config)['http_port']).toBe(80);
      expect(http(config)['https_port']).toBe(443);
    });

    it('brackets an IPv6 listen address', () => {
      const { config } = render(mixed, settings({ listenAddress: '::' }));
      expect(server(config, 80)['listen']).toEqual(['[::]:80']);
      expect(server(config, 443)['listen']).toEqual(['[::]:443']);
    });

    it('renders only http_port, https_port, grace_period and no servers for empty input', () => {
      const result = render({ ingresses: [], instances: [instance('web')] }, settings({ httpPort: 10080, httpsPort: 10443 }, {}));
      expect(result.config).toEqual({ apps: { http: { http_port: 10080, https_port: 10443, grace_period: '10s', servers: {} } } });
      expect(result.owners).toEqual({});
      expect(result.warnings).toEqual([]);
    });

    it('orders routes: redirects, exact hosts by @id, patterns, then the 404', () => {
      const { config } = render(mixed, mixedSettings);
      expect(routeIds(config, 80)).toEqual([
        'ingressd.80.redirect.443',
        'ingressd.80.exact.nowhere.8080',
        'ingressd.80.exact.web.8080',
        'ingressd.80.pattern._.dev.example.com',
        'ingressd.80.pattern._._.example.com',
        'ingressd.80.notfound',
      ]);
      expect(routeIds(config, 443)).toEqual(['ingressd.443.exact.api.9000', 'ingressd.443.exact.web.8080', 'ingressd.443.notfound']);
    });

    it('ends every server with an unmatched, non-terminal 404 naming the host', () => {
      const { config } = render(mixed, mixedSettings);
      for (const port of [80, 443, 8080, 8443]) {
        const last = routes(config, port).at(-1)!;
        expect(last).toEqual({
          '@id': `ingressd.${port}.notfound`,
          handle: [
            {
              body: 'Not Found: no ingress configured for hostname {http.request.host}\n',
              handler: 'static_response',
              headers: { 'Content-Type': ['text/plain; charset=utf-8'] },
              status_code: 404,
            },
          ],
        });
      }
    });

    it('sorts patterns most specific first: more labels, then more literal labels, then alphabetically', () => {
      const input: RenderInput = {
        instances: [],
        ingresses: [
          // Distinct target ports, so no two neighbours share an upstream (and a route).
          ingress('a', { host: '{a}.example.com', to: '{a}', targetPort: 1 }),
          ingress('b', { host: '{a}.{b}.example.com', to: '{a}', targetPort: 2 }),
          ingress('c', { host: '{a}.stage.example.com', to: '{a}', targetPort: 3 }),
          ingress('d', { host: '{a}.dev.example.com', to: '{a}', targetPort: 4 }),
          ingress('e', { host: '{a}.x.dev.example.com', to: '{a}', targetPort: 5 }),
        ],
      };
      expect(routeIds(render(input, settings()).config, 80)).toEqual([
        'ingressd.80.pattern._.x.dev.example.com',
        'ingressd.80.pattern._.dev.example.com',
        'ingressd.80.pattern._.stage.example.com',
        'ingressd.80.pattern._._.example.com',
        'ingressd.80.pattern._.example.com',
        'ingressd.80.notfound',
      ]);
    });

    it('puts neighbouring patterns with the same upstream in one route, and never merges across another upstream', () => {
      const input: RenderInput = {
        instances: [],
        ingresses: [
          ingress('a', { host: '{a}.a.example.com', to: '{a}' }),
          ingress('b', { host: '{a}.b.example.com', to: '{a}' }),
          ingress('c', { host: '{a}.c.example.com', to: '{a}', targetPort: 9 }),
          ingress('d', { host: '{a}.d.example.com', to: '{a}' }),
        ],
      };
      const result = render(input, settings());
      expect(routeIds(result.config, 80)).toEqual(['ingressd.80.pattern._.a.example.com', 'ingressd.80.pattern._.c.example.com', 'ingressd.80.pattern._.d.example.com', 'ingressd.80.notfound']);
      expect(hosts(route(result.config, 'ingressd.80.pattern._.a.example.com'))).toEqual(['*.a.example.com', '*.b.example.com']);
      expect(result.owners['ingressd.80.pattern._.a.example.com']).toEqual(['ing-a', 'ing-b']);
    });

    it('uses only [a-z0-9._-] in @ids and never repeats one', () => {
      const input: RenderInput = {
        instances: [],
        ingresses: [ingress('odd', { host: 'a.example.com', to: 'My_App' }, { host: 'b.example.com', to: 'my-app' }, { host: 'c.example.com', to: 'MY_APP' })],
      };
      const { config } = render(input, settings());
      const ids = allIds(config);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^ingressd(\.[a-z0-9_-]+)+$/);
      // Undeclared targets are lowercased, so My_App and MY_APP are one upstream.
      expect(routeIds(config, 80)).toHaveLength(3);
      expect(routeIds(config, 80)[1]).toBe('ingressd.80.exact.my-app.8080');
    });
  });

  describe('exact-host grouping', () => {
    it('puts every literal host with the same instance and target port into one route with a sorted host list', () => {
      const { config } = render(mixed, mixedSettings);
      const web = route(config, 'ingressd.80.exact.web.8080');
      expect(hosts(web)).toEqual(['blog.example.com', 'example.com', 'www.example.com']);
      expect(web['terminal']).toBe(true);
    });

    it('keeps different target ports of one instance apart', () => {
      const input: RenderInput = {
        instances: [instance('web')],
        ingresses: [ingress('a', { host: 'a.test', to: 'web', targetPort: 1 }), ingress('b', { host: 'b.test', to: 'web', targetPort: 2 })],
      };
      expect(routeIds(render(input, settings()).config, 80)).toEqual(['ingressd.80.exact.web.1', 'ingressd.80.exact.web.2', 'ingressd.80.notfound']);
    });

    it('groups targets naming the instance by name or id, in any case, under its canonical name', () => {
      const input: RenderInput = {
        instances: [instance('db')],
        ingresses: [ingress('a', { host: 'a.test', to: 'DB' }), ingress('b', { host: 'b.test', to: 'inst-db' }), ingress('c', { host: 'c.test', to: 'db' })],
      };
      const { config } = render(input, settings());
      const r = route(config, 'ingressd.80.exact.db.8080');
      expect(hosts(r)).toEqual(['a.test', 'b.test', 'c.test']);
      expect(obj(handler(r)['dynamic_upstreams'])['name']).toBe('db.ingressd.internal');
    });

    it('keeps 10,000 hosts on two instances in two routes', () => {
      const rules: RuleSpec[] = [];
      for (let i = 0; i < 10_000; i++) rules.push({ host: `h${i}.example.test`, to: i % 2 === 0 ? 'web' : 'api' });
      const { config } = render({ instances: [instance('web'), instance('api')], ingresses: [ingress('bulk', ...rules)] }, settings());
      expect(routeIds(config, 80)).toEqual(['ingressd.80.exact.api.8080', 'ingressd.80.exact.web.8080', 'ingressd.80.notfound']);
      const list = hosts(route(config, 'ingressd.80.exact.web.8080')) as string[];
      expect(list).toHaveLength(5000);
      expect([...list].sort()).toEqual(list);
    });
  });

  describe('upstreams', () => {
    it('resolves a declared instance through DNS with refresh, a udp resolver, and a keep-alive timeout', () => {
      const { config } = render(mixed, mixedSettings);
      expect(handler(route(config, 'ingressd.443.exact.api.9000'))).toEqual({
        handler: 'reverse_proxy',
        dynamic_upstreams: {
          source: 'a',
          name: 'api.ingressd.internal',
          port: '9000',
          refresh: '1s',
          resolver: { addresses: ['udp/127.0.0.1:25353'] },
        },
        transport: { protocol: 'http', keep_alive: { idle_timeout: '5s', max_idle_conns_per_host: 32 } },
      });
    });

    it('in dns mode sends an undeclared instance to DNS (NXDOMAIN → 503 until it appears) without a warning', () => {
      const result = render(mixed, mixedSettings);
      const r = route(result.config, 'ingressd.80.exact.nowhere.8080');
      expect(obj(handler(r)['dynamic_upstreams'])['name']).toBe('nowhere.ingressd.internal');
      expect(result.warnings.filter((w) => w.resourceId === 'ing-ghost')).toEqual([]);
    });

    it('expands pattern templates into Caddy host-label placeholders', () => {
      const { config } = render(mixed, mixedSettings);
      const dev = obj(handler(route(config, 'ingressd.80.pattern._.dev.example.com'))['dynamic_upstreams']);
      expect(dev['name']).toBe('{http.request.host.labels.3}.ingressd.internal');
      const env = obj(handler(route(config, 'ingressd.80.pattern._._.example.com'))['dynamic_upstreams']);
      expect(env['name']).toBe('{http.request.host.labels.3}-{http.request.host.labels.2}.ingressd.internal');
      expect(hosts(route(config, 'ingressd.80.pattern._._.example.com'))).toEqual(['*.*.example.com']);
    });

    it('resolves a pattern rule with a literal target to the canonical instance name', () => {
      const input: RenderInput = { instances: [instance('web')], ingresses: [ingress('p', { host: '{x}.apps.test', to: 'inst-web' })] };
      const result = render(input, settings());
      expect(obj(handler(route(result.config, 'ingressd.80.pattern._.apps.test'))['dynamic_upstreams'])['name']).toBe('web.ingressd.internal');
      expect(result.owners['ingressd.80.pattern._.apps.test']).toEqual(['ing-p', 'inst-web']);
    });

    describe('static mode', () => {
      const staticSettings = settings({ upstreamMode: 'static' });

      it('dials the declared address, bracketing IPv6', () => {
        const { config } = render(mixed, staticSettings);
        expect(handler(route(config, 'ingressd.80.exact.web.8080'))).toEqual({
          handler: 'reverse_proxy',
          upstreams: [{ dial: '10.0.0.1:8080' }],
          transport: { protocol: 'http', keep_alive: { idle_timeout: '5s', max_idle_conns_per_host: 32 } },
        });
        expect(handler(route(config, 'ingressd.443.exact.api.9000'))['upstreams']).toEqual([{ dial: '[fd00::2]:9000' }]);
      });

      it('still resolves pattern rules through DNS', () => {
        const { config } = render(mixed, staticSettings);
        expect(handler(route(config, 'ingressd.80.pattern._.dev.example.com'))['dynamic_upstreams']).toBeDefined();
      });

      it('answers an undeclared instance with a 503 naming it, and warns', () => {
        const result = render(mixed, staticSettings);
        expect(handler(route(result.config, 'ingressd.80.exact.nowhere.8080'))).toEqual({
          handler: 'static_response',
          status_code: 503,
          headers: { 'Content-Type': ['text/plain; charset=utf-8'] },
          body: 'Service Unavailable: instance "nowhere" is not declared\n',
        });
        expect(result.warnings).toEqual([
          { resourceId: 'ing-ghost', message: expect.stringContaining('instance "nowhere" is not declared') },
        ]);
      });
    });
  });

  describe('redirects', () => {
    it('redirects HTTP to HTTPS in the HTTP-port server only, one route per TLS port, matching protocol http', () => {
      const { config } = render(mixed, mixedSettings);
      expect(route(config, 'ingressd.80.redirect.443')).toEqual({
        '@id': 'ingressd.80.redirect.443',
        match: [{ host: ['api.example.com', 'shop.example.com'], protocol: 'http' }],
        handle: [{ handler: 'static_response', status_code: 301, headers: { Location: ['https://{http.request.host}{http.request.uri}'] } }],
        terminal: true,
      });
      for (const port of [443, 8080, 8443]) expect(routeIds(config, port).some((id) => id.includes('redirect'))).toBe(false);
    });

    it('adds :<port> to the Location when the TLS port is not 443', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('x', { host: 'x.test', port: 8443, to: 'x', tls: true, redirect: true })] };
      const { config } = render(input, settings({}, {}));
      expect(handler(route(config, 'ingressd.80.redirect.8443'))['headers']).toEqual({ Location: ['https://{http.request.host}:8443{http.request.uri}'] });
    });

    it('opens the HTTP port for redirects even when no rule listens there, and lists patterns as wildcards', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('x', { host: '{i}.secure.test', port: 443, to: '{i}', tls: true, redirect: true })] };
      const { config } = render(input, settings({}, {}));
      expect(routeIds(config, 80)).toEqual(['ingressd.80.redirect.443', 'ingressd.80.notfound']);
      expect(hosts(route(config, 'ingressd.80.redirect.443'))).toEqual(['*.secure.test']);
    });

    it('listens for redirects on settings.tls.httpPort', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('x', { host: 'x.test', port: 10443, to: 'x', tls: true, redirect: true })] };
      const { config } = render(input, settings({ httpPort: 10080, httpsPort: 10443 }, {}));
      expect(Object.keys(obj(http(config)['servers']))).toEqual(['ingress-10080', 'ingress-10443']);
      // The HTTPS port is not 443, so the client must be told the port.
      expect(handler(route(config, 'ingressd.10080.redirect.10443'))['headers']).toEqual({ Location: ['https://{http.request.host}:10443{http.request.uri}'] });
    });

    it('renders no redirect for a TLS rule without redirect_http', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('x', { host: 'x.test', port: 443, to: 'x', tls: true })] };
      const { config } = render(input, settings({}, {}));
      expect(Object.keys(obj(http(config)['servers']))).toEqual(['ingress-443']);
    });
  });

  describe('automatic HTTPS', () => {
    it('disables it on servers without TLS rules and disables only its redirects on servers with them', () => {
      const { config } = render(mixed, mixedSettings);
      expect(server(config, 80)['automatic_https']).toEqual({ disable: true });
      expect(server(config, 8080)['automatic_https']).toEqual({ disable: true });
      expect(server(config, 443)['automatic_https']).toEqual({ disable_redirects: true });
      expect(server(config, 8443)['automatic_https']).toEqual({ disable_redirects: true });
    });
  });

  describe('TLS app', () => {
    it('lists every TLS hostname once, sorted, with patterns as wildcards, under one policy', () => {
      const input: RenderInput = {
        instances: [],
        ingresses: [
          ingress('a', { host: 'b.test', port: 443, to: 'x', tls: true }, { host: 'b.test', port: 8443, to: 'x', tls: true }),
          ingress('b', { host: 'a.test', port: 443, to: 'x', tls: true }, { host: '{i}.w.test', port: 443, to: '{i}', tls: true }),
          ingress('c', { host: 'plain.test', to: 'x' }),
        ],
      };
      const result = render(input, settings({}, {}));
      expect(policy(result.config)['@id']).toBe('ingressd.tls.acme');
      expect(policy(result.config)['subjects']).toEqual(['*.w.test', 'a.test', 'b.test']);
      expect(result.owners['ingressd.tls.acme']).toEqual(['ing-a', 'ing-b']);
    });

    it('is absent when ACME is not configured or no rule has TLS', () => {
      const tlsInput: RenderInput = { instances: [], ingresses: [ingress('a', { host: 'a.test', port: 443, to: 'x', tls: true })] };
      expect(obj(render(tlsInput, settings()).config['apps'])['tls']).toBeUndefined();
      const plainInput: RenderInput = { instances: [], ingresses: [ingress('a', { host: 'a.test', to: 'x' })] };
      expect(obj(render(plainInput, settings({}, {})).config['apps'])['tls']).toBeUndefined();
    });

    it('dns-01: cloudflare provider with token, propagation timeout, resolvers, ca and trusted roots', () => {
      const s = settings({}, { ca: 'https://acme.test/dir', caRootPemFile: '/etc/ca.pem', propagationTimeout: '2m', resolvers: ['1.1.1.1', '8.8.8.8'] });
      expect(issuer(render(mixed, s).config)).toEqual({
        module: 'acme',
        email: 'ops@example.test',
        ca: 'https://acme.test/dir',
        trusted_roots_pem_files: ['/etc/ca.pem'],
        challenges: {
          dns: { provider: { name: 'cloudflare', api_token: 'secret-token' }, propagation_timeout: '2m', resolvers: ['1.1.1.1', '8.8.8.8'] },
        },
      });
    });

    it('dns-01: leaves out ca, trusted roots, propagation timeout and resolvers when unset', () => {
      expect(issuer(render(mixed, mixedSettings).config)).toEqual({
        module: 'acme',
        email: 'ops@example.test',
        challenges: { dns: { provider: { name: 'cloudflare', api_token: 'secret-token' } } },
      });
    });

    it('http-01: enables only the HTTP challenge, answered by our own listener on the HTTP port', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('a', { host: 'a.test', port: 443, to: 'x', tls: true })] };
      const result = render(input, settings({}, { challenge: 'http-01', dnsProvider: undefined }));
      expect(issuer(result.config)['challenges']).toEqual({ bind_host: '0.0.0.0', http: {}, 'tls-alpn': { disabled: true } });
      expect(routeIds(result.config, 80)).toEqual(['ingressd.80.notfound']);
      expect(server(result.config, 80)['automatic_https']).toEqual({ disable: true });
      expect(result.owners['ingressd.server.80']).toEqual(['ing-a']);
    });

    it('http-01: sets alternate_port when the HTTP port is not 80', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('a', { host: 'a.test', port: 10443, to: 'x', tls: true })] };
      const result = render(input, settings({ httpPort: 10080, httpsPort: 10443 }, { challenge: 'http-01', dnsProvider: undefined }));
      expect(issuer(result.config)['challenges']).toEqual({ bind_host: '0.0.0.0', http: { alternate_port: 10080 }, 'tls-alpn': { disabled: true } });
      expect(Object.keys(obj(http(result.config)['servers']))).toEqual(['ingress-10080', 'ingress-10443']);
    });

    it('tls-alpn-01: disables HTTP-01 and sets alternate_port only when the HTTPS port is not 443', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('a', { host: 'a.test', port: 443, to: 'x', tls: true })] };
      const at443 = render(input, settings({}, { challenge: 'tls-alpn-01', dnsProvider: undefined }));
      expect(issuer(at443.config)['challenges']).toEqual({ bind_host: '0.0.0.0', http: { disabled: true }, 'tls-alpn': {} });
      expect(Object.keys(obj(http(at443.config)['servers']))).toEqual(['ingress-443']);
      const at10443 = render(input, settings({ httpsPort: 10443 }, { challenge: 'tls-alpn-01', dnsProvider: undefined }));
      expect(issuer(at10443.config)['challenges']).toEqual({ bind_host: '0.0.0.0', http: { disabled: true }, 'tls-alpn': { alternate_port: 10443 } });
    });

    it('tls-alpn-01: answers challenges in a TLS server of ours on the HTTPS port when no rule listens there', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('a', { host: 'a.test', port: 8443, to: 'x', tls: true })] };
      const result = render(input, settings({ listenAddress: '127.0.0.1' }, { challenge: 'tls-alpn-01', dnsProvider: undefined }));
      expect(Object.keys(obj(http(result.config)['servers']))).toEqual(['ingress-443', 'ingress-8443']);
      expect(server(result.config, 443)['listen']).toEqual(['127.0.0.1:443']);
      expect(server(result.config, 443)['tls_connection_policies']).toEqual([{}]);
      expect(routeIds(result.config, 443)).toEqual(['ingressd.443.notfound']);
      expect(server(result.config, 8443)['tls_connection_policies']).toBeUndefined();
      expect(result.owners['ingressd.server.443']).toEqual(['ing-a']);
      expect(issuer(result.config)['challenges']).toEqual({ bind_host: '127.0.0.1', http: { disabled: true }, 'tls-alpn': {} });
    });

    it('renders no challenge server or bind_host for dns-01', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('a', { host: 'a.test', port: 8443, to: 'x', tls: true })] };
      const result = render(input, settings({}, {}));
      expect(Object.keys(obj(http(result.config)['servers']))).toEqual(['ingress-8443']);
      expect(issuer(result.config)['challenges']).not.toHaveProperty('bind_host');
    });
  });

  describe('owners', () => {
    it('maps every @id in the config, and only those, to the sorted resource ids it serves', () => {
      const result = render(mixed, mixedSettings);
      expect(Object.keys(result.owners).sort()).toEqual(allIds(result.config).sort());
      expect(result.owners).toMatchObject({
        'ingressd.server.80': ['ing-api', 'ing-blog', 'ing-dev', 'ing-ghost', 'ing-site'],
        'ingressd.server.8080': ['ing-blog'],
        'ingressd.80.redirect.443': ['ing-api', 'ing-site'],
        'ingressd.80.exact.web.8080': ['ing-blog', 'ing-site', 'inst-web'],
        'ingressd.80.exact.nowhere.8080': ['ing-ghost'],
        'ingressd.8080.exact.db.5000': ['ing-blog', 'inst-db'],
        'ingressd.80.pattern._.dev.example.com': ['ing-dev'],
        'ingressd.80.notfound': [],
        'ingressd.tls.acme': ['ing-api', 'ing-site'],
      });
    });
  });

  describe('warnings', () => {
    it('warns when a rule shares a TLS port without TLS', () => {
      const input: RenderInput = {
        instances: [],
        ingresses: [ingress('a', { host: 'a.test', port: 443, to: 'x', tls: true }), ingress('b', { host: 'b.test', port: 443, to: 'x' })],
      };
      expect(render(input, settings({}, {})).warnings).toEqual([{ resourceId: 'ing-b', message: expect.stringContaining('"b.test" on port 443 has tls: false') }]);
    });

    it('warns the TLS ingresses when tls-alpn-01 must answer on an HTTPS port that only plain rules use', () => {
      const input: RenderInput = {
        instances: [],
        ingresses: [ingress('a', { host: 'a.test', port: 8443, to: 'x', tls: true }), ingress('b', { host: 'b.test', port: 443, to: 'x' })],
      };
      const alpn = settings({}, { challenge: 'tls-alpn-01', dnsProvider: undefined });
      expect(render(input, alpn).warnings).toEqual([{ resourceId: 'ing-a', message: expect.stringContaining('"a.test" cannot get a certificate: tls-alpn-01') }]);
      expect(server(render(input, alpn).config, 443)['tls_connection_policies']).toBeUndefined();
      expect(render(input, settings({}, { challenge: 'http-01', dnsProvider: undefined })).warnings).toEqual([]);
    });

    it('skips a pattern that does not parse, with a warning', () => {
      const input: RenderInput = { instances: [], ingresses: [ingress('bad', { host: 'api-{x}.test', to: '{x}' })] };
      const result = render(input, settings());
      expect(Object.keys(obj(http(result.config)['servers']))).toEqual([]);
      expect(result.warnings).toEqual([{ resourceId: 'ing-bad', message: expect.stringContaining('was not rendered') }]);
    });
  });
});

describe('redactSecrets', () => {
  it('replaces every api_token value and leaves the input and everything else unchanged', () => {
    const { config } = render(mixed, mixedSettings);
    const before = stableStringify(config);
    const redacted = redactSecrets(config);
    expect(stableStringify(config)).toBe(before);
    expect(stableStringify(redacted)).not.toContain('secret-token');
    expect(obj(obj(issuer(redacted)['challenges'])['dns'])['provider']).toEqual({ name: 'cloudflare', api_token: '<redacted>' });
    expect(stableStringify(redacted)).toBe(before.replace('"secret-token"', '"<redacted>"'));
  });
});
