import { describe, expect, it } from '@jest/globals';
import { deriveId, fastHashOf } from '../../src/model/ids.js';
import type { Manifest } from '../../src/model/manifest.js';
import { parseManifest } from '../../src/manifest/parse.js';

const RULE = { match: { hostname: 'api.example.com' }, target: { instance: 'my-api', port: 8080 } };
const ingressText = (fields: Record<string, unknown> = {}): string => JSON.stringify({ rules: [RULE], ...fields });

function paths(manifest: Manifest): string[] {
  return manifest.issues.map((i) => i.path).sort();
}

function expectWellFormedIssues(manifest: Manifest): void {
  for (const found of manifest.issues) {
    expect(found.code).toBe('invalid_request');
    expect(found.message.length).toBeGreaterThan(0);
  }
}

describe('parseManifest: JSON syntax', () => {
  it.each([
    ['an empty file', '', 1, 1],
    ['a whitespace-only file', '  \n\n ', 1, 1],
    ['a trailing comma in an object (position given)', '{\n  "rules": [],\n}', 3, 1],
    ['a missing comma (position given)', '{\n  "a": 1\n  "b": 2\n}', 3, 3],
    ['a truncated file (end of input)', '{\n  "rules": [\n', 2, 13],
    ['single quotes (no position in the message)', '{\n  "name": \'web\'\n}', 2, 11],
    ['a trailing comma in an array (no position)', '{"rules": [1,\n ]}', 2, 2],
    ['a bare word (no position)', '{"tls": yes}', 1, 9],
    ['a bad literal (no position)', '{"tls": tru}', 1, 9],
    ['trailing garbage', '{}\n}', 2, 1],
    ['a BOM then bad JSON', '\uFEFF{\n  x\n}', 2, 3],
    ['an unterminated string', '{"name": "web', 1, 14],
  ])('%s → one invalid_request at the file naming line and column', (_, text, line, column) => {
    const manifest = parseManifest('web.json', text);
    expect(manifest.resource).toBeUndefined();
    expect(manifest.kind).toBeUndefined();
    expect(manifest.name).toBe('web');
    expect(manifest.generation).toBe(fastHashOf(text));
    expect(manifest.issues).toHaveLength(1);
    const [found] = manifest.issues;
    expect(found?.code).toBe('invalid_request');
    expect(found?.path).toBe('');
    expect(found?.message).toMatch(/line \d+, column \d+/);
    expect(found?.message).toContain(`line ${line}, column ${column}`);
  });

  it('accepts a file that starts with a BOM', () => {
    const manifest = parseManifest('web.json', `\uFEFF${ingressText()}`);
    expect(manifest.issues).toEqual([]);
    expect(manifest.resource?.kind).toBe('Ingress');
  });
});

describe('parseManifest: kind and shape', () => {
  it.each([
    ['a JSON array', '[]', ''],
    ['a JSON string', '"web"', ''],
    ['null', 'null', ''],
    ['an unknown kind', ingressText({ kind: 'Service' }), '/kind'],
    ['a kind in the wrong case', ingressText({ kind: 'ingress' }), '/kind'],
    ['a non-string kind', ingressText({ kind: 5 }), '/kind'],
  ])('%s → invalid_request at %j', (_, text, path) => {
    const manifest = parseManifest('web.json', text);
    expect(manifest.resource).toBeUndefined();
    expect(manifest.kind).toBeUndefined();
    expect(paths(manifest)).toEqual([path]);
    expectWellFormedIssues(manifest);
  });

  it('treats a manifest without kind as an Ingress', () => {
    expect(parseManifest('web.json', ingressText()).kind).toBe('Ingress');
    expect(parseManifest('web.json', ingressText({ kind: 'Ingress' })).resource?.kind).toBe('Ingress');
  });

  it('reads kind Instance', () => {
    const manifest = parseManifest('vm.json', JSON.stringify({ kind: 'Instance', address: '10.0.0.5' }));
    expect(manifest.issues).toEqual([]);
    expect(manifest.resource).toEqual({ kind: 'Instance', id: deriveId('Instance', 'vm'), name: 'vm', address: '10.0.0.5' });
  });
});

