/** STATUS_DIR and where ingressd's own directories may sit relative to the watched tree: one row per rule. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insideWatchedTree, resolveOptions } from '../../src/controller/options.js';
import { checkOptionFiles } from '../../src/controller/startup-checks.js';
import { createStatusWriter } from '../../src/reconciler/status-writer.js';
import type { ResourceStatus } from '../../src/reconciler/status-types.js';

const ctx = { cwd: '/srv', isTty: false };

describe('STATUS_DIR', () => {
  test('defaults to the manifest directory (status beside each manifest)', () => {
    const o = resolveOptions({ MANIFEST_DIR: 'm' }, {}, ctx);
    expect([o.statusDir, o.statusDirSet]).toEqual(['/srv/m', false]);
  });

  test('--status-dir overrides STATUS_DIR and resolves against the working directory', () => {
    const o = resolveOptions({ MANIFEST_DIR: 'm', STATUS_DIR: '/var/a' }, { 'status-dir': 'st' }, ctx);
    expect([o.statusDir, o.statusDirSet]).toEqual(['/srv/st', true]);
  });

  test.each([
    ['DATA_DIR inside the tree', { MANIFEST_DIR: '/m', DATA_DIR: '/m/state' }, 'DATA_DIR /m/state is inside MANIFEST_DIR /m'],
    ['DATA_DIR equal to the tree', { MANIFEST_DIR: '/m', DATA_DIR: '/m' }, 'DATA_DIR /m is inside MANIFEST_DIR /m'],
    ['STATUS_DIR inside the tree', { MANIFEST_DIR: '/m', STATUS_DIR: '/m/a/st' }, 'STATUS_DIR /m/a/st is inside MANIFEST_DIR /m'],
  ])('refuses %s, naming the fix', (_name, env, message) => {
    expect(() => resolveOptions(env, {}, ctx)).toThrow(message);
    expect(() => resolveOptions(env, {}, ctx)).toThrow('into a dot-directory there (e.g. /m/.ingressd)');
  });

  test.each([
    ['DATA_DIR in a dot-directory of the tree', { MANIFEST_DIR: '/m', DATA_DIR: '/m/.ingressd/data' }],
    ['STATUS_DIR in a dot-directory of the tree', { MANIFEST_DIR: '/m', STATUS_DIR: '/m/a/.status' }],
    ['STATUS_DIR naming the tree itself (the default)', { MANIFEST_DIR: '/m', STATUS_DIR: '/m' }],
    ['DATA_DIR beside the tree with a common prefix', { MANIFEST_DIR: '/m', DATA_DIR: '/m-data' }],
    ['no tree (validate, get without --dir)', { DATA_DIR: '/m/state' }],
  ])('accepts %s', (_name, env) => {
    expect(() => resolveOptions(env, {}, ctx)).not.toThrow();
  });

  test('insideWatchedTree is undefined for a directory above the tree', () => {
    expect(insideWatchedTree('DATA_DIR', '/', '/m')).toBeUndefined();
  });
});

describe('status writer under STATUS_DIR', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ingressd-statusdir-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const status: ResourceStatus = { kind: 'Ingress', name: 'web', id: 'x', file: 'a/b/web.json', observedGeneration: 'g', conditions: [], errors: [] };

  test('mirrors relative paths, creating directories; reads and removes there', async () => {
    const writer = createStatusWriter(root, { mirrored: true });
    expect(await writer.write('a/b/web.json', status)).toBe(true);
    expect(await createStatusWriter(root, { mirrored: true }).read('a/b/web.json')).toEqual(status);
    expect(writer.present('a/b/web.json')).toBe(true);
    await writer.remove('a/b/web.json');
    expect(writer.present('a/b/web.json')).toBe(false);
    expect(writer.unwritable()).toBeUndefined();
  });
});

describe('DATA_DIR and STATUS_DIR through links (checkOptionFiles)', () => {
  let root: string;
  beforeAll(() => {
    // git-sync's layout: MANIFEST_DIR is a link to the current worktree.
    root = mkdtempSync(join(tmpdir(), 'ingressd-links-'));
    mkdirSync(join(root, 'worktree-1'));
    symlinkSync(join(root, 'worktree-1'), join(root, 'current'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('refuses a DATA_DIR given by its real path inside the linked tree', async () => {
    const options = resolveOptions({ MANIFEST_DIR: join(root, 'current'), DATA_DIR: join(root, 'worktree-1', 'state') }, {}, ctx);
    await expect(checkOptionFiles(options)).rejects.toThrow('resolved through their links');
  });

  test('accepts one outside the tree, and one in a dot-directory of it', async () => {
    await expect(checkOptionFiles(resolveOptions({ MANIFEST_DIR: join(root, 'current'), DATA_DIR: join(root, 'state') }, {}, ctx))).resolves.toBeUndefined();
    await expect(checkOptionFiles(resolveOptions({ MANIFEST_DIR: join(root, 'current'), DATA_DIR: join(root, 'worktree-1', '.ingressd') }, {}, ctx))).resolves.toBeUndefined();
  });
});
