/**
 * Routing fields (paths, several targets, load balancing, health checks): the schema's and
 * validation's rules, one row each, through the real parser, and the conflict model for paths.
 */
import { describe, expect, it } from '@jest/globals';
import { parseManifest } from '../../src/manifest/parse.js';
import type { Issue } from '../../src/model/issues.js';
import type { Manifest } from '../../src/model/manifest.js';
import { comparePathMatches, pathMatchOf } from '../../src/model/routing.js';
import { evaluate } from '../../src/reconciler/evaluate.js';
import { IncrementalEvaluator } from '../../src/reconciler/evaluate-incremental.js';
import { validateResource } from '../../src/reconciler/validate.js';
import { TLS } from '../helpers/tls-settings.js';

type Json = Record<string, unknown>;

const BASE: Json = { match: { hostname: 'shop.example.com' }, target: { instance: 'api-1', port: 8080 } };
const TWO = [
  { instance: 'api-1', port: 8080 },
  { instance: 'api-2', port: 8080 },
];

/** Every issue of one ingress file with the given rules (schema first, then validation), as `code path`. */
function problems(rules: readonly Json[]): string[] {
  const manifest = parseManifest('shop.json', JSON.stringify({ rules }));
  const issues: readonly Issue[] = manifest.resource === undefined ? manifest.issues : validateResource(manifest.resource, TLS);
  for (const i of issues) {
    expect(i.message.length).toBeGreaterThan(20);
    expect(i.path.startsWith('/')).toBe(true);
  }
  return issues.map((i) => `${i.code} ${i.path}`).sort();
}

function rule(fields: Json, match: Json = {}): Json {
  const { target, ...rest } = { ...BASE, ...fields };
  const withTarget = 'targets' in fields ? rest : { ...rest, target };
  return { ...withTarget, match: { ...(BASE['match'] as Json), ...match } };
}

