import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import { describe, expect, it } from '@jest/globals';
import { stableStringify } from '../../src/model/canonical.js';
import type { ErrorPages } from '../../src/model/error-pages.js';
import type { JsonObject, JsonValue } from '../../src/model/json.js';
import type { Ingress, Instance, Rule } from '../../src/model/resource.js';
import type { AcmeSettings, RenderSettings } from '../../src/model/settings.js';
import { IncrementalRenderer } from '../../src/render/incremental.js';
import { render, type RenderInput } from '../../src/render/index.js';

// ---------- builders ----------

function settings(mode: RenderSettings['upstreamMode'], challenge: AcmeSettings['challenge'] | undefined, httpPort = 80): RenderSettings {
  const acme: AcmeSettings | undefined =
    challenge === undefined
      ? undefined
      : {
          email: 'ops@example.test',
          ca: undefined,
          caRootPemFile: undefined,
          challenge,
          dnsProvider: challenge === 'dns-01' ? { name: 'cloudflare', apiToken: 'secret-token' } : undefined,
          propagationTimeout: undefined,
          resolvers: [],
        };
  return {
    listenAddress: '127.0.0.1',
    dnsZone: 'ingressd.internal',
    dnsResolver: 'udp/127.0.0.1:25353',
    upstreamMode: mode,
    upstreamRefresh: '1s',
    upstreamIdleTimeout: '5s',
    caddy: DEFAULT_CADDY,
    streamCloseDelay: undefined,
    gracePeriod: '10s',
    trustedProxies: [],
    storage: undefined,
    httpPort,
    httpsPort: 443,
    tls: { acme, acmeMissing: acme === undefined ? 'ACME_EMAIL is not set' : '', challenge: challenge ?? 'dns-01', allowedDomains: ['*'], httpPort },
  };
}

/** Deterministic PRNG (mulberry32), so a failure replays exactly. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PORTS = [80, 443, 8080, 9000];
const TARGETS = ['inst0', 'inst1', 'INST2', 'id-inst3', 'ghost'];

const PATHS = ['/api', '/api/v1', '/api/', '/web', '/'];

/** A rule with routing fields: a path (prefix or exact), several targets, proxy options. */
function routedRule(random: () => number, base: Rule): Rule {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const path = random() < 0.7 ? { path: pick(PATHS), ...(random() < 0.3 ? { path_type: 'exact' as const } : {}) } : {};
  const several = random() < 0.5;
  const first = base.target!;
  const second = { instance: first.instance.includes('{') ? `${first.instance}-b` : pick(TARGETS), port: 7070 };
  const weighted = several && random() < 0.3;
  return {
    ...base,
    match: { ...base.match, ...path },
    ...(several ? { target: undefined, targets: [weighted ? { ...first, weight: 3 } : first, second] } : {}),
    ...(weighted ? { load_balancing: { policy: 'weighted_round_robin' as const, retries: 1 } } : random() < 0.3 ? { load_balancing: { policy: 'least_conn' as const } } : {}),
    ...(random() < 0.3 ? { health_check: { passive: { max_fails: 2 } } } : {}),
    ...('path' in path && random() < 0.4 ? { strip_path_prefix: true } : {}),
    // Policies: a rule with only a policy is no longer plain either.
    ...(random() < 0.3 ? { max_request_body: pick(['1KB', '10MB']) } : {}),
    ...(random() < 0.2 ? { allow_ips: pick([['10.0.0.0/8'], ['::1', '127.0.0.1']]) } : {}),
    ...(random() < 0.2 ? { headers: pick([{ request: { set: { 'X-A': 'a' } } }, { response: { delete: ['Server'] } }]) } : {}),
    ...(random() < 0.15 ? { error_pages: pick<ErrorPages>([{ '502': { body: 'down' } }, { '5xx': { body: 'x' }, '403': { body: 'no' } }]) } : {}),
    ...(random() < 0.1 ? { basic_auth: { realm: pick(['a', 'b']), users: [{ username: 'u', password_hash: '$2a$04$TSjGFGBjYOy5GWBIKkXfxequ2vrYBcz/nrQ.B9L6trg81QPDNxs5C' }] } } : {}),
  };
}

function randomRule(random: () => number, routing = false): Rule {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const tls = random() < 0.25;
  const kind = random();
  const hostname = kind < 0.7 ? `h${Math.floor(random() * 40)}.example.test` : kind < 0.9 ? `{instance}.p${Math.floor(random() * 8)}.example.test` : `{a}.{b}.w${Math.floor(random() * 3)}.test`;
  const target = hostname.startsWith('{a}') ? '{b}' : hostname.startsWith('{') ? pick(['{instance}', 'inst1']) : pick(TARGETS);
  const rule: Rule = { match: { hostname, port: pick(PORTS) }, target: { instance: target, port: pick([8080, 9090]) }, tls, redirect_http: tls && random() < 0.5 };
  return routing && random() < 0.6 ? routedRule(random, rule) : rule;
}

