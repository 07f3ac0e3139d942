/**
 * GitOps sources as they are really laid out, with real `ingressd run`, real Caddy, real backends
 * and the default RESYNC_INTERVAL (30 s), so anything served within 2 s was noticed from the
 * events the swap caused, not from a resync:
 * - a Kubernetes ConfigMap volume, updated with kubelet's AtomicWriter sequence;
 * - git-sync's layout (MANIFEST_DIR is its link to `.worktrees/<hash>`), swapped as git-sync does;
 * - a directory link swapped with coreutils' `ln -sfn`, a directory loop, dangling and looping
 *   manifest links.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
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

const instance = (name: string, address: string): string => JSON.stringify({ kind: 'Instance', name, address });
const ingressTo = (name: string, host: string, target: string, port: number, listen: number): string =>
  JSON.stringify({ name, rules: [{ match: { hostname: host, port: listen }, target: { instance: target, port } }] });

/** Writes files into a fresh directory (as kubelet and git write a payload: plain files). */
function writePayload(dir: string, files: Readonly<Record<string, string>>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/**
 * kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go), step by step: a new `..<timestamp>`
 * directory with the payload, a `..data_tmp` link to it renamed over `..data`, visible links for
 * new keys, visible links of removed keys removed, the old timestamped directory removed.
 * Resolves with the time of the rename (when the new payload became visible).
 */
function kubeletUpdate(volume: string, payload: Readonly<Record<string, string>>): number {
  const oldTs = readdirSync(volume).find((n) => n.startsWith('..') && n !== '..data' && n !== '..data_tmp');
  const ts = mkdtempSync(join(volume, `..${new Date().toISOString().replace(/[-:T]/g, '_').slice(0, 19)}.`));
  writePayload(ts, payload);
  symlinkSync(ts.slice(volume.length + 1), join(volume, '..data_tmp'));
  renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
  const swappedAt = Date.now();
  const visible = readdirSync(volume).filter((n) => !n.startsWith('.') && !n.endsWith('.status.json'));
  for (const key of Object.keys(payload)) if (!visible.includes(key)) symlinkSync(join('..data', key), join(volume, key));
  for (const name of visible) if (!(name in payload)) unlinkSync(join(volume, name));
  if (oldTs !== undefined) rmSync(join(volume, oldTs), { recursive: true, force: true });
  return swappedAt;
}

/** git-sync v4's publish: worktree at `.worktrees/<hash>`, `tmp-link` to it renamed over the link, the old worktree removed. */
function gitSyncPublish(root: string, link: string, hash: string, payload: Readonly<Record<string, string>>): number {
  const worktrees = join(root, '.worktrees');
  const old = existsSync(join(worktrees)) ? readdirSync(worktrees) : [];
  writePayload(join(worktrees, hash), payload);
  symlinkSync(join('.worktrees', hash), join(root, 'tmp-link'));
  renameSync(join(root, 'tmp-link'), join(root, link));
  const swappedAt = Date.now();
  for (const w of old) if (w !== hash) rmSync(join(worktrees, w), { recursive: true, force: true });
  return swappedAt;
}

async function answeredBy(port: number, host: string, body: string): Promise<number> {
  await waitFor(`${host} answered by ${body}`, async () => (await get(port, host)).body === body || undefined, 5000, 20);
  return Date.now();
}

function countLines(output: string, needle: string): number {
  return output.split('\n').filter((line) => line.includes(needle)).length;
}

interface Setup {
  readonly http: number;
  readonly backendPort: number;
  readonly dataDir: string;
  readonly ingressd: IngressdProcess;
}

const backends: Backend[] = [];
let backendPort = 0;

beforeAll(async () => {
  backendPort = await freePort();
  backends.push(await startBackend('backend-a', '127.0.0.2', backendPort));
  backends.push(await startBackend('backend-b', '127.0.0.3', backendPort));
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

async function start(dir: string): Promise<Setup> {
  const dataDir = await tempDir('gitops-data');
  const [admin, dns, http] = [await freePort(), await freePort(), await freePort()];
  const ingressd = startIngressd({ dir, dataDir, ports: { admin, dns } });
  await waitReady(ingressd);
  return { http, backendPort, dataDir, ingressd };
}

async function stop(setup: Setup | undefined): Promise<void> {
  if (setup === undefined) return;
  await setup.ingressd.stop();
  await killDaemons(setup.dataDir);
  await removeDir(setup.dataDir);
}

describe('a Kubernetes ConfigMap volume (kubelet layout)', () => {
  let volume: string;
  let s: Setup | undefined;
  let http = 0;
  const payload = (webTarget: string, extra: boolean): Record<string, string> => ({
    'app-a.json': instance('app-a', '127.0.0.2'),
    'app-b.json': instance('app-b', '127.0.0.3'),
    'web.json': ingressTo('web', 'web.test', webTarget, backendPort, http),
    ...(extra ? { 'extra.json': ingressTo('extra', 'extra.test', 'app-a', backendPort, http) } : {}),
  });

  beforeAll(async () => {
    volume = await tempDir('configmap');
    http = await freePort();
    // The first mount is the same writer's first run: no `..data` yet.
    kubeletUpdate(volume, payload('app-a', false));
    s = await start(volume);
    await answeredBy(http, 'web.test', 'backend-a');
  });
  afterAll(async () => {
    await stop(s);
    await removeDir(volume);
  });

  test('an update (..data_tmp renamed over ..data) is served within 2 s, a new key too', async () => {
    const swappedAt = kubeletUpdate(volume, payload('app-b', true));
    const servedAt = await answeredBy(http, 'web.test', 'backend-b');
    expect((await answeredBy(http, 'extra.test', 'backend-a')) - swappedAt).toBeLessThan(2000);
    expect(servedAt - swappedAt).toBeLessThan(2000);
    const web = await waitFor('web Ready', async () => {
      const st = await readStatus(volume, 'web');
      return condition(st, 'Ready')?.status === 'True' && JSON.stringify(st?.routes).includes('app-b') ? st : undefined;
    });
    expect(web.errors).toEqual([]);
  });

  test('a removed key stops being served and loses its status; dot-directories never get status files', async () => {
    const swappedAt = kubeletUpdate(volume, payload('app-b', false));
    await waitFor('extra.test gone', async () => (await get(http, 'extra.test')).status === 404 || undefined, 5000, 20);
    expect(Date.now() - swappedAt).toBeLessThan(2000);
    await waitFor('extra status removed', () => !existsSync(join(volume, 'extra.status.json')) || undefined);
    for (const name of readdirSync(volume).filter((n) => n.startsWith('..'))) {
      const inside = readdirSync(join(volume, name));
      expect(inside.filter((n) => n.endsWith('.status.json'))).toEqual([]);
    }
    expect(readdirSync(volume).filter((n) => n.endsWith('.status.json')).sort()).toEqual(['app-a.status.json', 'app-b.status.json', 'web.status.json']);
  });
});

describe("git-sync's layout (MANIFEST_DIR is the worktree link)", () => {
  let root: string;
  let s: Setup | undefined;
  let http = 0;
  const payload = (webTarget: string): Record<string, string> => ({
    'app-a.json': instance('app-a', '127.0.0.2'),
    'app-b.json': instance('app-b', '127.0.0.3'),
    'web.json': ingressTo('web', 'web.test', webTarget, backendPort, http),
  });

  beforeAll(async () => {
    root = await tempDir('git-sync');
    http = await freePort();
    gitSyncPublish(root, 'repo', '1111111111111111111111111111111111111111', payload('app-a'));
    s = await start(join(root, 'repo'));
    await answeredBy(http, 'web.test', 'backend-a');
  });
  afterAll(async () => {
    await stop(s);
    await removeDir(root);
  });

  test('a new commit (tmp-link renamed over the link, old worktree removed) is served within 2 s, statuses follow into the new worktree', async () => {
    await waitFor('app-a status', () => existsSync(join(root, 'repo', 'app-a.status.json')) || undefined);
    const swappedAt = gitSyncPublish(root, 'repo', '2222222222222222222222222222222222222222', payload('app-b'));
    const servedAt = await answeredBy(http, 'web.test', 'backend-b');
    expect(servedAt - swappedAt).toBeLessThan(2000);
    // app-a.json did not change, but its status file stayed behind in the removed worktree.
    const appA = await waitFor('app-a status in the new worktree', async () => {
      const st = await readStatus(join(root, 'repo'), 'app-a');
      return condition(st, 'Ready')?.status === 'True' ? st : undefined;
    }, 3000);
    expect(appA.errors).toEqual([]);
    expect(readdirSync(join(root, '.worktrees'))).toEqual(['2222222222222222222222222222222222222222']);
  });

  test('a second swap is served within 2 s too (the watch follows the new worktree)', async () => {
    const swappedAt = gitSyncPublish(root, 'repo', '3333333333333333333333333333333333333333', payload('app-a'));
    expect((await answeredBy(http, 'web.test', 'backend-a')) - swappedAt).toBeLessThan(2000);
  });
});

describe('hand-made links: ln -sfn, a loop, dangling and looping manifest links', () => {
  let base: string;
  let dir: string;
  let s: Setup | undefined;
  let http = 0;

  beforeAll(async () => {
    base = await tempDir('links');
    dir = join(base, 'watched');
    http = await freePort();
    writePayload(dir, { 'app-a.json': instance('app-a', '127.0.0.2'), 'app-b.json': instance('app-b', '127.0.0.3') });
    writePayload(join(base, 'team-v1'), { 'api.json': ingressTo('api', 'api.test', 'app-a', backendPort, http) });
    writePayload(join(base, 'team-v2'), { 'api.json': ingressTo('api', 'api.test', 'app-b', backendPort, http) });
    symlinkSync(join(base, 'team-v1'), join(dir, 'team'));
    s = await start(dir);
  });
  afterAll(async () => {
    await stop(s);
    await removeDir(base);
  });

  test('manifests in a linked directory are served', async () => {
    await answeredBy(http, 'api.test', 'backend-a');
  });

  test('`ln -sfn` to another directory is served within 2 s', async () => {
    const started = Date.now();
    execFileSync('ln', ['-sfn', join(base, 'team-v2'), join(dir, 'team')]);
    expect((await answeredBy(http, 'api.test', 'backend-b')) - started).toBeLessThan(2000);
  });

  test('a directory loop is logged once and never entered; ingressd keeps serving new files at once', async () => {
    mkdirSync(join(dir, 'sub'));
    symlinkSync('..', join(dir, 'sub', 'up'));
    writeFileSync(join(dir, 'sub', 'loop.json'), ingressTo('loop', 'loop.test', 'app-a', backendPort, http));
    await answeredBy(http, 'loop.test', 'backend-a');
    // More rescans (a directory added triggers one): the loop is not logged again.
    mkdirSync(join(dir, 'another'));
    writeFileSync(join(dir, 'another', 'later.json'), ingressTo('later', 'later.test', 'app-b', backendPort, http));
    await answeredBy(http, 'later.test', 'backend-b');
    const output = s?.ingressd.output() ?? '';
    expect(countLines(output, 'sub/up is a symbolic link to a directory that contains it')).toBe(1);
    expect(existsSync(join(dir, 'sub', 'loop.status.json'))).toBe(true);
  });

  test('dangling and looping manifest links get an Unreadable status and one log line each, and no retry loop', async () => {
    for (const f of ['gone.json', 'l1.json', 'l2.json', 'gone.status.json']) rmSync(join(dir, f), { force: true }); // a retry starts clean
    rmSync(join(base, 'missing.json'), { force: true });
    symlinkSync(join(base, 'missing.json'), join(dir, 'gone.json'));
    symlinkSync('l2.json', join(dir, 'l1.json'));
    symlinkSync('l1.json', join(dir, 'l2.json'));
    const gone = await waitFor('gone status', async () => readStatus(dir, 'gone'));
    expect(condition(gone, 'Accepted')).toMatchObject({ status: 'False', reason: 'Unreadable' });
    expect(gone.errors).toEqual([{ code: 'unreadable_file', path: '', message: expect.stringContaining(`${join(base, 'missing.json')}, which does not exist`) }]);
    const loop = await waitFor('l1 status', async () => readStatus(dir, 'l1'));
    expect(condition(loop, 'Ready')).toMatchObject({ status: 'False', reason: 'Unreadable' });
    expect(loop.errors[0]?.message).toContain('loop');
    // A few more rescans: still one line per broken path.
    mkdirSync(join(dir, 'third'));
    await waitFor('rescan after the new directory', () => countLines(s?.ingressd.output() ?? '', 'directory added: third') > 0 || undefined);
    const output = s?.ingressd.output() ?? '';
    expect(countLines(output, 'gone.json is a symbolic link to')).toBe(1);
    expect(countLines(output, 'l1.json is a symbolic link that leads back to itself')).toBe(1);
    expect(countLines(output, 'retrying with backoff')).toBe(0);
    // Repaired: the target appears, the link is read and served on the next event for it.
    writeFileSync(join(base, 'missing.json'), ingressTo('gone', 'gone.test', 'app-a', backendPort, http));
    unlinkSync(join(dir, 'gone.json'));
    symlinkSync(join(base, 'missing.json'), join(dir, 'gone.json'));
    await answeredBy(http, 'gone.test', 'backend-a');
    // The status pass follows the Caddy write.
    await waitFor('gone Ready', async () => condition(await readStatus(dir, 'gone'), 'Ready')?.status === 'True' || undefined);
    expect((await readStatus(dir, 'gone'))?.errors).toEqual([]);
  });
});
