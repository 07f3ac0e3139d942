/**
 * basic_auth (and the files a manifest names beside it): the schema's and validation's rules
 * through the real parser and the real reader on a temp directory, the handler Caddy gets
 * (after the IP filter, before the body limit), redaction, status, and the reference index.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../src/manifest/parse.js';
import { isBcryptHash, parseUsersFile } from '../../src/model/basic-auth.js';
import type { Issue } from '../../src/model/issues.js';
import type { JsonObject } from '../../src/model/json.js';
import { referencePathProblem } from '../../src/model/referenced-files.js';
import type { Ingress, Rule } from '../../src/model/resource.js';
import { indexInstances, routesOf } from '../../src/reconciler/routes-status.js';
import { validateResource } from '../../src/reconciler/validate.js';
import { render } from '../../src/render/index.js';
import { redactSecrets, REDACTED, REDACTED_BASE64 } from '../../src/render/redact.js';
import { readManifestFile } from '../../src/sources/manifest-reader.js';
import { readErrorPagesDir } from '../../src/sources/error-pages-dir.js';
import { ReferenceIndex } from '../../src/sources/referenced-files.js';
import { ErrorPagesFollower } from '../../src/controller/follow-settings.js';
import { silentLogger, type Logger } from '../../src/model/logger.js';
import { RENDER_SETTINGS, TLS } from '../helpers/tls-settings.js';

/** Real bcrypt hashes (`caddy hash-password --bcrypt-cost 4`) of "s3cret" and "other". */
const HASH = '$2a$04$TSjGFGBjYOy5GWBIKkXfxequ2vrYBcz/nrQ.B9L6trg81QPDNxs5C';
const HASH2 = '$2b$04$UD.vyI9nREfi/lMVg0yAKOeGpIH46qPtNFJi.50/LuIlRAc.cFtSW';

type Json = Record<string, unknown>;
const BASE: Json = { match: { hostname: 'shop.example.com' }, target: { instance: 'api-1', port: 8080 } };

