/**
 * CADDY_STORAGE: the syntax and its errors (one row per rule), the `storage` Caddy gets (full and
 * incremental render alike), ingressd's ownership of it (only when set), the password redacted
 * in printed configs, `ingressd diff` patches and log secrets, and the start-up refusal on a
 * Caddy without `caddy.storage.redis`.
 */
import { describe, expect, it } from '@jest/globals';
import { resolveOptions, type Env } from '../../src/controller/options.js';
import { checkStorageModule, storageWarning } from '../../src/controller/startup-checks.js';
import { maskPassword, storageSecrets } from '../../src/controller/storage-options.js';
import { redactOperation } from '../../src/cli/commands/diff.js';
import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import { isIngressdError } from '../../src/model/errors.js';
import type { JsonObject } from '../../src/model/json.js';
import type { StorageSettings } from '../../src/model/settings.js';
import { diffConfig, patchConfig } from '../../src/reconciler/diff.js';
import type { Ingress } from '../../src/model/resource.js';
import { IncrementalRenderer } from '../../src/render/incremental.js';
import { redactSecrets, render } from '../../src/render/index.js';
import { stableStringify } from '../../src/model/canonical.js';

function storageOf(env: Env): StorageSettings | undefined {
  return resolveOptions({ MANIFEST_DIR: '/srv/manifests', ...env }, {}, { cwd: '/work', isTty: false }).render.storage;
}

function failure(value: string): string {
  try {
    storageOf({ CADDY_STORAGE: value });
  } catch (err) {
    expect(isIngressdError(err, 'invalid_option')).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`resolveOptions accepted CADDY_STORAGE=${value}`);
}

