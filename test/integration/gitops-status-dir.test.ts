/**
 * A read-only manifest tree, as a ConfigMap volume or a share is mounted: a real read-only bind
 * mount (writes fail with EROFS, for root too), served by a real `ingressd run` and Caddy.
 * - With STATUS_DIR, every status goes there, mirroring the tree, and `get`, the API and
 *   `/metrics` read it from there.
 * - Without, routes are served, one warning names STATUS_DIR, `/metrics` and `/readyz` say so, and
 *   status writes are not retried, even as the tree keeps changing.
 * - DATA_DIR inside the tree is refused (allowed inside a dot-directory).
 * Where bind mounts are not permitted, the tree is made immutable (`chattr +i`: EPERM for root)
 * instead; where neither is, the read-only cases are skipped with a message.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  runCliAsync,
  condition,
  freePort,
  get,
  killDaemons,
  readStatus,
  removeDir,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  type Backend,
  type IngressdProcess,
} from '../helpers/processes.js';

const ingressTo = (name: string, host: string, port: number, listen: number): string =>
  JSON.stringify({ name, rules: [{ match: { hostname: host, port: listen }, target: { instance: 'app', port } }] });

function apiGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return apiCall(port, 'GET', path);
}

function apiCall(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}


/**
 * Makes `target` a read-only view of `source`: a read-only bind mount (EROFS, for root too), else,
 * where mounts are not permitted, `source` itself made immutable with `chattr +i` (EPERM for root),
 * else undefined (the read-only cases are then skipped, saying so).
 */
function makeReadOnly(source: string, target: string): 'mount' | 'immutable' | undefined {
  try {
    execFileSync('mount', ['--bind', source, target], { stdio: 'pipe' });
    execFileSync('mount', ['-o', 'remount,ro,bind', target], { stdio: 'pipe' });
    return 'mount';
  } catch (err) {
    process.stderr.write(`read-only bind mount not permitted here (${String(err)}); trying chattr +i\n`);
  }
  try {
    execFileSync('chattr', ['-R', '+i', source], { stdio: 'pipe' });
    return 'immutable';
  } catch (err) {
    process.stderr.write(`chattr +i not permitted here either (${String(err)}); the read-only cases are skipped\n`);
    return undefined;
  }
}

/** Adds a file to the read-only tree from outside ingressd (through the writable source, or by lifting +i for a moment). */
function addToTree(mode: 'mount' | 'immutable', source: string, name: string, text: string): void {
  if (mode === 'immutable') execFileSync('chattr', ['-i', source]);
  writeFileSync(join(source, name), text);
  if (mode === 'immutable') execFileSync('chattr', ['+i', source, join(source, name)]);
}

