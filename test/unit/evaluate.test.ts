import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../src/model/manifest.js';
import type { TlsSettings } from '../../src/model/settings.js';
import { evaluate, type EvaluatedSet } from '../../src/reconciler/evaluate.js';
import { parseManifest } from '../../src/manifest/parse.js';
import { NO_ACME, TLS } from '../helpers/tls-settings.js';


interface RuleSpec {
  readonly host?: string;
  readonly port?: number;
  readonly to?: string;
  readonly tls?: boolean;
  readonly redirect?: boolean;
}

function ingressFile(file: string, rules: readonly RuleSpec[], fields: Record<string, unknown> = {}): Manifest {
  const doc = {
    ...fields,
    rules: rules.map((r) => ({
      match: { hostname: r.host ?? 'api.example.com', ...(r.port === undefined ? {} : { port: r.port }) },
      target: { instance: r.to ?? 'my-api', port: 8080 },
      ...(r.tls === undefined ? {} : { tls: r.tls }),
      ...(r.redirect === undefined ? {} : { redirect_http: r.redirect }),
    })),
  };
  return parseManifest(file, JSON.stringify(doc));
}

function instanceFile(file: string, fields: Record<string, unknown> = {}): Manifest {
  return parseManifest(file, JSON.stringify({ kind: 'Instance', address: '10.100.0.10', ...fields }));
}

/** `file: accepted|rejected [code path, …]` per manifest, in input order. */
function summary(set: EvaluatedSet): string[] {
  return [...set.byFile.entries()].map(([file, e]) => {
    for (const i of e.issues) expect(i.message.length).toBeGreaterThan(0);
    const issues = e.issues.map((i) => `${i.code} ${i.path}`).sort();
    return `${file}: ${e.accepted ? 'accepted' : 'rejected'}${issues.length > 0 ? ` [${issues.join(', ')}]` : ''}`;
  });
}

const api = instanceFile('my-api.json');
const none = new Map<string, number>();

