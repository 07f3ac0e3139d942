/**
 * Files a manifest names beside it, followed live: the real watcher (inotify on a temp directory)
 * reports the manifests that name a changed file, a dotfile (`.htpasswd`) and one in a
 * subdirectory included, and a rescan that stat()s reads them again (it does not stat those
 * files). Waits on the events with a bound; nothing is timed.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/model/logger.js';
import { createManifestReader } from '../../src/sources/manifest-reader.js';
import { ReferenceIndex } from '../../src/sources/referenced-files.js';
import { Rescanner } from '../../src/sources/rescanner.js';
import { watchManifests, type ManifestWatcher } from '../../src/sources/watcher.js';

const HASH = '$2a$04$TSjGFGBjYOy5GWBIKkXfxequ2vrYBcz/nrQ.B9L6trg81QPDNxs5C';
const manifest = (name: string, usersFile: string): string =>
  JSON.stringify({ rules: [{ match: { hostname: `${name}.test` }, target: { instance: 'app', port: 80 }, basic_auth: { users_file: usersFile } }] });

describe('a referenced file changing', () => {
  let dir: string;
  let watcher: ManifestWatcher;
  const reported: string[] = [];
  const index = new ReferenceIndex();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingressd-refs-'));
    mkdirSync(join(dir, 'team', 'auth'), { recursive: true });
    writeFileSync(join(dir, 'top.json'), manifest('top', '.htpasswd'));
    writeFileSync(join(dir, '.htpasswd'), `a:${HASH}\n`);
    writeFileSync(join(dir, 'team', 'shop.json'), manifest('shop', 'auth/shop.users'));
    writeFileSync(join(dir, 'team', 'auth', 'shop.users'), `a:${HASH}\n`);
    const read = createManifestReader(dir, silentLogger, index);
    expect(read('top.json')?.resource).toBeDefined();
    expect(read('team/shop.json')?.resource).toBeDefined();
    watcher = await watchManifests({ dir, settleMs: 5, onPath: (file) => reported.push(file), onRescan: () => undefined, referencedBy: (file) => index.referencedBy(file), logger: silentLogger });
  });
  afterAll(async () => {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const reportedSoon = async (file: string): Promise<void> => {
    for (let i = 0; i < 200 && !reported.includes(file); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(reported).toContain(file);
  };

  test('reports the manifest naming a dotfile beside it', async () => {
    writeFileSync(join(dir, '.htpasswd'), `b:${HASH}\n`);
    await reportedSoon('top.json');
  });

  test('reports the manifest naming a file in a subdirectory, and no other', async () => {
    reported.length = 0;
    writeFileSync(join(dir, 'team', 'auth', 'shop.users'), `b:${HASH}\n`);
    await reportedSoon('team/shop.json');
    expect(reported).not.toContain('top.json');
  });

  test('a rescan that stat()s queues the manifests that name files; one that does not, not', async () => {
    const queued: string[] = [];
    const rescanner = new Rescanner({ dir, logger: silentLogger, syncFile: async () => undefined, enqueueFile: (file) => void queued.push(file), enqueueCaddy: () => undefined, knownFiles: () => [], referencingFiles: () => index.referencing() });
    await rescanner.initial();
    await rescanner.rescan(false);
    expect(queued).toEqual([]);
    await rescanner.rescan(true);
    expect(queued.sort()).toEqual(['team/shop.json', 'top.json']);
  });
});