describe('routing fields: one row per rule', () => {
  it.each<[string, readonly Json[], string[]]>([
    // Valid shapes.
    ['the original shape', [BASE], []],
    ['a prefix path', [rule({}, { path: '/api' })], []],
    ['an exact path', [rule({}, { path: '/api/v1', path_type: 'exact' })], []],
    ['several targets', [rule({ targets: TWO })], []],
    ['weights under weighted_round_robin', [rule({ targets: TWO.map((t, i) => ({ ...t, weight: 3 - 2 * i })), load_balancing: { policy: 'weighted_round_robin' } })], []],
    ['every policy field', [rule({ targets: TWO, load_balancing: { policy: 'least_conn', retries: 2, try_duration: '1m30s' } })], []],
    [
      'active and passive health checks',
      [rule({ targets: TWO, health_check: { active: { path: '/healthz?full=1', interval: '5s', timeout: '250ms', expect_status: 200 }, passive: { max_fails: 3, fail_duration: '30s', unhealthy_status: [502, 503] } } })],
      [],
    ],
    ['strip_path_prefix with a path', [rule({ strip_path_prefix: true }, { path: '/api' })], []],
    ['two paths on one host in one ingress', [rule({}, { path: '/api' }), rule({}, { path: '/web' }), BASE], []],
    ['a prefix and an exact rule on the same path', [rule({}, { path: '/api' }), rule({}, { path: '/api', path_type: 'exact' })], []],
    ['pattern targets as templates', [{ match: { hostname: '{instance}.dev.example.com', path: '/ws' }, targets: [{ instance: '{instance}', port: 1 }, { instance: '{instance}-b', port: 1 }] }], []],
    // Bad input (the issue's list).
    ['a path without a leading /', [rule({}, { path: 'api' })], ['invalid_request /rules/0/match/path']],
    ['a path with a wildcard', [rule({}, { path: '/api/*' })], ['invalid_request /rules/0/match/path']],
    ['a path with a query', [rule({}, { path: '/api?x=1' })], ['invalid_request /rules/0/match/path']],
    ['a path_type without a path', [rule({}, { path_type: 'exact' })], ['invalid_request /rules/0/match/path_type']],
    ['an unknown path_type', [rule({}, { path: '/api', path_type: 'regex' })], ['invalid_request /rules/0/match/path_type']],
    ['an unknown policy', [rule({ targets: TWO, load_balancing: { policy: 'fastest' } })], ['invalid_request /rules/0/load_balancing/policy']],
    ['weights without weighted_round_robin', [rule({ targets: [{ ...TWO[0], weight: 3 }, TWO[1]] })], ['invalid_request /rules/0/targets/0/weight']],
    ['weights under another policy', [rule({ targets: [TWO[0], { ...TWO[1], weight: 2 }], load_balancing: { policy: 'random' } })], ['invalid_request /rules/0/targets/1/weight']],
    ['target and targets together', [{ ...BASE, targets: TWO }], ['invalid_request /rules/0/targets']],
    ['neither target nor targets', [{ match: BASE['match'] }], ['invalid_request /rules/0/target']],
    ['an empty targets list', [rule({ targets: [] })], ['invalid_request /rules/0/targets']],
    ['the same target twice', [rule({ targets: [TWO[0], TWO[0]] })], ['invalid_request /rules/0/targets/1']],
    ['a duration such as "5 parsecs"', [rule({ targets: TWO, load_balancing: { try_duration: '5 parsecs' } })], ['invalid_request /rules/0/load_balancing/try_duration']],
    ['a bad active interval', [rule({ health_check: { active: { path: '/h', interval: 'often' } } })], ['invalid_request /rules/0/health_check/active/interval']],
    ['a status code outside 100-599', [rule({ health_check: { active: { path: '/h', expect_status: 700 } } })], ['invalid_request /rules/0/health_check/active/expect_status']],
    ['an unhealthy status outside 100-599', [rule({ health_check: { passive: { unhealthy_status: [502, 42] } } })], ['invalid_request /rules/0/health_check/passive/unhealthy_status/1']],
    ['a health path that is not a path', [rule({ health_check: { active: { path: 'healthz' } } })], ['invalid_request /rules/0/health_check/active/path']],
    ['an active check without a path', [rule({ health_check: { active: { interval: '5s' } } })], ['invalid_request /rules/0/health_check/active/path']],
    ['retries out of range', [rule({ load_balancing: { retries: 99 } })], ['invalid_request /rules/0/load_balancing/retries']],
    ['a placeholder in a path', [rule({}, { path: '/{id}' })], ['invalid_request /rules/0/match/path']],
    ['a %-escape in a path', [rule({}, { path: '/caf%C3%A9' })], ['invalid_request /rules/0/match/path']],
    ['a .. segment in a path', [rule({}, { path: '/a/../b' })], ['invalid_request /rules/0/match/path']],
    ['an empty segment in a path', [rule({}, { path: '/a//b' })], ['invalid_request /rules/0/match/path']],
    ['strip_path_prefix without a path', [rule({ strip_path_prefix: true })], ['invalid_request /rules/0/strip_path_prefix']],
    ['an unknown field in load_balancing', [rule({ load_balancing: { sticky: true } })], ['invalid_request /rules/0/load_balancing/sticky']],
    [
      'an active check on a pattern template',
      [{ match: { hostname: '{instance}.dev.example.com' }, targets: [{ instance: '{instance}', port: 1 }], health_check: { active: { path: '/h' } } }],
      ['invalid_request /rules/0/health_check'],
    ],
    [
      // Caddy would keep one health state for every instance the template names.
      'a passive check on a pattern template',
      [{ match: { hostname: '{instance}.dev.example.com' }, targets: [{ instance: '{instance}', port: 1 }], health_check: { passive: { max_fails: 1 } } }],
      ['invalid_request /rules/0/health_check'],
    ],
    ['a literal target in a pattern list', [{ match: { hostname: '{instance}.dev.example.com' }, targets: [{ instance: '{instance}', port: 1 }, { instance: 'x', port: 1 }] }], ['invalid_request /rules/0/targets/1/instance']],
    ['the same path twice in one ingress', [rule({}, { path: '/api' }), rule({}, { path: '/api/' })], ['invalid_request /rules/1/match/hostname']],
    ['one bad rule among good ones', [BASE, rule({}, { path: 'nope' }), rule({}, { path: '/ok' })], ['invalid_request /rules/1/match/path']],
  ])('%s', (_name, rules, expected) => {
    expect(problems(rules)).toEqual(expected.sort());
  });

  it('keeps a rule in the original shape as it always normalised (no new fields)', () => {
    const manifest = parseManifest('shop.json', JSON.stringify({ rules: [BASE] }));
    expect(manifest.resource?.kind === 'Ingress' && manifest.resource.rules[0]).toEqual({
      match: { hostname: 'shop.example.com', port: 80 },
      target: { instance: 'api-1', port: 8080 },
      tls: false,
      redirect_http: false,
    });
  });
});