/** Every issue of `shop.json` with one rule, read by the real reader from a temp directory holding `files`. */
function problems(fields: Json, files: Record<string, string> = {}): Issue[] {
  const dir = mkdtempSync(join(tmpdir(), 'ingressd-auth-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, 'shop.json'), JSON.stringify({ rules: [{ ...BASE, ...fields }] }));
  const manifest = readManifestFile(join(dir, 'shop.json'), 'shop.json')!;
  const issues = manifest.resource === undefined ? manifest.issues : validateResource(manifest.resource, TLS);
  for (const i of issues) {
    expect(i.message.length).toBeGreaterThan(20);
    expect(i.message).not.toContain(HASH.slice(7));
  }
  return [...issues];
}
const paths = (fields: Json, files?: Record<string, string>): string[] => problems(fields, files).map((i) => `${i.code} ${i.path}`);

const ingressOf = (rules: Rule[], files?: Ingress['files']): Ingress => ({ kind: 'Ingress', id: 'id-shop', name: 'shop', rules, ...(files === undefined ? {} : { files }) });
const rule = (extra: Partial<Rule> = {}): Rule => ({ match: { hostname: 'shop.test', port: 80 }, target: { instance: 'a', port: 8080 }, tls: false, redirect_http: false, ...extra });
function ownRoute(ingress: Ingress): { handle: JsonObject[] } {
  const config = render({ ingresses: [ingress], instances: [] }, RENDER_SETTINGS).config;
  const routes = (config['apps'] as { http: { servers: Record<string, { routes: { '@id': string; handle: JsonObject[] }[] }> } }).http.servers['ingress-80']!.routes;
  return routes.find((r) => r['@id'].includes('.rule.'))!;
}

describe('bcrypt hashes', () => {
  it.each([
    [HASH, true],
    [HASH2, true],
    [HASH.replace('$2a$', '$2y$'), true],
    [HASH.replace('$04$', '$31$'), true],
    [HASH.replace('$04$', '$03$'), false],
    [HASH.replace('$04$', '$32$'), false],
    [HASH.slice(0, -1), false],
    [`${HASH}x`, false],
    [HASH.replace('$2a$', '$2x$'), false],
    ['s3cret', false],
  ])('%s is a bcrypt hash: %s', (hash, valid) => {
    expect(isBcryptHash(hash)).toBe(valid);
  });
});

describe('basic_auth validation', () => {
  it('accepts inline users with bcrypt hashes, and a users file beside the manifest (comments, blank lines, CRLF)', () => {
    expect(paths({ basic_auth: { realm: 'shop', users: [{ username: 'alice', password_hash: HASH }, { username: 'bob', password_hash: HASH2 }] } })).toEqual([]);
    expect(paths({ basic_auth: { users_file: 'shop.users' } }, { 'shop.users': `# team\r\nalice:${HASH}\r\n\r\nbob:${HASH2}\n` })).toEqual([]);
    expect(paths({ basic_auth: { users_file: 'auth/shop.users' } }, { 'auth/shop.users': `alice:${HASH}\n` })).toEqual([]);
  });

  it.each([
    [{ users: [{ username: 'alice', password: 's3cret' }] }, '/rules/0/basic_auth/users/0/password', 'caddy hash-password --plaintext'],
    [{ users: [{ username: 'alice', password_hash: 's3cret' }] }, '/rules/0/basic_auth/users/0/password_hash', 'plaintext password'],
    [{ users: [{ username: 'alice', password_hash: HASH.slice(0, 40) }] }, '/rules/0/basic_auth/users/0/password_hash', '60 in all'],
    [{ users: [{ username: 'alice', password_hash: HASH.replace('$04$', '$03$') }] }, '/rules/0/basic_auth/users/0/password_hash', 'cost 03'],
    [{ users: [{ username: 'alice', password_hash: '$argon2id$v=19$m=47104,t=1,p=1$abc' }] }, '/rules/0/basic_auth/users/0/password_hash', 'only bcrypt'],
    [{ users: [{ username: 'alice' }] }, '/rules/0/basic_auth/users/0/password_hash', 'missing'],
    [{ users: [{ username: 'a:b', password_hash: HASH }] }, '/rules/0/basic_auth/users/0/username', 'colon'],
    [{ users: [{ username: 'a', password_hash: HASH }, { username: 'a', password_hash: HASH2 }] }, '/rules/0/basic_auth/users/1/username', 'twice'],
    [{ realm: 'sh"op', users: [{ username: 'a', password_hash: HASH }] }, '/rules/0/basic_auth/realm', 'quote'],
    [{ realm: 'shop' }, '/rules/0/basic_auth/users', 'users_file'],
    [{ users: [{ username: 'a', password_hash: HASH }], users_file: 'x.users' }, '/rules/0/basic_auth/users_file', 'both'],
    [{ users: [] }, '/rules/0/basic_auth/users', 'at least one'],
    [{ users: [{ username: 'a', password_hash: HASH, role: 'x' }] }, '/rules/0/basic_auth/users/0/role', 'unknown field'],
    [{ users_file: 'missing.users' }, '/rules/0/basic_auth/users_file', 'does not exist'],
    [{ users_file: '../shop.users' }, '/rules/0/basic_auth/users_file', "leaves the manifest's directory"],
    [{ users_file: '/etc/shop.users' }, '/rules/0/basic_auth/users_file', 'absolute path'],
    [{ users_file: 'users.json' }, '/rules/0/basic_auth/users_file', 'manifest'],
    [{ users_file: 'auth' }, '/rules/0/basic_auth/users_file', 'not a regular file'],
  ])('refuses %j with a pointer and a fix', (basicAuth, path, words) => {
    const issues = problems({ basic_auth: basicAuth }, { 'auth/x.users': `a:${HASH}\n` });
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toContain(words);
  });

  it('refuses a users file that is too large, or whose lines are not username:bcrypt-hash, naming the line (never the hash)', () => {
    expect(problems({ basic_auth: { users_file: 'big.users' } }, { 'big.users': `a:${HASH}\n`.repeat(5000) })[0]!.message).toContain('256 KiB');
    const issues = problems({ basic_auth: { users_file: 'shop.users' } }, { 'shop.users': `alice:${HASH}\nbob s3cret\ncarol:s3cret\nalice:${HASH2}\n` });
    expect(issues.map((i) => i.path)).toEqual(Array(3).fill('/rules/0/basic_auth/users_file'));
    expect(issues.map((i) => i.message)).toEqual([
      expect.stringContaining('line 2: is not username:hash'),
      expect.stringContaining('"carol"): password_hash is not a bcrypt hash: it looks like a plaintext password'),
      expect.stringContaining('"alice" is listed twice'),
    ]);
    expect(issues.map((i) => i.message).join()).not.toContain('s3cret');
    expect(problems({ basic_auth: { users_file: 'empty.users' } }, { 'empty.users': '# nobody\n' })[0]!.message).toContain('holds no account');
  });

  it('reads the path rules and the users file format as documented', () => {
    expect(referencePathProblem('pages/502.html')).toBeUndefined();
    expect(referencePathProblem('.htpasswd')).toBeUndefined();
    expect(referencePathProblem('a/../b')).toContain('..');
    expect(referencePathProblem('a//b')).toContain('empty');
    expect(parseUsersFile(`a:${HASH}\n  # c\n`)).toEqual({ users: [{ username: 'a', password_hash: HASH }], problems: [] });
  });
});

describe('basic_auth render', () => {
  it('renders authentication after the IP filter and before the body limit and headers, accounts sorted and base64-encoded', () => {
    const r = rule({ allow_ips: ['10.0.0.0/8'], max_request_body: '1KB', headers: { request: { set: { 'X-A': 'a' } } }, basic_auth: { realm: 'shop', users: [{ username: 'bob', password_hash: HASH2 }, { username: 'alice', password_hash: HASH }] } });
    const own = ownRoute(ingressOf([r]));
    expect(own.handle.map((h) => h['handler'])).toEqual(['subroute', 'authentication', 'request_body', 'headers', 'reverse_proxy']);
    expect(own.handle[1]).toEqual({
      handler: 'authentication',
      providers: {
        http_basic: {
          accounts: [
            { username: 'alice', password: Buffer.from(HASH).toString('base64') },
            { username: 'bob', password: Buffer.from(HASH2).toString('base64') },
          ],
          hash: { algorithm: 'bcrypt' },
          hash_cache: {},
          realm: 'shop',
        },
      },
    });
    expect(JSON.stringify(redactSecrets(own.handle[1]!))).not.toContain(Buffer.from(HASH).toString('base64'));
    expect(JSON.stringify(redactSecrets(own.handle[1]!))).toContain(REDACTED_BASE64);
    expect(Buffer.from(REDACTED_BASE64, 'base64').toString()).toBe(REDACTED);
  });

  it('renders a users file from the ingress files; the status names the file, never a hash', () => {
    const r = rule({ basic_auth: { users_file: 'shop.users' } });
    const own = ownRoute(ingressOf([r], { 'shop.users': { text: `carol:${HASH}\n` } }));
    expect(own.handle[0]).toMatchObject({ providers: { http_basic: { accounts: [{ username: 'carol' }] } } });
    const [route] = routesOf(ingressOf([r]), indexInstances([]), RENDER_SETTINGS);
    expect(route!.policies).toEqual([{ policy: 'basic_auth', effect: 'requests without the username and password of a user in shop.users (realm "restricted") get 401' }]);
  });

  it('gives a new generation when the users file changes, and the same one when it does not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingressd-auth-'));
    writeFileSync(join(dir, 'shop.json'), JSON.stringify({ rules: [{ ...BASE, basic_auth: { users_file: 'shop.users' } }] }));
    writeFileSync(join(dir, 'shop.users'), `a:${HASH}\n`);
    const first = readManifestFile(join(dir, 'shop.json'), 'shop.json')!.generation;
    expect(readManifestFile(join(dir, 'shop.json'), 'shop.json')!.generation).toBe(first);
    writeFileSync(join(dir, 'shop.users'), `a:${HASH2}\n`);
    expect(readManifestFile(join(dir, 'shop.json'), 'shop.json')!.generation).not.toBe(first);
    // Without files the manifest parses exactly as before.
    const plain = JSON.stringify({ rules: [BASE] });
    writeFileSync(join(dir, 'plain.json'), plain);
    expect(readManifestFile(join(dir, 'plain.json'), 'plain.json')).toEqual(parseManifest('plain.json', plain));
  });
});