describe('evaluate: cross-file rules', () => {
  it.each<[string, readonly Manifest[], ReadonlyMap<string, number>, TlsSettings, string[]]>([
    ['an empty set', [], none, TLS, []],
    ['an ingress and its instance', [ingressFile('web.json', [{}]), api], none, TLS, ['web.json: accepted', 'my-api.json: accepted']],
    [
      'an undeclared instance (seed InstanceNotFound) does not block',
      [ingressFile('web.json', [{ to: 'ghost' }, { host: 'b.example.com' }]), api],
      none,
      TLS,
      ['web.json: accepted [instance_not_found /rules/0/target/instance]', 'my-api.json: accepted'],
    ],
    ['the instance matched case-insensitively', [ingressFile('web.json', [{ to: 'My-API' }]), api], none, TLS, ['web.json: accepted', 'my-api.json: accepted']],
    [
      'the instance matched by id',
      [ingressFile('web.json', [{ to: 'vm-0001' }]), instanceFile('vm.json', { id: 'vm-0001' })],
      none,
      TLS,
      ['web.json: accepted', 'vm.json: accepted'],
    ],
    ['a pattern rule needs no instance', [ingressFile('web.json', [{ host: '{i}.example.com', to: '{i}' }])], none, TLS, ['web.json: accepted']],
    [
      'a duplicate name (seed DuplicateName): the first by file wins',
      [ingressFile('b.json', [{ host: 'b.example.com' }], { name: 'web' }), ingressFile('a.json', [{}], { name: 'web' }), api],
      none,
      TLS,
      ['b.json: rejected [already_exists /name]', 'a.json: accepted', 'my-api.json: accepted'],
    ],
    [
      'a duplicate name: the one accepted before wins',
      [ingressFile('b.json', [{ host: 'b.example.com' }], { name: 'web' }), ingressFile('a.json', [{}], { name: 'web' }), api],
      new Map([['b.json', 1_000]]),
      TLS,
      ['b.json: accepted', 'a.json: rejected [already_exists /name]', 'my-api.json: accepted'],
    ],
    [
      'a duplicate name: the one accepted earliest wins',
      [ingressFile('a.json', [{}], { name: 'web' }), ingressFile('b.json', [{ host: 'b.example.com' }], { name: 'web' }), api],
      new Map([['a.json', 2_000], ['b.json', 1_000]]),
      TLS,
      ['a.json: rejected [already_exists /name]', 'b.json: accepted', 'my-api.json: accepted'],
    ],
    ['an ingress and an instance may share a name', [ingressFile('web.json', [{ to: 'web' }]), instanceFile('vm.json', { name: 'web' })], none, TLS, ['web.json: accepted', 'vm.json: accepted']],
    [
      'a duplicate instance name',
      [instanceFile('a.json', { name: 'vm' }), instanceFile('b.json', { name: 'vm' })],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [already_exists /name]'],
    ],
    [
      'a duplicate explicit id',
      [ingressFile('a.json', [{}], { id: 'same-id' }), instanceFile('b.json', { id: 'same-id' }), api],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [already_exists /id]', 'my-api.json: accepted'],
    ],
    [
      'a duplicate hostname (seed DuplicateHostname): the first by name wins',
      [ingressFile('web.json', [{}]), ingressFile('api.json', [{}]), api],
      none,
      TLS,
      ['web.json: rejected [hostname_in_use /rules/0/match/hostname]', 'api.json: accepted', 'my-api.json: accepted'],
    ],
    [
      'a duplicate hostname: the one accepted before wins',
      [ingressFile('web.json', [{}]), ingressFile('api.json', [{}]), api],
      new Map([['web.json', 5]]),
      TLS,
      ['web.json: accepted', 'api.json: rejected [hostname_in_use /rules/0/match/hostname]', 'my-api.json: accepted'],
    ],
    ['one hostname on two ports', [ingressFile('a.json', [{}]), ingressFile('b.json', [{ port: 8080 }]), api], none, TLS, ['a.json: accepted', 'b.json: accepted', 'my-api.json: accepted']],
    [
      'patterns with the same wildcard form',
      [ingressFile('a.json', [{ host: '{x}.example.com', to: '{x}' }]), ingressFile('b.json', [{ host: '{y}.example.com', to: '{y}' }])],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [hostname_in_use /rules/0/match/hostname]'],
    ],
    [
      'an exact host beside a pattern covering it',
      [ingressFile('a.json', [{ host: '{x}.example.com', to: '{x}' }]), ingressFile('b.json', [{ host: 'a.example.com' }]), api],
      none,
      TLS,
      ['a.json: accepted', 'b.json: accepted', 'my-api.json: accepted'],
    ],
    [
      'a redirect holds the HTTP port for its hostname',
      [ingressFile('a.json', [{ port: 443, tls: true, redirect: true }]), ingressFile('b.json', [{ port: 80 }]), api],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [hostname_in_use /rules/0/match/hostname]', 'my-api.json: accepted'],
    ],
    [
      'a redirect finds its hostname taken on the HTTP port',
      [ingressFile('a.json', [{ port: 80 }]), ingressFile('b.json', [{ port: 443, tls: true, redirect: true }]), api],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [hostname_in_use /rules/0/match/hostname]', 'my-api.json: accepted'],
    ],
    [
      'TLS on a port another ingress serves plain',
      [ingressFile('a.json', [{ host: 'a.example.com', port: 8443 }]), ingressFile('b.json', [{ host: 'b.example.com', port: 8443, tls: true }]), api],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [invalid_request /rules/0/tls]', 'my-api.json: accepted'],
    ],
    [
      'a redirect onto an HTTP port that serves TLS elsewhere',
      [ingressFile('a.json', [{ host: 'a.example.com', port: 80, tls: true }]), ingressFile('b.json', [{ host: 'b.example.com', port: 443, tls: true, redirect: true }])],
      none,
      TLS,
      ['a.json: accepted [instance_not_found /rules/0/target/instance]', 'b.json: rejected [invalid_request /rules/0/redirect_http]'],
    ],
    [
      'a rejected ingress claims nothing',
      [
        ingressFile('a.json', [{ host: 'h1.example.com' }]),
        ingressFile('b.json', [{ host: 'h1.example.com' }, { host: 'h2.example.com' }]),
        ingressFile('c.json', [{ host: 'h2.example.com' }]),
        api,
      ],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [hostname_in_use /rules/0/match/hostname]', 'c.json: accepted', 'my-api.json: accepted'],
    ],
    [
      'a locally invalid ingress claims nothing and is not evaluated further',
      [ingressFile('a.json', [{ port: 443, tls: true }]), ingressFile('b.json', [{ port: 443 }]), api],
      new Map([['a.json', 1]]),
      NO_ACME,
      ['a.json: rejected [tls_not_configured /rules/0/tls]', 'b.json: accepted', 'my-api.json: accepted'],
    ],
    [
      'an unreadable file is rejected with its parse issue',
      [parseManifest('bad.json', '{'), api],
      none,
      TLS,
      ['bad.json: rejected [invalid_request ]', 'my-api.json: accepted'],
    ],
    [
      'a rejected instance does not satisfy targets',
      [instanceFile('a.json', { name: 'vm' }), instanceFile('b.json', { name: 'vm', id: 'other-id' }), ingressFile('web.json', [{ to: 'other-id' }])],
      none,
      TLS,
      ['a.json: accepted', 'b.json: rejected [already_exists /name]', 'web.json: accepted [instance_not_found /rules/0/target/instance]'],
    ],
  ])('%s', (_, manifests, acceptedSince, tls, expected) => {
    expect(summary(evaluate(manifests, acceptedSince, tls))).toEqual(expected);
  });
});

