/**
 * Whole trees replaced at once, as GitOps tools do it, against a real `ingressd run` and Caddy:
 * `rsync -a --delete` of a tree into the watched directory, and `git checkout` between two branches
 * of 200 manifests. Each must land in at most 2 Caddy writes (counted from Caddy's own log) with
 * every host answering within 2 s of the tool returning. Status files go to STATUS_DIR, as the
 * README advises for trees a tool owns (rsync --delete would remove status files beside them, and
 * they would show in `git status`).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  caddyWrites,
  freePort,
  get,
  killDaemons,
  removeDir,
  sleep,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  type Backend,
  type IngressdProcess,
} from '../helpers/processes.js';

const N = 200;
/** The figures, for the CI log (they are what the targets are measured on). */
const report = (line: string): void => void process.stderr.write(`gitops-bulk: ${line}\n`);

describe('whole trees replaced by rsync and git', () => {
  let base: string;
  let dataDir: string;
  let ingressd: IngressdProcess | undefined;
  const backends: Backend[] = [];
  let backendPort = 0;
  let http = 0;

  const manifest = (host: string, instance: string): string =>
    JSON.stringify({ name: host.replace(/\./g, '-'), rules: [{ match: { hostname: host, port: http }, target: { instance, port: backendPort } }] }, null, 2);
  /** Writes a tree: two instances and `count` ingresses `<prefix><i>.test` → instance. */
  function writeTree(dir: string, prefix: string, count: number, instance: string): void {
    mkdirSync(join(dir, 'sites'), { recursive: true });
    writeFileSync(join(dir, 'app-a.json'), JSON.stringify({ kind: 'Instance', name: 'app-a', address: '127.0.0.2' }));
    writeFileSync(join(dir, 'app-b.json'), JSON.stringify({ kind: 'Instance', name: 'app-b', address: '127.0.0.3' }));
    for (let i = 0; i < count; i++) writeFileSync(join(dir, 'sites', `${prefix}${i}.json`), manifest(`${prefix}${i}.test`, instance));
  }
  /**
   * Resolves with when the last of `hosts` passed `done`, polled in rounds that ask every host still
   * waiting at once: asked one after another, a round of 200 requests on a busy machine took most of
   * a second, and the figure measured the polling rather than ingressd.
   */
  async function allPass(what: string, hosts: readonly string[], done: (answer: { status: number; body: string }) => boolean, timeoutMs = 5000): Promise<number> {
    const waiting = new Set(hosts);
    await waitFor(what, async () => {
      const round = [...waiting];
      const answers = await Promise.all(round.map((host) => get(http, host)));
      round.forEach((host, i) => done(answers[i]!) && waiting.delete(host));
      return waiting.size === 0 || undefined;
    }, timeoutMs, 10);
    return Date.now();
  }
  const allAnswer = (hosts: readonly string[], body: string): Promise<number> => allPass(`${hosts.length} hosts answered by ${body}`, hosts, (a) => a.body === body);
  const allGone = (hosts: readonly string[]): Promise<number> => allPass(`${hosts.length} hosts gone`, hosts, (a) => a.status === 404);
  /** A fresh directory at `path` (a retried test finds the first attempt's). */
  const freshDir = (path: string): void => {
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path);
  };
  /** Caddy writes made while `run` and the reconcile after it ran (waits for the quiet after). */
  async function writesDuring(run: () => Promise<void>): Promise<number> {
    const before = await caddyWrites(dataDir);
    await run();
    await sleep(1500);
    return (await caddyWrites(dataDir)) - before;
  }
  const hosts = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}.test`);

  beforeAll(async () => {
    base = await tempDir('bulk');
    dataDir = await tempDir('bulk-data');
    backendPort = await freePort();
    http = await freePort();
    backends.push(await startBackend('backend-a', '127.0.0.2', backendPort));
    backends.push(await startBackend('backend-b', '127.0.0.3', backendPort));
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await Promise.all(backends.map((b) => b.close()));
    await removeDir(base);
    await removeDir(dataDir);
  });

  async function start(dir: string, statusDir: string): Promise<void> {
    await ingressd?.stop();
    await killDaemons(dataDir);
    ingressd = startIngressd({ dir, dataDir, ports: { admin: await freePort(), dns: await freePort() }, env: { STATUS_DIR: statusDir } });
    await waitReady(ingressd);
  }

  test('rsync -a --delete of 200 manifests, then of a tree replacing half of them: ≤ 2 writes each, all hosts within 2 s', async () => {
    const watched = join(base, 'rsync-target');
    freshDir(watched);
    await start(watched, join(base, 'rsync-status'));
    writeTree(join(base, 'v1'), 'r', N, 'app-a');
    let returnedAt = 0;
    const first = await writesDuring(async () => {
      execFileSync('rsync', ['-a', '--delete', `${join(base, 'v1')}/`, `${watched}/`]);
      returnedAt = Date.now();
      const ms = (await allAnswer(hosts('r', N), 'backend-a')) - returnedAt;
      report(`rsync of ${N} new manifests: every host answering ${ms} ms after rsync returned`);
      expect(ms).toBeLessThan(2000);
    });
    report(`rsync of ${N} new manifests: ${first} Caddy write(s)`);
    expect(first).toBeLessThanOrEqual(2);
    // v2: the first half moved to app-b, the second half gone, 100 new hosts.
    writeTree(join(base, 'v2'), 'r', N / 2, 'app-b');
    writeTree(join(base, 'v2'), 's', N / 2, 'app-a');
    const second = await writesDuring(async () => {
      execFileSync('rsync', ['-a', '--delete', `${join(base, 'v2')}/`, `${watched}/`]);
      returnedAt = Date.now();
      const moved = await allAnswer(hosts('r', N / 2), 'backend-b');
      const added = await allAnswer(hosts('s', N / 2), 'backend-a');
      const gone = await allGone(hosts('r', N).slice(N / 2));
      report(`rsync replacing half of ${N}: every host as expected ${Math.max(moved, added, gone) - returnedAt} ms after rsync returned`);
      expect(Math.max(moved, added, gone) - returnedAt).toBeLessThan(2000);
    });
    report(`rsync replacing half of ${N}: ${second} Caddy write(s)`);
    expect(second).toBeLessThanOrEqual(2);
  }, 60_000);

  test('git checkout between two branches of 200 manifests: ≤ 2 writes, all hosts within 2 s', async () => {
    const repo = join(base, 'repo');
    const git = (...args: string[]): void => void execFileSync('git', ['-C', repo, ...args], { stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    freshDir(repo);
    git('init', '-q', '-b', 'one');
    writeTree(repo, 'g', N, 'app-a');
    git('add', '-A');
    git('commit', '-qm', 'one');
    git('checkout', '-q', '-b', 'two');
    execFileSync('rm', ['-r', join(repo, 'sites')]);
    writeTree(repo, 'g', N, 'app-b');
    git('add', '-A');
    git('commit', '-qm', 'two');
    git('checkout', '-q', 'one');
    await start(repo, join(base, 'git-status'));
    await allAnswer(hosts('g', N), 'backend-a');
    let returnedAt = 0;
    const writes = await writesDuring(async () => {
      git('checkout', '-q', 'two');
      returnedAt = Date.now();
      const ms = (await allAnswer(hosts('g', N), 'backend-b')) - returnedAt;
      report(`git checkout of ${N} changed manifests: every host answering ${ms} ms after git returned`);
      expect(ms).toBeLessThan(2000);
    });
    report(`git checkout of ${N} changed manifests: ${writes} Caddy write(s)`);
    expect(writes).toBeLessThanOrEqual(2);
    // The worktree stays clean: nothing of ingressd's is in it.
    expect(execFileSync('git', ['-C', repo, 'status', '--porcelain']).toString()).toBe('');
  }, 60_000);
});
