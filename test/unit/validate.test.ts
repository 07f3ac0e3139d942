import { describe, expect, it } from '@jest/globals';
import type { Issue } from '../../src/model/issues.js';
import type { Ingress, Instance, Rule } from '../../src/model/resource.js';
import type { TlsSettings } from '../../src/model/settings.js';
import { isValidName, validateResource } from '../../src/reconciler/validate.js';
import { ACME } from '../helpers/tls-settings.js';

const TLS: TlsSettings = { acme: ACME, acmeMissing: '', challenge: 'dns-01', allowedDomains: ['example.com', '*.example.com'], httpPort: 80 };
const NO_ACME: TlsSettings = { ...TLS, acme: undefined, acmeMissing: 'set ACME_EMAIL and ACME_DNS_PROVIDER' };
const HTTP_01: TlsSettings = { ...TLS, acme: { ...ACME, challenge: 'http-01', dnsProvider: undefined }, challenge: 'http-01' };
const NO_DOMAINS: TlsSettings = { ...TLS, allowedDomains: [] };
const HTTP_PORT_8080: TlsSettings = { ...TLS, httpPort: 8080 };

interface RuleSpec {
  readonly hostname?: string;
  readonly port?: number;
  readonly instance?: string;
  readonly targetPort?: number;
  readonly tls?: boolean;
  readonly redirect?: boolean;
}

function rule(spec: RuleSpec = {}): Rule {
  return {
    match: { hostname: spec.hostname ?? 'api.example.com', port: spec.port ?? 80 },
    target: { instance: spec.instance ?? 'my-api', port: spec.targetPort ?? 8080 },
    tls: spec.tls ?? false,
    redirect_http: spec.redirect ?? false,
  };
}

function ingress(rules: readonly RuleSpec[], name = 'web'): Ingress {
  return { kind: 'Ingress', id: 'web-id', name, rules: rules.map(rule) };
}

function found(issues: readonly Issue[]): string[] {
  for (const i of issues) expect(i.message.length).toBeGreaterThan(0);
  return issues.map((i) => `${i.code} ${i.path}`).sort();
}

const TLS_443 = { port: 443, tls: true } as const;