describe('a read-only manifest tree', () => {
  let base: string;
  let source: string;
  let tree: string;
  let mode: 'mount' | 'immutable' | undefined;
  let backend: Backend;
  let backendPort = 0;
  let http = 0;
  const running: { ingressd: IngressdProcess; dataDir: string }[] = [];

  beforeAll(async () => {
    base = await tempDir('readonly');
    source = join(base, 'source');
    tree = join(base, 'tree');
    mkdirSync(join(source, 'sub'), { recursive: true });
    mkdirSync(tree);
    backendPort = await freePort();
    http = await freePort();
    backend = await startBackend('backend-a', '127.0.0.2', backendPort);
    writeFileSync(join(source, 'app.json'), JSON.stringify({ kind: 'Instance', name: 'app', address: '127.0.0.2' }));
    writeFileSync(join(source, 'web.json'), ingressTo('web', 'web.test', backendPort, http));
    writeFileSync(join(source, 'sub', 'api.json'), ingressTo('api', 'api.test', backendPort, http));
    mode = makeReadOnly(source, tree);
    // Without a mount, ingressd watches the immutable source itself.
    if (mode === 'immutable') tree = source;
  });

  afterAll(async () => {
    for (const r of running) {
      await r.ingressd.stop();
      await killDaemons(r.dataDir);
      await removeDir(r.dataDir);
    }
    await backend?.close();
    if (mode === 'mount') execFileSync('umount', [tree]);
    if (mode === 'immutable') execFileSync('chattr', ['-R', '-i', source]);
    await removeDir(base);
  });

  async function start(env: Readonly<Record<string, string>>): Promise<{ ingressd: IngressdProcess; api: number; dataDir: string }> {
    const dataDir = await tempDir('readonly-data');
    const [admin, dns, api] = [await freePort(), await freePort(), await freePort()];
    const ingressd = startIngressd({ dir: tree, dataDir, ports: { admin, dns, api }, env: { NODE_NAME: 'ro-node', ...env } });
    running.push({ ingressd, dataDir });
    await waitReady(ingressd);
    return { ingressd, api, dataDir };
  }

  test('the tree refuses writes for root too (EROFS on the mount, EPERM when immutable)', () => {
    if (mode === undefined) return;
    expect(() => writeFileSync(join(tree, 'probe'), 'x')).toThrow(mode === 'mount' ? /EROFS/ : /EPERM/);
  });

  test('with STATUS_DIR: every status there, mirroring the tree, Ready=True; get, the API and /metrics agree', async () => {
    if (mode === undefined) return;
    const statusDir = join(base, 'status');
    const { ingressd, api, dataDir } = await start({ STATUS_DIR: statusDir });
    await waitFor('web.test served', async () => (await get(http, 'web.test')).body === 'backend-a' || undefined);
    for (const [dir, stem] of [[statusDir, 'web'], [statusDir, 'app'], [join(statusDir, 'sub'), 'api']] as const) {
      await waitFor(`${stem} Ready in STATUS_DIR`, async () => condition(await readStatus(dir, stem), 'Ready')?.status === 'True' || undefined);
    }
    expect(readdirSync(tree).filter((n) => n.endsWith('.status.json'))).toEqual([]);
    const got = await runCliAsync(['get', 'ingresses', '--dir', tree, '-o', 'json'], { STATUS_DIR: statusDir });
    expect(got.code).toBe(0);
    const listed = JSON.parse(got.stdout) as { name: string; conditions: { type: string; status: string }[] }[];
    expect(listed.map((s) => [s.name, s.conditions.find((c) => c.type === 'Ready')?.status])).toEqual([['api', 'True'], ['web', 'True']]);
    const fromApi = JSON.parse((await apiGet(api, '/ingresses/web')).body) as { status: { conditions: { type: string; status: string }[] } };
    expect(fromApi.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect((await apiGet(api, '/metrics')).body).toMatch(/^ingressd_status_files_writable 1$/m);
    expect(JSON.parse((await apiGet(api, '/readyz')).body)).toEqual({ ready: true, node: 'ro-node' });
    expect(readFileSync(join(statusDir, 'web.status.json'), 'utf8')).toContain('"node": "ro-node"');
    expect(ingressd.output()).not.toContain('status files cannot be written');
    // The API reads on, but a write answers where the desired state must change instead.
    const create = await apiCall(api, 'POST', '/ingresses', { name: 'new', rules: [{ match: { hostname: 'new.test', port: http }, target: { instance: 'app', port: backendPort } }] });
    expect(create.status).toBe(409);
    expect(JSON.parse(create.body)).toEqual({ code: 'read_only_source', message: expect.stringMatching(/^POST \/ingresses cannot write the manifest: .* is read-only for ingressd \((EROFS|EPERM)\)\. Change the desired state where it comes from/) });
    expect((await apiCall(api, 'DELETE', '/ingresses/web')).status).toBe(409);
    expect((await get(http, 'web.test')).body).toBe('backend-a');
    // The next case serves the same tree (same listen port) from a Caddy of its own.
    await ingressd.stop();
    await killDaemons(dataDir);
  });

  test('without STATUS_DIR: served, one warning naming STATUS_DIR, /metrics and /readyz say so, no retries as the tree changes', async () => {
    if (mode === undefined) return;
    const { ingressd, api } = await start({});
    await waitFor('web.test served', async () => (await get(http, 'web.test')).body === 'backend-a' || undefined);
    await waitFor('the warning', () => ingressd.output().includes('status files cannot be written') || undefined);
    expect((await apiGet(api, '/metrics')).body).toMatch(/^ingressd_status_files_writable 0$/m);
    const ready = JSON.parse((await apiGet(api, '/readyz')).body) as { ready: boolean; warnings: string[] };
    expect(ready.ready).toBe(true);
    expect(ready.warnings).toEqual([expect.stringContaining('set STATUS_DIR (--status-dir)')]);
    // The tree changes underneath (through the writable source): served, and still one warning.
    addToTree(mode, source, 'more.json', ingressTo('more', 'more.test', backendPort, http));
    await waitFor('more.test served', async () => (await get(http, 'more.test')).body === 'backend-a' || undefined);
    await waitFor('the status pass after it', () => (ingressd.output().match(/status files updated/g) ?? []).length >= 2 || undefined);
    const output = ingressd.output();
    expect(output.split('\n').filter((l) => l.includes('status files cannot be written'))).toHaveLength(1);
    expect(output).not.toMatch(/EROFS.*retry|retry.*EROFS/);
    expect(existsSync(join(source, 'more.status.json'))).toBe(false);
  });
});

describe('DATA_DIR inside the manifest tree', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('data-inside');
  });
  afterAll(async () => removeDir(dir));

  test('is refused at start with a message saying why and what to do', async () => {
    const result = await runCliAsync(['run', '--dir', dir], { DATA_DIR: join(dir, 'state'), API_LISTEN: 'off' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`DATA_DIR ${join(dir, 'state')} is inside MANIFEST_DIR ${dir}`);
    expect(result.stderr).toContain(join(dir, '.ingressd'));
  });

  test('inside a dot-directory it is accepted: its files are never read as manifests', async () => {
    const result = await runCliAsync(['validate', dir], { MANIFEST_DIR: dir, DATA_DIR: join(dir, '.ingressd') });
    expect(result.stderr).not.toContain('is inside MANIFEST_DIR');
  });
});