function randomIngress(random: () => number, k: number, version: number, routing = false): Ingress {
  const rules = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomRule(random, routing));
  return { kind: 'Ingress', id: `ing${k}-v${version}`, name: `ing${k}`, rules };
}

function randomInstances(random: () => number): Instance[] {
  return [0, 1, 2, 3].filter(() => random() < 0.8).map((k) => ({ kind: 'Instance', id: `id-inst${k}`, name: `inst${k}`, address: `10.0.0.${1 + Math.floor(random() * 3)}` }));
}

function shuffled<T>(values: readonly T[], random: () => number): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function obj(value: JsonValue | undefined): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not an object: ${JSON.stringify(value)}`);
  return value;
}

function servers(config: JsonObject): JsonObject {
  return obj(obj(obj(config['apps'])['http'])['servers']);
}

function routesOf(config: JsonObject, port: number): JsonObject[] {
  const routes = obj(servers(config)[`ingress-${port}`])['routes'];
  if (!Array.isArray(routes)) throw new Error('no routes');
  return routes.map(obj);
}

// ---------- tests ----------

describe('IncrementalRenderer', () => {
  const variants: [RenderSettings['upstreamMode'], AcmeSettings['challenge'] | undefined, number, boolean][] = [
    ['dns', undefined, 80, false],
    ['static', undefined, 80, false],
    ['dns', 'http-01', 80, false],
    ['static', 'tls-alpn-01', 8080, false],
    ['dns', 'dns-01', 8080, false],
    // Paths, several targets and proxy options (routing rules) mixed in.
    ['dns', undefined, 80, true],
    ['static', 'http-01', 80, true],
    ['dns', 'dns-01', 8080, true],
  ];

  it.each(variants)('equals render() after every step of a random history (%s, %s, http port %d, routing %s)', (mode, challenge, httpPort, routing) => {
    const random = prng(7 + httpPort + (challenge?.length ?? 0) + mode.length + (routing ? 1000 : 0));
    const s = settings(mode, challenge, httpPort);
    const renderer = new IncrementalRenderer(s);
    let version = 0;
    const ingresses = new Map<number, Ingress>();
    for (let k = 0; k < 30; k++) ingresses.set(k, randomIngress(random, k, version++, routing));
    let instances = randomInstances(random);
    let routeRules = 0;
    for (let step = 0; step < 300; step++) {
      const roll = random();
      if (roll < 0.1) instances = randomInstances(random);
      else {
        for (let c = 1 + Math.floor(random() * 3); c > 0; c--) {
          const k = Math.floor(random() * 45);
          if (ingresses.has(k) && random() < 0.3) ingresses.delete(k);
          else ingresses.set(k, randomIngress(random, k, version++, routing));
        }
      }
      const input: RenderInput = { ingresses: shuffled([...ingresses.values()], random), instances: shuffled(instances, random) };
      const result = renderer.render(input);
      const reference = render(input, s);
      expect(stableStringify(result.config)).toBe(stableStringify(reference.config));
      expect(result.warnings).toEqual(reference.warnings);
      if (stableStringify(reference.config).includes('.rule.')) routeRules++;
    }
    // The routing histories really render routing rules (and the others none).
    expect(routeRules > 250).toBe(routing);
  });

  it('returns the previous result itself when nothing changed', () => {
    const s = settings('dns', undefined);
    const renderer = new IncrementalRenderer(s);
    const random = prng(1);
    const input: RenderInput = { ingresses: Array.from({ length: 20 }, (_, k) => randomIngress(random, k, 0)), instances: randomInstances(random) };
    const first = renderer.render(input);
    expect(renderer.render({ ingresses: [...input.ingresses].reverse(), instances: input.instances })).toBe(first);
  });

  it('keeps every route and server that one changed ingress does not touch', () => {
    const s = settings('dns', undefined);
    const renderer = new IncrementalRenderer(s);
    const rule = (host: string, port: number, instance: string): Rule => ({ match: { hostname: host, port }, target: { instance, port: 8080 }, tls: false, redirect_http: false });
    const ingresses: Ingress[] = [];
    for (let k = 0; k < 300; k++) ingresses.push({ kind: 'Ingress', id: `i${k}`, name: `i${k}`, rules: [rule(`h${k}.example.test`, 80, `inst${k % 3}`)] });
    ingresses.push({ kind: 'Ingress', id: 'other', name: 'other', rules: [rule('other.example.test', 9000, 'inst0')] });
    ingresses.push({ kind: 'Ingress', id: 'pat', name: 'pat', rules: [rule('{instance}.dev.example.test', 80, '{instance}')] });
    const instances: Instance[] = [0, 1, 2].map((k) => ({ kind: 'Instance', id: `inst${k}`, name: `inst${k}`, address: '10.0.0.1' }));
    const before = renderer.render({ ingresses, instances }).config;
    // i1 moves from inst1 to inst2: the inst1 and inst2 routes change, inst0's route, the pattern
    // route, the 404 and the whole server on port 9000 stay the very same objects.
    const changed = [...ingresses];
    changed[1] = { ...ingresses[1]!, rules: [rule('h1.example.test', 80, 'inst2')] };
    const after = renderer.render({ ingresses: changed, instances }).config;
    expect(stableStringify(after)).toBe(stableStringify(render({ ingresses: changed, instances }, s).config));
    const [b, a] = [routesOf(before, 80), routesOf(after, 80)];
    const byId = (routes: JsonObject[], id: string): JsonObject => routes.find((r) => r['@id'] === id)!;
    expect(byId(a, 'ingressd.80.exact.inst0.8080')).toBe(byId(b, 'ingressd.80.exact.inst0.8080'));
    expect(byId(a, 'ingressd.80.exact.inst1.8080')).not.toBe(byId(b, 'ingressd.80.exact.inst1.8080'));
    expect(byId(a, 'ingressd.80.pattern._.dev.example.test')).toBe(byId(b, 'ingressd.80.pattern._.dev.example.test'));
    expect(a.at(-1)).toEqual(b.at(-1));
    expect(servers(after)['ingress-9000']).toBe(servers(before)['ingress-9000']);
    expect(servers(after)['ingress-80']).not.toBe(servers(before)['ingress-80']);
  });

  it('keeps warnings that depend on the whole set (tls-alpn-01 with only plain rules on the HTTPS port) equal to render()', () => {
    const s = settings('dns', 'tls-alpn-01', 80);
    const renderer = new IncrementalRenderer(s);
    const rule = (host: string, port: number, tls: boolean): Rule => ({ match: { hostname: host, port }, target: { instance: 'inst0', port: 8080 }, tls, redirect_http: false });
    const instances: Instance[] = [{ kind: 'Instance', id: 'inst0', name: 'inst0', address: '10.0.0.1' }];
    const secure: Ingress = { kind: 'Ingress', id: 'secure', name: 'secure', rules: [rule('secure.test', 8443, true)] };
    const plain: Ingress = { kind: 'Ingress', id: 'plain', name: 'plain', rules: [rule('plain.test', 443, false)] };
    const tlsOn443: Ingress = { kind: 'Ingress', id: 'tls443', name: 'tls443', rules: [rule('tls443.test', 443, true)] };
    const steps: Ingress[][] = [[secure], [secure, plain], [secure, plain, tlsOn443], [secure, plain], [plain]];
    const alpnWarned: boolean[] = [];
    for (const ingresses of steps) {
      const result = renderer.render({ ingresses, instances });
      const reference = render({ ingresses, instances }, s);
      expect(result.warnings).toEqual(reference.warnings);
      alpnWarned.push(result.warnings.some((w) => w.message.includes('tls-alpn-01 challenges are answered on the HTTPS port')));
    }
    // Only plain rules on 443 beside a TLS rule elsewhere: the certificate cannot be obtained.
    expect(alpnWarned).toEqual([false, true, false, true, false]);
  });

  it('starts over when the instances change, and still equals render()', () => {
    const s = settings('static', undefined);
    const renderer = new IncrementalRenderer(s);
    const ingress: Ingress = { kind: 'Ingress', id: 'a', name: 'a', rules: [{ match: { hostname: 'a.test', port: 80 }, target: { instance: 'web', port: 80 }, tls: false, redirect_http: false }] };
    const at = (address: string): Instance[] => [{ kind: 'Instance', id: 'web', name: 'web', address }];
    renderer.render({ ingresses: [ingress], instances: at('10.0.0.1') });
    const moved = renderer.render({ ingresses: [ingress], instances: at('10.0.0.2') }).config;
    expect(stableStringify(moved)).toBe(stableStringify(render({ ingresses: [ingress], instances: at('10.0.0.2') }, s).config));
    expect(stableStringify(moved)).toContain('10.0.0.2:80');
  });
});
