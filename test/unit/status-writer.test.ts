import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOptions } from '../../src/controller/options.js';
import { evaluate } from '../../src/reconciler/evaluate.js';
import { StatusSync } from '../../src/reconciler/status-sync.js';
import { createStatusWriter, statusFileOf } from '../../src/reconciler/status-writer.js';
import { parseManifest } from '../../src/manifest/parse.js';
import type { ResourceStatus } from '../../src/reconciler/status-types.js';

const status: ResourceStatus = {
  kind: 'Ingress',
  name: 'web',
  id: 'abc',
  file: 'web.json',
  observedGeneration: 'g1',
  conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00.000Z' }],
  errors: [],
};

describe('status writer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingressd-status-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the status file sits beside the manifest, also in subdirectories', () => {
    expect(statusFileOf('web.json')).toBe('web.status.json');
    expect(statusFileOf('team/api.json')).toBe('team/api.status.json');
  });

  test('writes only when the content changes', async () => {
    const writer = createStatusWriter(dir);
    expect(await writer.write('web.json', status)).toBe(true);
    const before = await stat(join(dir, 'web.status.json'));
    expect(await writer.write('web.json', { ...status })).toBe(false);
    expect((await stat(join(dir, 'web.status.json'))).mtimeMs).toBe(before.mtimeMs);
    expect(JSON.parse(await readFile(join(dir, 'web.status.json'), 'utf8'))).toEqual(status);
  });

  test('reads back a status it wrote, and ignores files that are not statuses', async () => {
    expect(await createStatusWriter(dir).read('web.json')).toEqual(status);
    await writeFile(join(dir, 'odd.status.json'), '{"file": "odd.json"}');
    await writeFile(join(dir, 'cut.status.json'), '{"file": "cut.json", "conditi');
    const writer = createStatusWriter(dir);
    expect(await writer.read('odd.json')).toBeUndefined();
    expect(await writer.read('cut.json')).toBeUndefined();
    expect(await writer.read('missing.json')).toBeUndefined();
    // An ignored file is rewritten on the next write, whatever its bytes.
    expect(await writer.write('odd.json', { ...status, file: 'odd.json' })).toBe(true);
  });

  test('a subdirectory that refuses writes is skipped alone; a root that refuses them stops every write, with one warning each', async () => {
    // chattr +i: EPERM even for root (the tests run as root, for whom EACCES never happens).
    const locked = join(dir, 'team-b');
    await mkdir(locked);
    execFileSync('chattr', ['+i', locked]);
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message), info: () => undefined, error: () => undefined, debug: () => undefined };
    try {
      const writer = createStatusWriter(dir, { logger });
      expect(await writer.write('team-b/x.json', { ...status, file: 'team-b/x.json' })).toBe(false);
      expect(await writer.write('team-b/y.json', { ...status, file: 'team-b/y.json' })).toBe(false);
      expect(await writer.write('top.json', { ...status, file: 'top.json' })).toBe(true);
      expect(writer.unwritable()).toBeUndefined();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(locked);
      execFileSync('chattr', ['+i', dir]);
      const readOnly = createStatusWriter(dir, { logger });
      expect(await readOnly.write('top.json', { ...status, file: 'top.json', observedGeneration: 'g2' })).toBe(false);
      expect(readOnly.unwritable()).toContain('STATUS_DIR');
      expect(warnings).toHaveLength(2);
    } finally {
      execFileSync('chattr', ['-i', dir]);
      execFileSync('chattr', ['-i', locked]);
    }
  });

  test('under STATUS_DIR, a directory emptied of status files goes too, up to the root', async () => {
    const root = join(dir, 'status-dir');
    await mkdir(root);
    const writer = createStatusWriter(root, { mirrored: true });
    await writer.write('team/a/x.json', { ...status, file: 'team/a/x.json' });
    await writer.write('team/y.json', { ...status, file: 'team/y.json' });
    await writer.remove('team/a/x.json');
    expect(await readdir(join(root, 'team'))).toEqual(['y.status.json']);
    await writer.remove('team/y.json');
    expect(await readdir(root)).toEqual([]);
  });

  test('remove deletes the status file, and tolerates one that is gone', async () => {
    const writer = createStatusWriter(dir);
    await writer.remove('web.json');
    await writer.remove('web.json');
    await expect(stat(join(dir, 'web.status.json'))).rejects.toThrow();
  });
});

describe('status pass', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingressd-status-pass-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('steps aside when asked, then finishes where it stopped, and skips what is current', async () => {
    const settings = resolveOptions({}, {}, { cwd: dir, isTty: false }).render;
    const manifests = Array.from({ length: 250 }, (_, i) =>
      parseManifest(`w${i}.json`, JSON.stringify({ kind: 'Ingress', rules: [{ match: { hostname: `w${i}.test` }, target: { instance: 'app', port: 80 } }] })),
    );
    const evaluated = evaluate(manifests, new Map(), settings.tls);
    const sync = new StatusSync(createStatusWriter(dir), settings, () => true);
    const first = await sync.write(evaluated, new Map(), new Map(), 0, () => true);
    expect(first).toEqual({ written: 100, complete: false });
    const onDisk = (await readdir(dir)).filter((f) => f.endsWith('.status.json'));
    expect(onDisk).toHaveLength(100);
    expect(await sync.write(evaluated, new Map(), new Map(), 0)).toEqual({ written: 150, complete: true });
    expect(await sync.write(evaluated, new Map(), new Map(), 0)).toEqual({ written: 0, complete: true });
    expect(JSON.parse(await readFile(join(dir, 'w249.status.json'), 'utf8'))).toMatchObject({ file: 'w249.json', name: 'w249' });
  });
});