describe('the reference index', () => {
  it('maps a referenced file (relative to the watched directory) to the manifests naming it, and forgets them', () => {
    const index = new ReferenceIndex();
    const manifest = (file: string, usersFile: string) => parseManifest(file, JSON.stringify({ rules: [{ ...BASE, basic_auth: { users_file: usersFile } }] }));
    index.record('team/shop.json', manifest('team/shop.json', 'shop.users'));
    index.record('team/web.json', manifest('team/web.json', 'shop.users'));
    index.record('top.json', manifest('top.json', '../escape.users'));
    expect(index.referencedBy('team/shop.users')).toEqual(['team/shop.json', 'team/web.json']);
    expect(index.referencedBy('shop.users')).toEqual([]);
    expect(index.referencing()).toEqual(['team/shop.json', 'team/web.json']);
    index.record('team/shop.json', undefined);
    expect(index.referencedBy('team/shop.users')).toEqual(['team/web.json']);
  });
});

describe('error_pages validation', () => {
  it('accepts statuses 400-599 and the classes, inline or from a file beside the manifest', () => {
    expect(paths({ error_pages: { '404': { body: '<h1>gone</h1>' }, '599': { body: 'x', content_type: 'text/plain' }, '5xx': { file: 'pages/5xx.html' }, '4xx': { file: '4xx.txt' } } }, { 'pages/5xx.html': '<h1>down</h1>', '4xx.txt': 'no' })).toEqual([]);
  });

  it.each([
    [{ '4040': { body: 'x' } }, '/rules/0/error_pages/4040', 'neither a status'],
    [{ abc: { body: 'x' } }, '/rules/0/error_pages/abc', 'neither a status'],
    [{ '3xx': { body: 'x' } }, '/rules/0/error_pages/3xx', 'not errors'],
    [{ '200': { body: 'x' } }, '/rules/0/error_pages/200', '400 to 599'],
    [{ '600': { body: 'x' } }, '/rules/0/error_pages/600', '400 to 599'],
    [{ '502': {} }, '/rules/0/error_pages/502', 'needs its content'],
    [{ '502': { body: 'x', file: '502.html' } }, '/rules/0/error_pages/502', 'both body and file'],
    [{ '502': { body: 'x', content_type: 'html' } }, '/rules/0/error_pages/502/content_type', 'media type'],
    [{ '502': { body: 'x', size: 1 } }, '/rules/0/error_pages/502/size', 'unknown field'],
    [{ '502': { file: 'missing.html' } }, '/rules/0/error_pages/502/file', 'does not exist'],
    [{ '502': { file: '../502.html' } }, '/rules/0/error_pages/502/file', "leaves the manifest's directory"],
    [{ '502': { file: '/srv/502.html' } }, '/rules/0/error_pages/502/file', 'absolute'],
    [{ '502': { file: 'big.html' } }, '/rules/0/error_pages/502/file', '256 KiB'],
    [{ '502': { body: 'x'.repeat(256 * 1024 + 1) } }, '/rules/0/error_pages/502/body', '256 KiB'],
    [{}, '/rules/0/error_pages', ''],
  ])('refuses %j with a pointer and a fix', (pages, path, words) => {
    const issues = problems({ error_pages: pages }, { 'big.html': 'x'.repeat(256 * 1024 + 1) });
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toContain(words);
  });
});