describe('evaluate: the accepted set', () => {
  const manifests = [
    ingressFile('z.json', [{ host: 'z.example.com', to: 'vm-b' }]),
    ingressFile('dir/a.json', [{ host: 'a.example.com', to: 'vm-a' }]),
    ingressFile('clash.json', [{ host: 'a.example.com', to: 'vm-a' }]),
    instanceFile('vm-b.json'),
    instanceFile('vm-a.json'),
  ];

  it('lists accepted resources sorted by name, with their files by id', () => {
    const set = evaluate(manifests, none, TLS);
    expect(set.ingresses.map((i) => i.name)).toEqual(['a', 'z']);
    expect(set.instances.map((i) => i.name)).toEqual(['vm-a', 'vm-b']);
    expect(set.byFile.size).toBe(5);
    expect([...set.fileById.values()].sort()).toEqual(['dir/a.json', 'vm-a.json', 'vm-b.json', 'z.json']);
    for (const resource of [...set.ingresses, ...set.instances]) {
      expect(set.fileById.get(resource.id)).toBe(set.byFile.get(set.fileById.get(resource.id) ?? '')?.manifest.file);
    }
  });

  it('gives the same verdicts whatever the input order', () => {
    const forward = evaluate(manifests, none, TLS);
    const backward = evaluate([...manifests].reverse(), none, TLS);
    expect(backward.ingresses).toEqual(forward.ingresses);
    expect(backward.instances).toEqual(forward.instances);
    for (const [file, e] of forward.byFile) expect(backward.byFile.get(file)).toEqual(e);
  });

  it('names the holding ingress and its file in hostname_in_use', () => {
    const set = evaluate(manifests, none, TLS);
    const [clash] = set.byFile.get('clash.json')?.issues ?? [];
    expect(clash?.code).toBe('hostname_in_use');
    expect(clash?.message).toContain('dir/a.json');
  });
});
