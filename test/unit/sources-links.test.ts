/**
 * Symbolic links in the watched tree, as ConfigMap volumes, git-sync and hand-made links lay them
 * out: what the scan lists (and stamps) and what the reader makes of paths it cannot read.
 * Real files in a temporary directory; nothing is timed.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unreadableManifest } from '../../src/manifest/unreadable.js';
import { createManifestReader } from '../../src/sources/manifest-reader.js';
import { BROKEN_STAMP, sameStamp, scanManifests, type ScanProblem } from '../../src/sources/scan.js';
import type { Logger } from '../../src/model/logger.js';

const ingress = (name: string): string => JSON.stringify({ name, rules: [{ match: { hostname: `${name}.test` }, target: { instance: 'app', port: 80 } }] });

function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const log = (msg: string, meta?: Record<string, unknown>): void => void lines.push(`${msg} ${JSON.stringify(meta ?? {})}`);
  return { lines, error: log, warn: log, info: log, debug: log } as Logger & { readonly lines: string[] };
}

describe('scan follows symbolic links', () => {
  let root: string;
  let dir: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ingressd-links-'));
    dir = join(root, 'watched');
    mkdirSync(dir);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("lists a ConfigMap volume's visible links and never its dot-entries", async () => {
    const cm = join(root, 'cm');
    mkdirSync(join(cm, '..2026_12_03_06_00_00.000000001'), { recursive: true });
    writeFileSync(join(cm, '..2026_12_03_06_00_00.000000001', 'web.json'), ingress('web'));
    symlinkSync('..2026_12_03_06_00_00.000000001', join(cm, '..data'));
    symlinkSync('..data/web.json', join(cm, 'web.json'));
    const before = await scanManifests(cm);
    expect([...before.keys()]).toEqual(['web.json']);

    // kubelet's update: a new timestamped directory, `..data_tmp` renamed over `..data`.
    mkdirSync(join(cm, '..2026_12_03_06_01_00.000000002'));
    writeFileSync(join(cm, '..2026_12_03_06_01_00.000000002', 'web.json'), ingress('web'));
    symlinkSync('..2026_12_03_06_01_00.000000002', join(cm, '..data_tmp'));
    renameSync(join(cm, '..data_tmp'), join(cm, '..data'));
    rmSync(join(cm, '..2026_12_03_06_00_00.000000001'), { recursive: true });
    const after = await scanManifests(cm);
    expect([...after.keys()]).toEqual(['web.json']);
    // Same bytes, same size, but another file: the stamp tells the swap apart.
    expect(sameStamp(before.get('web.json'), after.get('web.json'))).toBe(false);
  });

  test('enters a directory link and sees its swap (ln -sfn) as changed stamps', async () => {
    for (const v of ['team-v1', 'team-v2']) {
      mkdirSync(join(root, v));
      writeFileSync(join(root, v, 'api.json'), ingress('api'));
    }
    symlinkSync(join(root, 'team-v1'), join(dir, 'team'));
    const before = await scanManifests(dir);
    expect([...before.keys()]).toEqual(['team/api.json']);
    symlinkSync(join(root, 'team-v2'), join(dir, 'team.new'));
    renameSync(join(dir, 'team.new'), join(dir, 'team'));
    const after = await scanManifests(dir);
    expect(sameStamp(before.get('team/api.json'), after.get('team/api.json'))).toBe(false);
    rmSync(join(dir, 'team'));
  });

  test('reports a directory loop once per scan, does not enter it, and ends', async () => {
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'x.json'), ingress('x'));
    symlinkSync('..', join(dir, 'a', 'up'));
    const problems: ScanProblem[] = [];
    const found = await scanManifests(dir, { onProblem: (p) => problems.push(p) });
    expect([...found.keys()]).toEqual(['a/x.json']);
    expect(problems).toEqual([{ path: 'a/up', message: expect.stringContaining('a loop') }]);
    rmSync(join(dir, 'a'), { recursive: true });
  });

  test('lists a dangling or looping manifest link with a stamp that equals itself, and reports a dangling directory link', async () => {
    symlinkSync(join(root, 'missing.json'), join(dir, 'gone.json'));
    symlinkSync('loop2.json', join(dir, 'loop1.json'));
    symlinkSync('loop1.json', join(dir, 'loop2.json'));
    symlinkSync(join(root, 'no-such-dir'), join(dir, 'nowhere'));
    const problems: ScanProblem[] = [];
    const found = await scanManifests(dir, { onProblem: (p) => problems.push(p) });
    expect(found.get('gone.json')).toBe(BROKEN_STAMP);
    expect(found.get('loop1.json')).toBe(BROKEN_STAMP);
    expect(sameStamp(BROKEN_STAMP, BROKEN_STAMP)).toBe(true);
    expect(problems.map((p) => p.path)).toEqual(['nowhere']);
    for (const f of ['gone.json', 'loop1.json', 'loop2.json', 'nowhere']) rmSync(join(dir, f));
  });
});

describe('manifest reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingressd-reader-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a dangling link gives an unreadable_file manifest naming the target, logged once', () => {
    symlinkSync('/nonexistent/web.json', join(dir, 'web.json'));
    const logger = recordingLogger();
    const read = createManifestReader(dir, logger);
    const first = read('web.json');
    expect(first).toEqual(unreadableManifest('web.json', { kind: 'dangling', target: '/nonexistent/web.json' }));
    expect(first?.issues).toEqual([{ code: 'unreadable_file', path: '', message: expect.stringContaining('/nonexistent/web.json, which does not exist') }]);
    expect(read('web.json')?.generation).toBe(first?.generation);
    expect(logger.lines).toHaveLength(1);
    // Repaired: read as usual, and a later break is logged again.
    rmSync(join(dir, 'web.json'));
    writeFileSync(join(dir, 'web.json'), ingress('web'));
    expect(read('web.json')?.resource?.name).toBe('web');
    rmSync(join(dir, 'web.json'));
    expect(read('web.json')).toBeUndefined();
  });

  test('a loop of links gives unreadable_file (not a throw, so no retry loop)', () => {
    symlinkSync('b.json', join(dir, 'a.json'));
    symlinkSync('a.json', join(dir, 'b.json'));
    const manifest = createManifestReader(dir)('a.json');
    expect(manifest?.issues[0]?.code).toBe('unreadable_file');
    expect(manifest?.issues[0]?.message).toContain('loop');
    expect(manifest?.resource).toBeUndefined();
  });

  test('a file nobody may read gives unreadable_file when permissions apply (skipped for root)', () => {
    writeFileSync(join(dir, 'secret.json'), ingress('secret'));
    chmodSync(join(dir, 'secret.json'), 0o000);
    const manifest = createManifestReader(dir)('secret.json');
    if (process.getuid?.() === 0) expect(manifest?.resource?.name).toBe('secret');
    else expect(manifest?.issues[0]?.code).toBe('unreadable_file');
  });
});