describe('path matches', () => {
  it('normalises a prefix: trailing slashes ignored, / is the whole host; exact is kept as written', () => {
    expect(pathMatchOf({ match: { hostname: 'h', port: 80, path: '/api/' } })).toEqual({ type: 'prefix', path: '/api' });
    expect(pathMatchOf({ match: { hostname: 'h', port: 80, path: '/' } })).toBeUndefined();
    expect(pathMatchOf({ match: { hostname: 'h', port: 80, path: '/api/', path_type: 'exact' } })).toEqual({ type: 'exact', path: '/api/' });
  });

  it('orders exact paths first, then prefixes longest first, then the catch-all', () => {
    const paths = [undefined, { type: 'prefix', path: '/a' }, { type: 'exact', path: '/z' }, { type: 'prefix', path: '/a/b/c' }, { type: 'exact', path: '/a' }, { type: 'prefix', path: '/b' }] as const;
    const sorted = [...paths].sort(comparePathMatches).map((p) => (p === undefined ? 'all' : `${p.type} ${p.path}`));
    expect(sorted).toEqual(['exact /a', 'exact /z', 'prefix /a/b/c', 'prefix /a', 'prefix /b', 'all']);
  });
});

function ingressFile(file: string, rules: readonly Json[]): Manifest {
  return parseManifest(file, JSON.stringify({ rules }));
}

const instance = parseManifest('api-1.json', JSON.stringify({ kind: 'Instance', address: '127.0.0.1' }));

/** `file: accepted|rejected issues` per ingress, judged with Instance api-1 declared. */
function summary(manifests: readonly Manifest[], since: ReadonlyMap<string, number> = new Map()): string[] {
  const set = evaluate([...manifests, instance], since, TLS);
  return [...set.byFile.entries()].filter(([file]) => file !== instance.file).map(([file, e]) => `${file}: ${e.accepted ? 'accepted' : 'rejected'} ${e.issues.map((i) => `${i.code} ${i.path}`).join(', ')}`.trim());
}

describe('path conflicts across files (claims.ts)', () => {
  const api = ingressFile('a-api.json', [rule({}, { path: '/api' })]);
  const web = ingressFile('b-web.json', [BASE]);
  const apiV1 = ingressFile('c-v1.json', [rule({}, { path: '/api/v1' })]);
  const apiExact = ingressFile('d-exact.json', [rule({}, { path: '/api', path_type: 'exact' })]);
  const apiAgain = ingressFile('e-again.json', [rule({}, { path: '/api/' })]);
  const rootPrefix = ingressFile('f-root.json', [rule({}, { path: '/' })]);

  it('lets ingresses share a host on different paths, beside the host\'s catch-all', () => {
    expect(summary([api, web, apiV1, apiExact])).toEqual(['a-api.json: accepted', 'b-web.json: accepted', 'c-v1.json: accepted', 'd-exact.json: accepted']);
  });

  it('refuses the same host, port, path and type in a second ingress, naming the holder and the path', () => {
    const set = evaluate([api, apiAgain], new Map(), TLS);
    const refused = set.byFile.get('e-again.json')!;
    expect(refused.accepted).toBe(false);
    expect(refused.issues.map((i) => `${i.code} ${i.path}`)).toEqual(['hostname_in_use /rules/0/match/hostname']);
    expect(refused.issues[0]!.message).toContain('prefix path /api');
    expect(refused.issues[0]!.message).toContain('"a-api" (a-api.json)');
  });

  it('settles it by precedence: the earlier accepted holder keeps the path', () => {
    const since = new Map([['e-again.json', 1000]]);
    expect(summary([api, apiAgain], since)).toEqual(['a-api.json: rejected hostname_in_use /rules/0/match/hostname', 'e-again.json: accepted']);
  });

  it('compares paths without regard to case, as Caddy matches them', () => {
    const upper = ingressFile('g-upper.json', [rule({}, { path: '/API' })]);
    expect(summary([api, upper])).toEqual(['a-api.json: accepted', 'g-upper.json: rejected hostname_in_use /rules/0/match/hostname']);
  });

  it('treats the prefix / as the host\'s catch-all', () => {
    expect(summary([web, rootPrefix])).toEqual(['b-web.json: accepted', 'f-root.json: rejected hostname_in_use /rules/0/match/hostname']);
  });

  it('gives the incremental evaluator the same answer, one file at a time', () => {
    const incremental = new IncrementalEvaluator();
    const files = [api, web, apiV1, apiAgain, rootPrefix];
    for (let n = 1; n <= files.length; n++) {
      const present = new Map(files.slice(0, n).map((m) => [m.file, m]));
      const fast = incremental.evaluate(present, new Set([files[n - 1]!.file]), new Map(), TLS);
      const full = evaluate(files.slice(0, n), new Map(), TLS);
      expect([...fast.byFile.values()].map((e) => [e.manifest.file, e.accepted])).toEqual([...full.byFile.values()].map((e) => [e.manifest.file, e.accepted]));
    }
  });
});
