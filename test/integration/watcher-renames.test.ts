/**
 * The watcher on real files (inotify): a manifest renamed into place whole is reported without
 * the settle wait; one written in place is reported (again) once it has been quiet for
 * `settleMs`, and counts as settling until then.
 * The settle time here is long (2 s) so the difference cannot be mistaken for scheduling noise.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/model/logger.js';
import { watchManifests, type ManifestWatcher } from '../../src/sources/watcher.js';
import { removeDir, tempDir, waitFor } from '../helpers/processes.js';

const SETTLE_MS = 2000;

describe('watcher: renamed files skip the settle wait', () => {
  let dir: string;
  let watcher: ManifestWatcher;
  const seen: { file: string; at: number }[] = [];

  beforeAll(async () => {
    dir = await tempDir('watch-renames');
    watcher = await watchManifests({ dir, settleMs: SETTLE_MS, onPath: (file) => seen.push({ file, at: Date.now() }), onRescan: () => undefined, logger: silentLogger });
  });
  afterAll(async () => {
    await watcher.close();
    await removeDir(dir);
  });

  test('a file renamed into place (write a temporary dotfile, then rename) is reported at once', async () => {
    writeFileSync(join(dir, '.web.json.tmp123'), '{"name": "web", "rules": []}');
    const renamedAt = Date.now();
    renameSync(join(dir, '.web.json.tmp123'), join(dir, 'web.json'));
    const event = await waitFor('web.json reported', () => seen.find((e) => e.file === 'web.json'), 5000, 5);
    expect(event.at - renamedAt).toBeLessThan(SETTLE_MS / 2);
  });

  test('a file written in place is reported again once quiet for the settle time, and counts as settling until then', async () => {
    const startedAt = Date.now();
    writeFileSync(join(dir, 'api.json'), '{"name": "api",');
    writeFileSync(join(dir, 'api.json'), '{"name": "api", "rules": []}');
    // Its writes arrive as 'change' events: it is settling (ingressd's Caddy sync waits for it).
    await waitFor('api.json settling', () => watcher.settling() > 0 || undefined, 1000, 5);
    const last = await waitFor('api.json reported after the settle time', () => seen.find((e) => e.file === 'api.json' && e.at - startedAt >= SETTLE_MS), 5000, 5);
    expect(last.at - startedAt).toBeLessThan(SETTLE_MS + 1000);
    expect(watcher.settling()).toBe(0);
  });

  test('replacing an existing file by a rename is reported at once too', async () => {
    writeFileSync(join(dir, '.web.json.tmp456'), '{"name": "web", "rules": [] }');
    const renamedAt = Date.now();
    renameSync(join(dir, '.web.json.tmp456'), join(dir, 'web.json'));
    const event = await waitFor('web.json reported again', () => seen.filter((e) => e.file === 'web.json')[1], 5000, 5);
    expect(event.at - renamedAt).toBeLessThan(SETTLE_MS / 2);
  });
});