describe('error_pages render', () => {
  type Server = { routes: { '@id': string; handle: JsonObject[] }[]; errors?: { routes: JsonObject[] } };
  const serverOf = (ingresses: Ingress[], settings = RENDER_SETTINGS): Server =>
    (render({ ingresses, instances: [] }, settings).config['apps'] as { http: { servers: Record<string, Server> } }).http.servers['ingress-80']!;
  const pages = { '5xx': { body: 'five' }, '502': { file: '502.html' } };

  it('marks the rule first, then renders its pages as errors.routes by tag and status (exact before class), the status kept', () => {
    const r = rule({ allow_ips: ['10.0.0.0/8'], error_pages: pages });
    const server = serverOf([ingressOf([r], { '502.html': { text: '<h1>502</h1>' } })]);
    const own = server.routes.find((x) => x['@id'].includes('.rule.'))!;
    expect(own.handle.map((h) => h['handler'])).toEqual(['vars', 'subroute', 'reverse_proxy']);
    const tag = own.handle[0]!['ingressd_error_pages'];
    expect(typeof tag).toBe('string');
    // No 403 page: the IP filter answers as before.
    expect(JSON.stringify(own.handle[1])).toContain('static_response');
    expect(server.errors?.routes).toEqual([
      { '@id': `ingressd.80.errors.${String(tag)}.502`, match: [{ vars: { ingressd_error_pages: [tag] }, expression: '{http.error.status_code} == 502' }], handle: [{ handler: 'static_response', status_code: '{http.error.status_code}', headers: { 'Content-Type': ['text/html; charset=utf-8'] }, body: '<h1>502</h1>' }], terminal: true },
      { '@id': `ingressd.80.errors.${String(tag)}.5xx`, match: [{ vars: { ingressd_error_pages: [tag] }, expression: '{http.error.status_code} >= 500 && {http.error.status_code} <= 599' }], handle: [{ handler: 'static_response', status_code: '{http.error.status_code}', headers: { 'Content-Type': ['text/html; charset=utf-8'] }, body: 'five' }], terminal: true },
    ]);
    const [route] = routesOf(ingressOf([r]), indexInstances([]), RENDER_SETTINGS);
    expect(route!.policies!.map((p) => p.policy)).toEqual(['allow_ips', 'error_pages']);
    expect(route!.policies![1]!.effect).toBe('errors 502, 5xx get the pages given (502 from 502.html)');
  });

  it('raises the IP filter 403 as an error when a 403 page applies (the rule\'s or a global one)', () => {
    const own = (r: Rule, settings = RENDER_SETTINGS) => serverOf([ingressOf([r])], settings).routes.find((x) => x['@id'].includes('.rule.'))!;
    const forbidden = { error: 'Forbidden', handler: 'error', status_code: 403 }; // canonical key order
    expect(JSON.stringify(own(rule({ deny_ips: ['10.0.0.1'], error_pages: { '4xx': { body: 'no' } } })).handle[1])).toContain(JSON.stringify(forbidden));
    const global = { ...RENDER_SETTINGS, errorPages: [{ key: '403', body: 'denied', contentType: 'text/plain' }] };
    expect(JSON.stringify(own(rule({ deny_ips: ['10.0.0.1'] }), global).handle[0])).toContain(JSON.stringify(forbidden));
  });

  it('shares one tag between rules with the same pages; global pages come last and answer the unmatched-host 404', () => {
    const a = rule({ error_pages: { '502': { body: 'b' } } });
    const b = rule({ match: { hostname: 'other.test', port: 80 }, error_pages: { '502': { body: 'b' } } });
    const settings = { ...RENDER_SETTINGS, errorPages: [{ key: '5xx', body: 'global 5xx', contentType: 'text/html' }, { key: '404', body: 'no such site', contentType: 'text/html' }] };
    const server = serverOf([ingressOf([a, b])], settings);
    const ids = (server.errors?.routes ?? []).map((r) => String(r['@id']).replace(/errors\.[0-9a-z]{12}\./, 'errors.TAG.'));
    expect(ids).toEqual(['ingressd.80.errors.TAG.502', 'ingressd.80.errors.global.404', 'ingressd.80.errors.global.5xx']);
    expect(server.routes.at(-1)!.handle).toEqual([{ handler: 'static_response', status_code: 404, headers: { 'Content-Type': ['text/html'] }, body: 'no such site' }]);
  });

  it('renders without pages exactly as before: no errors, no mark, the same 404', () => {
    const server = serverOf([ingressOf([rule({ deny_ips: ['10.0.0.1'] })])]);
    expect(server.errors).toBeUndefined();
    expect(server.routes.at(-1)!.handle[0]).toMatchObject({ handler: 'static_response', status_code: 404, body: 'Not Found: no ingress configured for hostname {http.request.host}\n' });
  });
});