describe('validateResource: ingress rules', () => {
  it.each<[string, readonly RuleSpec[], TlsSettings, string[]]>([
    // Valid (seed TestCreateIngressRequest_Validate and friends).
    ['a basic rule', [{}], TLS, []],
    ['a custom match port 8080', [{ port: 8080 }], TLS, []],
    ['TLS on 443 with redirect', [{ ...TLS_443, redirect: true }], TLS, []],
    ['a valid pattern (seed ValidPattern)', [{ hostname: '{instance}.example.com', instance: '{instance}' }], TLS, []],
    ['a pattern target with text around the capture', [{ hostname: '{instance}.example.com', instance: '{instance}-web' }], TLS, []],
    ['a two-capture pattern', [{ hostname: '{instance}.{env}.example.com', instance: '{instance}-{env}' }], TLS, []],
    ['a single-label hostname (seed accepted nginx-test)', [{ hostname: 'nginx-test' }], TLS, []],
    ['the same host on two ports', [{}, { port: 8080 }], TLS, []],
    ['a TLS pattern with dns-01 and an allowed wildcard', [{ hostname: '{instance}.example.com', instance: '{instance}', ...TLS_443 }], TLS, []],
    ['a redirect beside a plain rule for another host on the HTTP port', [{ ...TLS_443, redirect: true }, { hostname: 'web.example.com' }], TLS, []],
    ['a redirect with HTTP port 8080 from a TLS rule on 80', [{ port: 80, tls: true, redirect: true }], HTTP_PORT_8080, []],
    ['an exact host beside a pattern covering it', [{ hostname: 'a.example.com' }, { hostname: '{i}.example.com', instance: '{i}' }], TLS, []],
    ['TLS for the apex when listed', [{ hostname: 'example.com', ...TLS_443 }], TLS, []],
    // Names and rules list.
    ['no rules (seed NoRules)', [], TLS, ['invalid_request /rules']],
    // Hostnames.
    ['an empty hostname (seed)', [{ hostname: '' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['a raw wildcard (seed RawWildcardNotAllowed)', [{ hostname: '*.example.com' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['a wildcard inside the hostname', [{ hostname: 'api.*.com' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['an underscore in a label', [{ hostname: 'api_x.example.com' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['a label starting with a dash', [{ hostname: '-api.example.com' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['an empty label', [{ hostname: 'api..example.com' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['a port in the hostname', [{ hostname: 'api.example.com:8080' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['mixed captures', [{ hostname: '{app}-{env}.example.com', instance: '{app}' }], TLS, ['invalid_request /rules/0/match/hostname']],
    ['a duplicate capture', [{ hostname: '{a}.{a}.example.com', instance: '{a}' }], TLS, ['invalid_request /rules/0/match/hostname']],
    // Targets.
    ['a pattern with a literal target (seed)', [{ hostname: '{instance}.example.com', instance: 'my-api' }], TLS, ['invalid_request /rules/0/target/instance']],
    ['a pattern target with an unknown capture (seed)', [{ hostname: '{instance}.example.com', instance: '{app}' }], TLS, ['invalid_request /rules/0/target/instance']],
    ['a pattern target with a dot', [{ hostname: '{instance}.example.com', instance: '{instance}.web' }], TLS, ['invalid_request /rules/0/target/instance']],
    ['a pattern target with a stray brace', [{ hostname: '{instance}.example.com', instance: '{instance}}' }], TLS, ['invalid_request /rules/0/target/instance']],
    ['a literal host with a capture target', [{ instance: '{instance}' }], TLS, ['invalid_request /rules/0/target/instance']],
    ['an empty instance (seed)', [{ instance: '' }], TLS, ['invalid_request /rules/0/target/instance']],
    ['an empty instance on a pattern', [{ hostname: '{i}.example.com', instance: '' }], TLS, ['invalid_request /rules/0/target/instance']],
    // Ports.
    ['match port 0', [{ port: 0 }], TLS, ['invalid_request /rules/0/match/port']],
    ['match port -1 (seed)', [{ port: -1 }], TLS, ['invalid_request /rules/0/match/port']],
    ['match port 70000 (seed)', [{ port: 70000 }], TLS, ['invalid_request /rules/0/match/port']],
    ['target port 0 (seed)', [{ targetPort: 0 }], TLS, ['invalid_request /rules/0/target/port']],
    ['target port -1 (seed)', [{ targetPort: -1 }], TLS, ['invalid_request /rules/0/target/port']],
    ['target port 70000 (seed)', [{ targetPort: 70000 }], TLS, ['invalid_request /rules/0/target/port']],
    ['a fractional target port', [{ targetPort: 80.5 }], TLS, ['invalid_request /rules/0/target/port']],
    // redirect_http.
    ['redirect_http without tls (seed)', [{ redirect: true }], TLS, ['invalid_request /rules/0/redirect_http']],
    ['redirect_http on the HTTP port itself', [{ port: 80, tls: true, redirect: true }], TLS, ['invalid_request /rules/0/redirect_http']],
    // Duplicates inside the ingress.
    ['the same host and port twice', [{}, { instance: 'other' }], TLS, ['invalid_request /rules/1/match/hostname']],
    ['one pattern on two ports', [{ hostname: '{i}.example.com', instance: '{i}' }, { hostname: '{i}.example.com', instance: '{i}', port: 8080 }], TLS, []],
    ['two patterns with the same wildcard form', [{ hostname: '{a}.example.com', instance: '{a}' }, { hostname: '{b}.example.com', instance: '{b}' }], TLS, ['invalid_request /rules/1/match/hostname']],
    ['two redirects for one host', [{ ...TLS_443, redirect: true }, { port: 8443, tls: true, redirect: true }], TLS, ['invalid_request /rules/1/match/hostname']],
    ['a redirect plus a plain rule on the HTTP port for one host', [{ ...TLS_443, redirect: true }, { port: 80 }], TLS, ['invalid_request /rules/1/match/hostname']],
    ['a plain rule then a redirect for one host', [{ port: 80 }, { ...TLS_443, redirect: true }], TLS, ['invalid_request /rules/1/match/hostname']],
    // TLS and plain HTTP on one port.
    ['TLS and plain rules on one port', [TLS_443, { hostname: 'web.example.com', port: 443 }], TLS, ['invalid_request /rules/1/tls']],
    ['plain then TLS on one port', [{ port: 8443 }, { hostname: 'web.example.com', port: 8443, tls: true }], TLS, ['invalid_request /rules/1/tls']],
    ['a redirect onto a port serving TLS', [{ hostname: 'web.example.com', port: 80, tls: true }, { ...TLS_443, redirect: true }], TLS, ['invalid_request /rules/1/redirect_http']],
    // TLS settings.
    ['TLS without ACME (seed TLSWithoutACME)', [TLS_443], NO_ACME, ['tls_not_configured /rules/0/tls']],
    ['a TLS host outside TLS_ALLOWED_DOMAINS', [{ hostname: 'api.other.com', ...TLS_443 }], TLS, ['domain_not_allowed /rules/0/match/hostname']],
    ['a TLS host two levels below an allowed wildcard', [{ hostname: 'a.b.example.com', ...TLS_443 }], TLS, ['domain_not_allowed /rules/0/match/hostname']],
    ['TLS with an empty TLS_ALLOWED_DOMAINS', [TLS_443], NO_DOMAINS, ['domain_not_allowed /rules/0/match/hostname']],
    ['a TLS pattern whose wildcard is not allowed', [{ hostname: '{i}.dev.example.com', instance: '{i}', ...TLS_443 }], TLS, ['domain_not_allowed /rules/0/match/hostname']],
    ['a TLS pattern without dns-01', [{ hostname: '{i}.example.com', instance: '{i}', ...TLS_443 }], HTTP_01, ['invalid_request /rules/0/tls']],
    ['a TLS literal host with http-01', [TLS_443], HTTP_01, []],
    ['no ACME and a host not allowed', [{ hostname: 'api.other.com', ...TLS_443 }], NO_ACME, ['domain_not_allowed /rules/0/match/hostname', 'tls_not_configured /rules/0/tls']],
    ['every TLS rule is reported', [TLS_443, { hostname: 'www.example.com', ...TLS_443 }], NO_ACME, ['tls_not_configured /rules/0/tls', 'tls_not_configured /rules/1/tls']],
    // All at once.
    [
      'every problem in every rule',
      [{ hostname: '*.example.com', port: 0 }, { redirect: true, targetPort: 70000 }, { hostname: '{i}.example.com', instance: 'x' }],
      TLS,
      [
        'invalid_request /rules/0/match/hostname',
        'invalid_request /rules/0/match/port',
        'invalid_request /rules/1/redirect_http',
        'invalid_request /rules/1/target/port',
        'invalid_request /rules/2/target/instance',
      ],
    ],
  ])('%s', (_, rules, tls, expected) => {
    expect(found(validateResource(ingress(rules), tls))).toEqual(expected);
  });
});

describe('names (seed TestValidateName)', () => {
  it.each(['a', 'ab', 'my-ingress', 'ingress-1', 'a1b2c3', 'test123', 'a'.repeat(63)])('accepts %j', (name) => {
    expect(isValidName(name)).toBe(true);
    expect(found(validateResource(ingress([{}], name), TLS))).toEqual([]);
  });

  it.each(['', '-leading', 'trailing-', 'has space', 'UPPER', 'under_score', 'with.period', 'Invalid_Name', 'a'.repeat(64)])('rejects %j', (name) => {
    expect(isValidName(name)).toBe(false);
    expect(found(validateResource(ingress([{}], name), TLS))).toEqual(['invalid_request /name']);
  });
});

describe('validateResource: instances', () => {
  const instance = (fields: Partial<Instance>): Instance => ({ kind: 'Instance', id: 'vm-id', name: 'vm', address: '10.100.0.10', ...fields });

  it.each<[string, Partial<Instance>, string[]]>([
    ['an IPv4 instance', {}, []],
    ['an IPv6 instance', { address: 'fd00::10' }, []],
    ['an invalid name', { name: 'My_VM' }, ['invalid_request /name']],
    ['an address that is no IP', { address: 'vm.local' }, ['invalid_request /address']],
    ['an empty address', { address: '' }, ['invalid_request /address']],
    ['an invalid id', { id: 'Not An Id' }, ['invalid_request /id']],
  ])('%s', (_, fields, expected) => {
    expect(found(validateResource(instance(fields), TLS))).toEqual(expected);
  });
});

describe('validateResource never throws', () => {
  it('reports odd values instead of throwing', () => {
    const odd: Ingress = {
      kind: 'Ingress',
      id: '',
      name: '',
      rules: [{ match: { hostname: '{', port: Number.NaN }, target: { instance: '}{', port: Infinity }, tls: true, redirect_http: true }],
    };
    expect(() => validateResource(odd, NO_ACME)).not.toThrow();
    expect(validateResource(odd, NO_ACME).length).toBeGreaterThan(0);
  });
});
