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
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { CADDY } from '../helpers/caddy-under-test.js';
import { condition, freePort, killDaemons, readStatus, removeDir, runCliAsync, startBackend, startIngressd, tempDir, waitFor, waitReady, writeJson, type Backend, type IngressdProcess } from '../helpers/processes.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** GET `path` on `host` through Caddy, with basic credentials when given. */
function getAs(port: number, host: string, credentials?: string, path = '/'): Promise<Answer> {
  const headers: Record<string, string> = { host };
  if (credentials !== undefined) headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 10_000 }, (res) => {
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
    expect(redacted.stdout).toContain('<redacted>');
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