describe('ERROR_PAGES_DIR', () => {
  const logged: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (m, f) => void logged.push(`${m} ${String(f?.['problem'])}`) };

  it('reads <status or class>.<ext> files, typed by extension, exact statuses first; leaves out the rest with a reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingressd-pages-'));
    for (const [name, text] of Object.entries({ '5xx.html': 'five', '404.txt': 'four', '502.json': '{}', '4040.html': 'x', 'abc.html': 'x', '404.html': 'dup', '.hidden': 'x', 'big.html': 'x' })) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, '503.html'), 'x'.repeat(256 * 1024 + 1));
    mkdirSync(join(dir, '500.html'));
    const { pages, problems } = readErrorPagesDir(dir);
    expect(pages).toEqual([
      { key: '404', body: 'dup', contentType: 'text/html; charset=utf-8' },
      { key: '502', body: '{}', contentType: 'application/json' },
      { key: '5xx', body: 'five', contentType: 'text/html; charset=utf-8' },
    ]);
    expect(problems).toEqual([
      expect.stringContaining('404.txt is left out: 404 already has a page'),
      expect.stringContaining('4040.html is left out'),
      expect.stringContaining('503.html is left out: 262145 bytes'),
      expect.stringContaining('abc.html is left out'),
      expect.stringContaining('big.html is left out'),
    ]);
    expect(readErrorPagesDir(join(dir, 'nope')).problems[0]).toContain('cannot be read (ENOENT)');
  });

  it('tells when the pages changed between reads, and logs a problem once while it lasts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingressd-pages-'));
    const follower = new ErrorPagesFollower(dir, logger);
    expect(follower.read().changed).toBe(false);
    writeFileSync(join(dir, '404.html'), 'a');
    writeFileSync(join(dir, 'x.html'), 'a');
    expect(follower.read()).toEqual({ pages: [{ key: '404', body: 'a', contentType: 'text/html; charset=utf-8' }], changed: true });
    expect(follower.read().changed).toBe(false);
    writeFileSync(join(dir, '404.html'), 'b');
    expect(follower.read().changed).toBe(true);
    expect(logged.filter((l) => l.includes('x.html'))).toHaveLength(1);
    expect(new ErrorPagesFollower(undefined, logger).read()).toEqual({ pages: [], changed: false });
  });
});
