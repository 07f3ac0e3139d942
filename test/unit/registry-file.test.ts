import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIngressdError } from '../../src/model/errors.js';
import { formatRegistry, readRegistry, writeRegistry } from '../../src/dns/registry-file.js';
import { writeFileAtomic } from '../../src/platform/atomic-file.js';

const RECORDS = [
  { name: 'web', id: 'id-web', address: '127.0.0.2' },
  { name: 'api', id: 'id-api', address: 'fd00::1' },
];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingressd-registry-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('registry file', () => {
  test('writes canonical JSON sorted by name, mode 0644, creating the directory, leaving no temp file', async () => {
    const path = join(dir, 'dns', 'registry.json');
    expect(await writeRegistry(path, 'ingressd.internal', RECORDS)).toBe(true);
    const text = await readFile(path, 'utf8');
    expect(JSON.parse(text)).toEqual({
      zone: 'ingressd.internal',
      records: [
        { address: 'fd00::1', id: 'id-api', name: 'api' },
        { address: '127.0.0.2', id: 'id-web', name: 'web' },
      ],
    });
    expect(text.endsWith('\n')).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await readdir(join(dir, 'dns'))).toEqual(['registry.json']);
  });

  test('keeps only name, id and address, so an Instance can be passed as is', () => {
    const instance = { kind: 'Instance' as const, name: 'web', id: 'id-web', address: '127.0.0.2' };
    expect(formatRegistry('z', [instance])).toBe(formatRegistry('z', [{ name: 'web', id: 'id-web', address: '127.0.0.2' }]));
  });

  test('does not touch the file when the content is unchanged, whatever the input order', async () => {
    const path = join(dir, 'registry.json');
    await writeRegistry(path, 'ingressd.internal', RECORDS);
    const before = await stat(path);
    await new Promise((resolve) => setTimeout(resolve, 20)); // so a rewrite would show in mtime
    expect(await writeRegistry(path, 'ingressd.internal', [...RECORDS].reverse())).toBe(false);
    const after = await stat(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  test('replaces the file by rename when the content changes', async () => {
    const path = join(dir, 'registry.json');
    await writeRegistry(path, 'ingressd.internal', RECORDS);
    const before = await stat(path);
    const changed = [{ ...RECORDS[0]!, address: '127.0.0.9' }, RECORDS[1]!];
    expect(await writeRegistry(path, 'ingressd.internal', changed)).toBe(true);
    expect((await stat(path)).ino).not.toBe(before.ino); // a new inode: never written in place
    expect((await readRegistry(path)).records.find((r) => r.name === 'web')?.address).toBe('127.0.0.9');
  });

  test('reads back what it wrote', async () => {
    const path = join(dir, 'registry.json');
    await writeRegistry(path, 'ingressd.internal', RECORDS);
    expect(await readRegistry(path)).toEqual({
      zone: 'ingressd.internal',
      records: [RECORDS[1], RECORDS[0]],
    });
  });

  test('reads a missing file as an empty registry', async () => {
    expect(await readRegistry(join(dir, 'absent.json'))).toEqual({ zone: null, records: [] });
  });

  test('rejects a malformed file with internal_error naming the file and pointer', async () => {
    const path = join(dir, 'registry.json');
    await writeFile(path, '{"zone":"z","records":[{"name":"a","id":"b"}]}');
    const err = await readRegistry(path).catch((e: unknown) => e);
    expect(isIngressdError(err, 'internal_error')).toBe(true);
    expect(err).toMatchObject({ file: path, pointer: '/records/0/address' });
    await writeFile(path, '{not json');
    expect(isIngressdError(await readRegistry(path).catch((e: unknown) => e), 'internal_error')).toBe(true);
  });

  test('writeFileAtomic removes its temp file when the rename fails', async () => {
    const target = join(dir, 'occupied');
    await writeFile(join(dir, 'keep'), 'x');
    await mkdir(join(target, 'child'), { recursive: true }); // a non-empty directory: the rename fails
    await expect(writeFileAtomic(target, 'text')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['keep', 'occupied']);
  });
});
