import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStatusWriter, statusFileOf } from '../../src/reconciler/status-writer.js';
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

  test('remove deletes the status file, and tolerates one that is gone', async () => {
    const writer = createStatusWriter(dir);
    await writer.remove('web.json');
    await writer.remove('web.json');
    await expect(stat(join(dir, 'web.status.json'))).rejects.toThrow();
  });
});
