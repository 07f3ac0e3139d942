import { describe, expect, test } from '@jest/globals';
import type { JsonObject } from '../../src/model/json.js';
import { sameJson, type JsonValue } from '../../src/model/json.js';
import { diffConfig, formatPatch, patchConfig } from '../../src/reconciler/diff.js';
import { mergeOwned, ownedOf } from '../../src/reconciler/ownership.js';

const server = (body: string): JsonObject => ({ listen: ['127.0.0.1:80'], routes: [{ handle: [{ handler: 'static_response', body }] }] });
const desired = (servers: Record<string, JsonObject>, policies: JsonObject[] = []): JsonObject => ({
  apps: { http: { http_port: 80, https_port: 443, servers }, ...(policies.length > 0 ? { tls: { automation: { policies } } } : {}) },
});
const live: JsonObject = {
  admin: { listen: '127.0.0.1:2019' },
  logging: { logs: { default: { level: 'INFO' } } },
  apps: {
    http: { http_port: 80, https_port: 443, servers: { 'ingress-80': server('old'), foreign: server('theirs') } },
    tls: { automation: { policies: [{ '@id': 'ingressd.tls.acme', subjects: ['old.test'] }, { subjects: ['theirs.test'] }] } },
  },
};

describe('ownership', () => {
  test('ownedOf keeps only ingress-* servers, the HTTP ports and policies with ingressd @ids', () => {
    const owned = ownedOf(live);
    expect(Object.keys(owned.servers)).toEqual(['ingress-80']);
    expect(owned.tls_policies).toEqual([{ '@id': 'ingressd.tls.acme', subjects: ['old.test'] }]);
    expect(owned.http_port).toBe(80);
  });

  test('mergeOwned replaces owned parts and leaves admin, logging, foreign servers and policies alone', () => {
    const merged = mergeOwned(live, desired({ 'ingress-8080': server('new') }, [{ '@id': 'ingressd.tls.acme', subjects: ['new.test'] }]));
    expect(merged['admin']).toEqual(live['admin']);
    expect(merged['logging']).toEqual(live['logging']);
    const apps = merged['apps'] as { http: { servers: Record<string, unknown> }; tls: { automation: { policies: unknown[] } } };
    expect(Object.keys(apps.http.servers).sort()).toEqual(['foreign', 'ingress-8080']);
    expect(apps.tls.automation.policies).toEqual([{ '@id': 'ingressd.tls.acme', subjects: ['new.test'] }, { subjects: ['theirs.test'] }]);
  });

  test('mergeOwned does not modify the live config it was given', () => {
    const before = JSON.stringify(live);
    mergeOwned(live, desired({}));
    expect(JSON.stringify(live)).toBe(before);
  });

  test('mergeOwned into an empty Caddy (null config) gives a config with only owned parts', () => {
    expect(mergeOwned(null, desired({ 'ingress-80': server('a') }))).toEqual(desired({ 'ingress-80': server('a') }));
  });
});

describe('diffConfig', () => {
  test('no difference in owned parts plans no write, whatever foreign config holds', () => {
    const d = diffConfig(live, desired({ 'ingress-80': server('old') }, [{ '@id': 'ingressd.tls.acme', subjects: ['old.test'] }]));
    expect(d.changed).toEqual([]);
    expect(d.plan.kind).toBe('none');
  });

  test('a change inside one owned server is one full write of the merged config, foreign parts kept', () => {
    const d = diffConfig(live, desired({ 'ingress-80': server('new') }, [{ '@id': 'ingressd.tls.acme', subjects: ['old.test'] }]));
    expect(d.plan).toMatchObject({ kind: 'full', method: 'POST', path: '' });
    expect(d.changed).toEqual(['servers/ingress-80']);
    expect(formatPatch(patchConfig(live, desired({ 'ingress-80': server('new') })))).toContain('/servers/ingress-80/routes/0/handle/0/body');
    expect((d.merged['admin'] as JsonObject)['listen']).toBe('127.0.0.1:2019');
  });

  test('removing the only owned server writes the merged config without it', () => {
    const d = diffConfig(live, desired({}, [{ '@id': 'ingressd.tls.acme', subjects: ['old.test'] }]));
    expect(d.plan.kind).toBe('full');
    const servers = ((d.merged['apps'] as JsonObject)['http'] as JsonObject)['servers'] as JsonObject;
    expect(Object.keys(servers)).toEqual(['foreign']);
  });

  test('changes in several places become one full write of the merged config', () => {
    const d = diffConfig(live, desired({ 'ingress-80': server('new'), 'ingress-81': server('b') }));
    expect(d.changed).toEqual(['servers/ingress-80', 'servers/ingress-81', 'tls_policies']);
    expect(d.plan.kind).toBe('full');
    if (d.plan.kind === 'full') expect(d.plan.body).toEqual(d.merged);
    expect((d.merged['admin'] as JsonObject)['listen']).toBe('127.0.0.1:2019');
  });

  test('a changed port setting is named, and key order alone is no change', () => {
    const reordered = desired({ 'ingress-80': { routes: server('old')['routes']!, listen: ['127.0.0.1:80'] } }, [{ subjects: ['old.test'], '@id': 'ingressd.tls.acme' }]);
    expect(diffConfig(live, reordered).changed).toEqual([]);
    const http = ((reordered['apps'] as JsonObject)['http'] as JsonObject);
    http['https_port'] = 8443;
    expect(diffConfig(live, reordered).changed).toEqual(['https_port']);
  });

  test('an empty Caddy gets a full write', () => {
    expect(diffConfig(null, desired({ 'ingress-80': server('a') })).plan.kind).toBe('full');
  });
});

describe('sameJson', () => {
  const shared = { hosts: ['a.test', 'b.test'] };
  test.each<[string, JsonValue, JsonValue, boolean]>([
    ['the same object', shared, shared, true],
    ['equal objects in another key order', { a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }, true],
    ['a different scalar deep inside', { a: [1, { c: 'x' }] }, { a: [1, { c: 'y' }] }, false],
    ['array order', ['a', 'b'], ['b', 'a'], false],
    ['an extra key', { a: 1 }, { a: 1, b: 2 }, false],
    ['a missing key against one set to null', { a: null }, { b: null }, false],
    ['an array against an object with index keys', ['x'], { 0: 'x' }, false],
    ['null against an empty object', null, {}, false],
    ['a number against its string', 1, '1', false],
    ['a longer array', [1], [1, 1], false],
  ])('%s', (_, a, b, same) => {
    expect(sameJson(a, b)).toBe(same);
    expect(sameJson(b, a)).toBe(same);
  });
});