describe('CADDY_STORAGE syntax', () => {
  it.each<[string, StorageSettings | undefined]>([
    ['', undefined],
    ['file_system:/srv/caddy-storage', { module: 'file_system', root: '/srv/caddy-storage' }],
    ['file_system:shared/certs', { module: 'file_system', root: '/work/shared/certs' }],
    ['redis://127.0.0.1:6379', { module: 'redis', host: '127.0.0.1', port: 6379, db: 0, username: '', password: '', keyPrefix: '', tls: false }],
    ['redis://redis.internal', { module: 'redis', host: 'redis.internal', port: 6379, db: 0, username: '', password: '', keyPrefix: '', tls: false }],
    ['redis://:s%40cret@10.0.0.5:6380/3', { module: 'redis', host: '10.0.0.5', port: 6380, db: 3, username: '', password: 's@cret', keyPrefix: '', tls: false }],
    ['redis://ingressd:pw@[::1]:6379/0?key_prefix=ingressd/prod', { module: 'redis', host: '::1', port: 6379, db: 0, username: 'ingressd', password: 'pw', keyPrefix: 'ingressd/prod', tls: false }],
    ['rediss://redis.example.com:6380', { module: 'redis', host: 'redis.example.com', port: 6380, db: 0, username: '', password: '', keyPrefix: '', tls: true }],
  ])('%s', (value, expected) => {
    expect(storageOf({ CADDY_STORAGE: value })).toEqual(expected);
  });

  it.each<[string, RegExp]>([
    ['file_system:', /file_system needs a directory/],
    ['consul://127.0.0.1:8500', /CADDY_STORAGE must be file_system:<dir> or redis:\/\//],
    ['/srv/certs', /CADDY_STORAGE must be file_system:<dir>/],
    ['redis://:hunter2@127.0.0.1:99999', /not a valid redis:\/\/ URL.*"redis:\/\/:<redacted>@127\.0\.0\.1:99999"/],
    ['redis://127.0.0.1:0', /port must be 1-65535/],
    ['redis://127.0.0.1:6379/zero', /database must be a number after the host/],
    ['redis://127.0.0.1:6379/0?prefix=x', /accepts only \?key_prefix=<prefix>, got "prefix"/],
    ['redis://127.0.0.1:6379/0?key_prefix=a/../b', /key_prefix must be path segments/],
  ])('refuses %s', (value, message) => {
    expect(failure(value)).toMatch(message);
  });

  it('never shows the password in its messages', () => {
    expect(failure('redis://user:hunter2@127.0.0.1:6379/x')).not.toContain('hunter2');
    expect(maskPassword('redis://user:hunter2@h:1')).toBe('redis://user:<redacted>@h:1');
  });

  it('gives the logger the password both as written and decoded', () => {
    const raw = 'redis://:s%40cret@127.0.0.1:6379';
    expect(storageSecrets(storageOf({ CADDY_STORAGE: raw }), raw).sort()).toEqual(['s%40cret', 's@cret']);
    expect(storageSecrets(storageOf({ CADDY_STORAGE: 'file_system:/x' }), 'file_system:/x')).toEqual([]);
  });
});

const SETTINGS_ENV: Env = { ACME_EMAIL: 'ops@example.test', ACME_CHALLENGE: 'http-01', TLS_ALLOWED_DOMAINS: '*' };
const INGRESS = {
  kind: 'Ingress',
  id: 'web',
  name: 'web',
  file: 'web.json',
  rules: [{ match: { hostname: 'web.example.test', port: 443 }, target: { instance: 'web', port: 8080 }, tls: true, redirect_http: false }],
} as unknown as Ingress;
const INPUT = { ingresses: [INGRESS], instances: [] };

function renderWith(storage: string | undefined): JsonObject {
  const options = resolveOptions({ MANIFEST_DIR: '/srv/m', ...SETTINGS_ENV, ...(storage === undefined ? {} : { CADDY_STORAGE: storage }) }, {}, { cwd: '/', isTty: false });
  const full = render(INPUT, options.render).config;
  expect(stableStringify(new IncrementalRenderer(options.render).render(INPUT).config)).toBe(stableStringify(full));
  return full;
}

describe('render', () => {
  it('leaves storage out when CADDY_STORAGE is unset', () => {
    expect(renderWith(undefined)['storage']).toBeUndefined();
  });

  it('renders file_system with its root', () => {
    expect(renderWith('file_system:/srv/certs')['storage']).toEqual({ module: 'file_system', root: '/srv/certs' });
  });

  it('renders redis with the fields of caddy-storage-redis, defaults left to the module', () => {
    expect(renderWith('redis://127.0.0.1:6390')['storage']).toEqual({ module: 'redis', address: ['127.0.0.1:6390'], db: 0 });
    expect(renderWith('rediss://u:pw@[::1]:6380/2?key_prefix=fleet')['storage']).toEqual({
      module: 'redis',
      address: ['[::1]:6380'],
      db: 2,
      username: 'u',
      password: 'pw',
      key_prefix: 'fleet',
      tls_enabled: true,
    });
  });

  it('redacts the password (and only secrets) in printed configs and diff patches', () => {
    const config = renderWith('redis://u:hunter2@127.0.0.1:6379');
    const printed = JSON.stringify(redactSecrets(config));
    expect(printed).not.toContain('hunter2');
    expect(redactSecrets(config)['storage']).toMatchObject({ password: '<redacted>', username: 'u', address: ['127.0.0.1:6379'] });
    const patch = patchConfig(renderWith('redis://u:old@127.0.0.1:6379'), config).map(redactOperation);
    expect(patch).toEqual([{ op: 'replace', path: '/storage/password', value: '<redacted>' }]);
    const added = patchConfig(renderWith(undefined), config).map(redactOperation);
    expect(JSON.stringify(added)).not.toContain('hunter2');
    expect(added).toEqual([{ op: 'add', path: '/storage', value: expect.objectContaining({ password: '<redacted>' }) }]);
  });
});

describe('ownership of storage', () => {
  const live: JsonObject = { admin: { listen: '127.0.0.1:2019' }, storage: { module: 'file_system', root: '/theirs' }, ...renderWith(undefined) };

  it('is not ingressd\'s while CADDY_STORAGE is unset: a storage Caddy has is kept, and is no difference', () => {
    const diff = diffConfig(live, renderWith(undefined));
    expect(diff.changed).toEqual([]);
    expect(diff.plan.kind).toBe('none');
    expect(diff.merged['storage']).toEqual({ module: 'file_system', root: '/theirs' });
    expect(patchConfig(live, renderWith(undefined))).toEqual([]);
  });

  it('is replaced when CADDY_STORAGE names another, in one write, and is then in sync', () => {
    const desired = renderWith('file_system:/shared');
    const diff = diffConfig(live, desired);
    expect(diff.changed).toEqual(['storage']);
    expect(diff.merged['storage']).toEqual({ module: 'file_system', root: '/shared' });
    expect(diff.merged['admin']).toEqual(live['admin']);
    expect(diffConfig(diff.merged, desired).changed).toEqual([]);
  });
});

describe('start-up check of the storage module', () => {
  const caddy262 = { version: { major: 2, minor: 6, patch: 2 }, modules: ['caddy.storage.file_system', 'http.handlers.reverse_proxy'], binary: '/usr/bin/caddy' };
  const options = (storage: string) => resolveOptions({ MANIFEST_DIR: '/srv/m', CADDY_STORAGE: storage }, {}, { cwd: '/', isTty: false });

  it('refuses redis on a Caddy without caddy.storage.redis, naming the module and the fix', () => {
    let error: unknown;
    try {
      checkStorageModule(options('redis://:pw@127.0.0.1:6379'), caddy262);
    } catch (err) {
      error = err;
    }
    expect(isIngressdError(error, 'caddy_module_missing')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('caddy.storage.redis');
    expect(message).toContain('/usr/bin/caddy, Caddy 2.6.2');
    expect(message).toContain('CADDY_BINARY');
    expect(message).toContain('file_system:');
    expect(message).not.toContain('pw@');
  });

  it('accepts file_system on any Caddy, redis on one with the module, and no storage at all', () => {
    expect(() => checkStorageModule(options('file_system:/srv/certs'), caddy262)).not.toThrow();
    expect(() => checkStorageModule(options('redis://127.0.0.1:6379'), { ...DEFAULT_CADDY, binary: 'caddy' })).not.toThrow();
    const unset = resolveOptions({ MANIFEST_DIR: '/srv/m' }, {}, { cwd: '/', isTty: false });
    expect(() => checkStorageModule(unset, caddy262)).not.toThrow();
  });

  it('warns about file_system on a Caddy before 2.9 (writes in place, a lock two nodes can both take), and only there', () => {
    const warning = storageWarning(options('file_system:/srv/certs'), caddy262);
    expect(warning).toContain('Caddy 2.6.2');
    expect(warning).toContain('half-written');
    expect(warning).toContain('both order');
    expect(warning).toContain('Redis');
    expect(storageWarning(options('file_system:/srv/certs'), { ...caddy262, version: { major: 2, minor: 9, patch: 0 } })).toBeUndefined();
    expect(storageWarning(options('file_system:/srv/certs'), DEFAULT_CADDY)).toBeUndefined();
    expect(storageWarning(options('redis://127.0.0.1:6379'), caddy262)).toBeUndefined();
    expect(storageWarning(resolveOptions({ MANIFEST_DIR: '/srv/m' }, {}, { cwd: '/', isTty: false }), caddy262)).toBeUndefined();
  });
});
