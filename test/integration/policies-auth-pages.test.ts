/**
 * basic_auth end to end: real `ingressd run`, the Caddy under test (CADDY_BINARY), the real
 * instance DNS, a real backend on 127.0.0.2, bcrypt hashes made by the real `caddy hash-password`,
 * real files and a real HTTP client.
 * - inline users: 401 with `WWW-Authenticate: Basic realm="shop"` without credentials and with a
 *   wrong password, 200 with the right one;
 * - a users file beside the manifest: served, then edited (a new password) and re-applied without
 *   a restart; deleted → Accepted=False with its pointer while the last valid version serves;
 * - a plaintext password refused with its pointer; no hash in ingressd's log or in `ingressd
 *   render` (unless --show-secrets); status routes[].policies.
 * error_pages and ERROR_PAGES_DIR, on the same kind of setup:
 * - a rule's 502 page (a file beside the manifest) when its instance is down, with the status
 *   kept; the file edited → the new page without a restart; a 5xx class page for 503;
 * - a 403 page for a denied address (a second loopback source address), a 401 page that keeps
 *   WWW-Authenticate; a rule without pages gets the global ones;
 * - the unmatched-host 404 from ERROR_PAGES_DIR, and a changed global page at the next resync;
 * - a key "4040" refused with its pointer.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { SINCE } from '../../src/model/caddy-version.js';
import { CADDY, isCaddyAtLeast } from '../helpers/caddy-under-test.js';
import { condition, freePort, killDaemons, readStatus, removeDir, runCliAsync, startBackend, startIngressd, tempDir, waitFor, waitReady, writeJson, type Backend, type IngressdProcess } from '../helpers/processes.js';
import { statusSchema } from '../helpers/status-schema.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** GET `path` on `host` through Caddy, with basic credentials when given. */
function getAs(port: number, host: string, credentials?: string, path = '/', localAddress?: string): Promise<Answer> {
  const headers: Record<string, string> = { host };
  if (credentials !== undefined) headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 10_000, ...(localAddress === undefined ? {} : { localAddress }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** A bcrypt hash of `password` from the Caddy under test (cost 4 where it takes --bcrypt-cost: 2.6.2 does not). */
function hashPassword(password: string): string {
  const cheap = spawnSync(CADDY, ['hash-password', '--algorithm', 'bcrypt', '--bcrypt-cost', '4', '--plaintext', password], { encoding: 'utf8' });
  const run = cheap.status === 0 ? cheap : spawnSync(CADDY, ['hash-password', '--plaintext', password], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`caddy hash-password failed: ${run.stderr}`);
  const hash = run.stdout.trim();
  // Caddy before 2.8 may print the hash base64-encoded: the manifest takes it as bcrypt prints it.
  return hash.startsWith('$') ? hash : Buffer.from(hash, 'base64').toString('utf8');
}

describe('basic_auth through the Caddy under test', () => {
  let dir: string;
  let dataDir: string;
  let http: number;
  let ingressd: IngressdProcess;
  let backend: Backend;
  const hashes = { alice: '', carol: '', carolNew: '' };

  beforeAll(async () => {
    const [admin, dns, api, backendPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    http = await freePort();
    dir = await tempDir('auth-manifests');
    dataDir = await tempDir('auth-data');
    hashes.alice = hashPassword('alice-s3cret');
    hashes.carol = hashPassword('carol-s3cret');
    hashes.carolNew = hashPassword('carol-new');
    backend = await startBackend('app', '127.0.0.2', backendPort);
    const target = { instance: 'app', port: backendPort };
    await writeJson(join(dir, 'app.instance.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'shop.json'), {
      rules: [
        { match: { hostname: 'shop.localhost', port: http }, target, basic_auth: { realm: 'shop', users: [{ username: 'alice', password_hash: hashes.alice }] } },
        { match: { hostname: 'open.localhost', port: http }, target },
      ],
    });
    await writeFile(join(dir, 'team.users'), `# the team\ncarol:${hashes.carol}\n`);
    await writeJson(join(dir, 'team.json'), { rules: [{ match: { hostname: 'team.localhost', port: http }, target, basic_auth: { users_file: 'team.users' } }] });
    await writeJson(join(dir, 'plain.json'), { rules: [{ match: { hostname: 'plain.localhost', port: http }, target, basic_auth: { users: [{ username: 'dave', password: 'dave-s3cret' }] } }] });
    ingressd = startIngressd({ dir, dataDir, ports: { admin, dns, api }, env: { CADDY_BINARY: CADDY, RESYNC_INTERVAL: '30s' } });
    await waitReady(ingressd);
    await waitFor('team.localhost served', async () => ((await getAs(http, 'team.localhost', 'carol:carol-s3cret').catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
  }, 90_000);

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('inline users: 401 with WWW-Authenticate without credentials and with a wrong password, 200 with the right one', async () => {
    const none = await getAs(http, 'shop.localhost');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="shop"');
    const wrong = await getAs(http, 'shop.localhost', 'alice:guess');
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="shop"');
    expect((await getAs(http, 'shop.localhost', 'mallory:alice-s3cret')).status).toBe(401);
    expect(await getAs(http, 'shop.localhost', 'alice:alice-s3cret')).toMatchObject({ status: 200, body: 'app' });
    // The ingress's other rule has no policy.
    expect(await getAs(http, 'open.localhost')).toMatchObject({ status: 200, body: 'app' });
    const status = await readStatus(dir, 'shop');
    const routes = (status?.routes ?? []) as { hostname: string; policies?: unknown }[];
    expect(routes.find((r) => r.hostname === 'shop.localhost')?.policies).toEqual([{ policy: 'basic_auth', effect: 'requests without the username and password of one of 1 user (realm "shop") get 401' }]);
  });

  test('a users file: the realm defaults to restricted; an edited file is served without a restart', async () => {
    const none = await getAs(http, 'team.localhost');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="restricted"');
    expect((await getAs(http, 'team.localhost', 'carol:carol-s3cret')).status).toBe(200);
    await writeFile(join(dir, 'team.users'), `carol:${hashes.carolNew}\n`);
    await waitFor('the new password', async () => ((await getAs(http, 'team.localhost', 'carol:carol-new')).status === 200 ? true : undefined), 15_000);
    expect((await getAs(http, 'team.localhost', 'carol:carol-s3cret')).status).toBe(401);
  });

  test('a plaintext password is refused with its pointer; no hash in the log or in render without --show-secrets', async () => {
    const plain = await waitFor('plain status', async () => readStatus(dir, 'plain'), 10_000);
    expect(condition(plain, 'Accepted')?.status).toBe('False');
    expect(plain.errors.map((e) => e.path)).toEqual(['/rules/0/basic_auth/users/0/password']);
    expect(plain.errors[0]?.message).toContain('caddy hash-password');
    expect(JSON.stringify(plain)).not.toContain('dave-s3cret');
    const encoded = Buffer.from(hashes.alice).toString('base64');
    expect(ingressd.output()).not.toContain(hashes.alice);
    expect(ingressd.output()).not.toContain(encoded);
    const env = { DATA_DIR: dataDir, CADDY_BINARY: CADDY };
    const redacted = await runCliAsync(['render', '--dir', dir], env);
    expect(redacted.code).toBe(0);
    expect(redacted.stdout).toContain('"authentication"');
    expect(redacted.stdout).not.toContain(encoded);
    // Redacted as base64 of <redacted>: the config still loads, and no password matches it.
    expect(redacted.stdout).toContain(Buffer.from('<redacted>').toString('base64'));
    expect((await runCliAsync(['render', '--dir', dir, '--show-secrets'], env)).stdout).toContain(encoded);
  });

  test('a users file deleted: Accepted=False with its pointer, the last valid version keeps serving', async () => {
    await rm(join(dir, 'team.users'));
    const status = await waitFor('team refused', async () => {
      const s = await readStatus(dir, 'team');
      return condition(s, 'Accepted')?.status === 'False' ? s : undefined;
    }, 15_000);
    expect(status.errors.map((e) => e.path)).toEqual(['/rules/0/basic_auth/users_file']);
    expect(status.errors[0]?.message).toContain('does not exist');
    expect(condition(status, 'Programmed')?.reason).toBe('LastValidVersion');
    expect((await getAs(http, 'team.localhost', 'carol:carol-new')).status).toBe(200);
  });
});

describe('error_pages and ERROR_PAGES_DIR through the Caddy under test', () => {
  let dir: string;
  let pagesDir: string;
  let dataDir: string;
  let http: number;
  let ingressd: IngressdProcess;
  let backend: Backend;

  beforeAll(async () => {
    const [admin, dns, api, backendPort, downPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    http = await freePort();
    dir = await tempDir('pages-manifests');
    pagesDir = await tempDir('pages-global');
    dataDir = await tempDir('pages-data');
    backend = await startBackend('app', '127.0.0.2', backendPort);
    const up = { instance: 'app', port: backendPort };
    // Nothing listens there: Caddy's proxy cannot dial it (502).
    const down = { instance: 'app', port: downPort };
    await writeJson(join(dir, 'app.instance.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await mkdir(join(dir, 'pages'));
    await writeFile(join(dir, 'pages', '502.html'), '<h1>shop is down</h1>\n');
    await writeJson(join(dir, 'shop.json'), {
      rules: [
        { match: { hostname: 'shop.localhost', port: http }, target: down, error_pages: { '502': { file: 'pages/502.html' }, '5xx': { body: 'shop {http.error.status_code}', content_type: 'text/plain; charset=utf-8' } } },
        { match: { hostname: 'gone.localhost', port: http }, target: { instance: 'nowhere', port: backendPort }, error_pages: { '5xx': { body: 'gone {http.error.status_code}', content_type: 'text/plain; charset=utf-8' } } },
        { match: { hostname: 'guarded.localhost', port: http }, target: up, deny_ips: ['127.0.0.3'], basic_auth: { realm: 'guarded', users: [{ username: 'u', password_hash: hashPassword('pw') }] }, error_pages: { '403': { body: 'go away' }, '4xx': { body: 'log in first' } } },
        { match: { hostname: 'plain.localhost', port: http }, target: down },
        { match: { hostname: 'upload.localhost', port: http }, target: up, max_request_body: '1KB', error_pages: { '413': { body: 'too big' } } },
      ],
    });
    await writeJson(join(dir, 'bad.json'), { rules: [{ match: { hostname: 'bad.localhost', port: http }, target: up, error_pages: { '4040': { body: 'x' } } }] });
    await writeFile(join(pagesDir, '404.html'), '<h1>no such site</h1>\n');
    await writeFile(join(pagesDir, '5xx.html'), '<h1>global 5xx</h1>\n');
    ingressd = startIngressd({ dir, dataDir, ports: { admin, dns, api }, env: { CADDY_BINARY: CADDY, RESYNC_INTERVAL: '1s', ERROR_PAGES_DIR: pagesDir } });
    await waitReady(ingressd);
    await waitFor('guarded.localhost served', async () => ((await getAs(http, 'guarded.localhost', 'u:pw').catch(() => undefined))?.status === 200 ? true : undefined), 20_000);
  }, 90_000);

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    await removeDir(dir);
    await removeDir(pagesDir);
    await removeDir(dataDir);
  });

  test('a rule\'s 502 page when its instance is down (status kept); a 5xx page for its 503; the file edited is served without a restart', async () => {
    const down = await getAs(http, 'shop.localhost');
    expect(down).toMatchObject({ status: 502, body: '<h1>shop is down</h1>\n' });
    expect(down.headers['content-type']).toBe('text/html; charset=utf-8');
    // An undeclared instance has no address: Caddy answers 503, the class page fills in the status.
    const gone = await getAs(http, 'gone.localhost');
    expect(gone).toMatchObject({ status: 503, body: 'gone 503' });
    expect(gone.headers['content-type']).toBe('text/plain; charset=utf-8');
    await writeFile(join(dir, 'pages', '502.html'), '<h1>back soon</h1>\n');
    await waitFor('the edited page', async () => ((await getAs(http, 'shop.localhost')).body === '<h1>back soon</h1>\n' ? true : undefined), 15_000);
    const status = await readStatus(dir, 'shop');
    const routes = (status?.routes ?? []) as { hostname: string; policies?: unknown }[];
    expect(routes.find((r) => r.hostname === 'shop.localhost')?.policies).toEqual([{ policy: 'error_pages', effect: 'errors 502, 5xx get the pages given (502 from pages/502.html)' }]);
  });

  test('a 403 page for a denied address, a 401 page that keeps WWW-Authenticate, 200 through', async () => {
    expect(await getAs(http, 'guarded.localhost', 'u:pw', '/', '127.0.0.3')).toMatchObject({ status: 403, body: 'go away' });
    const unauthorized = await getAs(http, 'guarded.localhost');
    expect(unauthorized).toMatchObject({ status: 401, body: 'log in first' });
    expect(unauthorized.headers['www-authenticate']).toBe('Basic realm="guarded"');
    expect(await getAs(http, 'guarded.localhost', 'u:pw')).toMatchObject({ status: 200, body: 'app' });
  });

  test('ERROR_PAGES_DIR: a rule without pages gets the global 5xx, an unmatched host the global 404; a changed page at the next resync', async () => {
    expect(await getAs(http, 'plain.localhost')).toMatchObject({ status: 502, body: '<h1>global 5xx</h1>\n' });
    const unmatched = await getAs(http, 'nothing.localhost');
    expect(unmatched).toMatchObject({ status: 404, body: '<h1>no such site</h1>\n' });
    expect(unmatched.headers['content-type']).toBe('text/html; charset=utf-8');
    await writeFile(join(pagesDir, '404.html'), '<h1>still no such site</h1>\n');
    await waitFor('the new global 404', async () => ((await getAs(http, 'nothing.localhost')).body === '<h1>still no such site</h1>\n' ? true : undefined), 15_000);
  });

  (isCaddyAtLeast(SINCE.requestBody413) ? test : test.skip)('a 413 page for a body above the limit (Caddy 2.7+; 2.6.2 cannot serve the limit)', async () => {
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: http, path: '/', method: 'POST', headers: { host: 'upload.localhost', 'content-length': 2000 }, agent: false, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(Buffer.alloc(2000, 0x61));
    });
    expect(answer).toMatchObject({ status: 413, body: 'too big' });
  });

  test('status files match the published schema', async () => {
    for (const stem of ['shop', 'bad']) expect(statusSchema(await readStatus(dir, stem))).toBe(true);
  });

  test('a status key "4040" is refused with its pointer', async () => {
    const bad = await waitFor('bad status', async () => readStatus(dir, 'bad'), 10_000);
    expect(condition(bad, 'Accepted')?.status).toBe('False');
    expect(bad.errors.map((e) => e.path)).toEqual(['/rules/0/error_pages/4040']);
  });
});