const withRule = (rule: Record<string, unknown>): Record<string, unknown> => ({ rules: [rule] });
const ruleWith = (match: Record<string, unknown>, target: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  withRule({ match: { hostname: 'api.example.com', ...match }, target: { instance: 'my-api', port: 8080, ...target }, ...extra });

describe('parseManifest: schema violations (one row per rule)', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['missing rules', { name: 'web' }, ['/rules']],
    ['empty rules (seed NoRules)', { rules: [] }, ['/rules']],
    ['rules not a list', { rules: {} }, ['/rules']],
    ['unknown top-level field', { nmae: 'web', rules: [RULE] }, ['/nmae']],
    ['misspelt hostname', withRule({ match: { hostnmae: 'a.com' }, target: { instance: 'x', port: 1 } }), ['/rules/0/match/hostname', '/rules/0/match/hostnmae']],
    ['missing match', withRule({ target: { instance: 'x', port: 1 } }), ['/rules/0/match']],
    ['missing target', withRule({ match: { hostname: 'a.com' } }), ['/rules/0/target']],
    ['rule not an object', { rules: ['a.com'] }, ['/rules/0']],
    ['unknown rule field', withRule({ ...RULE, path_prefix: '/api' }), ['/rules/0/path_prefix']],
    ['empty hostname (seed)', ruleWith({ hostname: '' }, {}), ['/rules/0/match/hostname']],
    ['hostname not a string', ruleWith({ hostname: 5 }, {}), ['/rules/0/match/hostname']],
    ['match port 70000 (seed)', ruleWith({ port: 70000 }, {}), ['/rules/0/match/port']],
    ['match port -1 (seed)', ruleWith({ port: -1 }, {}), ['/rules/0/match/port']],
    ['match port 0', ruleWith({ port: 0 }, {}), ['/rules/0/match/port']],
    ['match port 80.5', ruleWith({ port: 80.5 }, {}), ['/rules/0/match/port']],
    ['match port as a string', ruleWith({ port: '80' }, {}), ['/rules/0/match/port']],
    ['target port 0 (seed)', ruleWith({}, { port: 0 }), ['/rules/0/target/port']],
    ['target port -1 (seed)', ruleWith({}, { port: -1 }), ['/rules/0/target/port']],
    ['target port 70000 (seed)', ruleWith({}, { port: 70000 }), ['/rules/0/target/port']],
    ['missing target port', withRule({ match: { hostname: 'a.com' }, target: { instance: 'x' } }), ['/rules/0/target/port']],
    ['empty instance (seed)', ruleWith({}, { instance: '' }), ['/rules/0/target/instance']],
    ['tls not a boolean', ruleWith({}, {}, { tls: 'yes' }), ['/rules/0/tls']],
    ['redirect_http not a boolean', ruleWith({}, {}, { redirect_http: 1 }), ['/rules/0/redirect_http']],
    ['name with an underscore (seed)', { name: 'Invalid_Name', rules: [RULE] }, ['/name']],
    ['name with a leading dash (seed)', { name: '-starts-with-dash', rules: [RULE] }, ['/name']],
    ['name with a trailing dash (seed)', { name: 'ends-with-dash-', rules: [RULE] }, ['/name']],
    ['name with spaces (seed)', { name: 'has spaces', rules: [RULE] }, ['/name']],
    ['name in uppercase (seed)', { name: 'UPPERCASE', rules: [RULE] }, ['/name']],
    ['name with a period (seed)', { name: 'a.b', rules: [RULE] }, ['/name']],
    ['empty name (seed)', { name: '', rules: [RULE] }, ['/name']],
    ['name of 64 characters', { name: 'a'.repeat(64), rules: [RULE] }, ['/name']],
    ['name not a string', { name: 7, rules: [RULE] }, ['/name']],
    ['id with uppercase', { id: 'ABC', rules: [RULE] }, ['/id']],
    ['created_at not a date-time', { created_at: 'yesterday', rules: [RULE] }, ['/created_at']],
    ['$schema not a string', { $schema: 1, rules: [RULE] }, ['/$schema']],
    ['several problems at once', { rules: [{ ...RULE, tls: 'no' }, { match: { hostname: 'b.com', port: 0 }, target: { instance: 'x', port: 70000 } }] }, ['/rules/0/tls', '/rules/1/match/port', '/rules/1/target/port']],
  ])('%s', (_, doc, expected) => {
    const text = JSON.stringify(doc);
    const manifest = parseManifest('web.json', text);
    expect(manifest.resource).toBeUndefined();
    expect(manifest.kind).toBe('Ingress');
    expect(manifest.generation).toBe(fastHashOf(text));
    expect(paths(manifest)).toEqual(expected);
    expectWellFormedIssues(manifest);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['missing address', { kind: 'Instance' }, ['/address']],
    ['address that is no IP', { kind: 'Instance', address: '1.2.3' }, ['/address']],
    ['address that is a hostname', { kind: 'Instance', address: 'vm.local' }, ['/address']],
    ['address not a string', { kind: 'Instance', address: 5 }, ['/address']],
    ['rules on an instance', { kind: 'Instance', address: '10.0.0.1', rules: [RULE] }, ['/rules']],
    ['invalid instance name', { kind: 'Instance', name: 'My_VM', address: '10.0.0.1' }, ['/name']],
  ])('instance: %s', (_, doc, expected) => {
    const manifest = parseManifest('vm.json', JSON.stringify(doc));
    expect(manifest.kind).toBe('Instance');
    expect(manifest.resource).toBeUndefined();
    expect(paths(manifest)).toEqual(expected);
    expectWellFormedIssues(manifest);
  });

  it('keeps the name written in an invalid file', () => {
    expect(parseManifest('web.json', JSON.stringify({ name: 'Bad_Name', rules: [] })).name).toBe('Bad_Name');
    expect(parseManifest('web.json', JSON.stringify({ name: 5, rules: [] })).name).toBe('web');
  });
});

describe('parseManifest: normalisation', () => {
  it('fills in defaults: name from the stem, port 80, tls and redirect_http false, derived id', () => {
    const manifest = parseManifest('team/web.json', ingressText());
    expect(manifest.issues).toEqual([]);
    expect(manifest.name).toBe('web');
    expect(manifest.resource).toEqual({
      kind: 'Ingress',
      id: deriveId('Ingress', 'web'),
      name: 'web',
      rules: [{ match: { hostname: 'api.example.com', port: 80 }, target: { instance: 'my-api', port: 8080 }, tls: false, redirect_http: false }],
    });
  });

  it('keeps explicit values: name, id, created_at, ports, tls, redirect_http', () => {
    const rule = { match: { hostname: 'api.example.com', port: 443 }, target: { instance: 'my-api', port: 8080 }, tls: true, redirect_http: true };
    const doc = { $schema: 'https://ingressd.dev/schemas/ingress.schema.json', kind: 'Ingress', name: 'my-api-ingress', id: 'e5hbxzwc6cq0tnjchw861exg', created_at: '2025-12-10T23:30:57Z', rules: [rule] };
    const manifest = parseManifest('web.json', JSON.stringify(doc));
    expect(manifest.name).toBe('my-api-ingress');
    expect(manifest.resource).toEqual({ kind: 'Ingress', id: doc.id, name: doc.name, created_at: doc.created_at, rules: [rule] });
  });

  it.each([
    ['API.Example.COM', 'api.example.com'],
    ['{Instance}.Dev.Example.com', '{Instance}.dev.example.com'],
    ['{a}.{B_c}.EXAMPLE.com', '{a}.{B_c}.example.com'],
  ])('lowercases hostname %s → %s, keeping capture names', (hostname, expected) => {
    const doc = { rules: [{ match: { hostname }, target: { instance: '{Instance}', port: 80 } }] };
    const manifest = parseManifest('web.json', JSON.stringify(doc));
    expect(manifest.resource?.kind === 'Ingress' && manifest.resource.rules[0]?.match.hostname).toBe(expected);
  });

  it.each([
    ['10.100.0.10', '10.100.0.10'],
    ['FD00:0:0:0:0:0:0:10', 'fd00::10'],
    ['::1', '::1'],
    ['2001:DB8::0:1', '2001:db8::1'],
  ])('normalises address %s → %s', (address, expected) => {
    const manifest = parseManifest('vm.json', JSON.stringify({ kind: 'Instance', address }));
    expect(manifest.resource?.kind === 'Instance' && manifest.resource.address).toBe(expected);
  });

  it('gives the same generation whatever the formatting, and a new one when the content changes', () => {
    const a = parseManifest('web.json', JSON.stringify({ rules: [RULE], name: 'web' }));
    const b = parseManifest('web.json', `{\n  "name": "web",\n  "rules": [{"target": {"port": 8080, "instance": "my-api"}, "match": {"hostname": "API.example.com", "port": 80}}]\n}\n`);
    const c = parseManifest('web.json', JSON.stringify({ rules: [{ ...RULE, tls: true }] }));
    expect(a.generation).toBe(b.generation);
    expect(a.generation).not.toBe(c.generation);
  });
});
