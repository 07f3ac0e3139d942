/**
 * After its own write, ingressd knows what Caddy holds and skips `GET /config/` on the next
 * reconcile, guarding the write with the ETag Caddy will compute. These tests show the read is
 * really skipped (counted in Caddy's own log), and that a change made behind ingressd's back in
 * between is never overwritten: the guarded write fails with 412, ingressd reads and merges again.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  adminRequest,
  caddyReads,
  caddyWrites,
  get,
  killDaemons,
  removeDir,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  writeJson,
  type Backend,
  type IngressdProcess,
} from '../helpers/processes.js';
import { CADDY_INFO } from '../helpers/caddy-under-test.js';
import { formatCaddyVersion } from '../../src/model/caddy-version.js';

const PORTS = { admin: 23219, dns: 23253 };
const HTTP = 23280;
const FOREIGN = 23299;
const BACKEND_PORT = 24311;
// Resyncs read Caddy on purpose: keep them out of the window being counted.
const ENV = { RESYNC_INTERVAL: '1h' };

describe('the live config ingressd remembers', () => {
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let blue: Backend;
  let green: Backend;
  const ingress = (instance: string): unknown => ({ rules: [{ match: { hostname: 'web.test', port: HTTP }, target: { instance, port: BACKEND_PORT } }] });
  const served = (body: string) => async (): Promise<true | undefined> => ((await get(HTTP, 'web.test')).body === body ? true : undefined);

  beforeAll(async () => {
    dir = await tempDir('cache');
    dataDir = await tempDir('cache-data');
    blue = await startBackend('blue', '127.0.0.2', BACKEND_PORT);
    green = await startBackend('green', '127.0.0.3', BACKEND_PORT);
    await writeJson(join(dir, 'blue.json'), { kind: 'Instance', name: 'blue', address: '127.0.0.2' });
    await writeJson(join(dir, 'green.json'), { kind: 'Instance', name: 'green', address: '127.0.0.3' });
    await writeJson(join(dir, 'web.json'), ingress('blue'));
    ingressd = startIngressd({ dir, dataDir, ports: PORTS, env: ENV });
    await waitReady(ingressd);
    await waitFor('web.test on blue', served('blue'));
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await blue?.close();
    await green?.close();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('ingressd drives the Caddy under test (what the counts below are about)', () => {
    const line = ingressd.output().split('\n').find((l) => l.includes('rendering for this Caddy'));
    expect(line).toContain(`"caddy":"${formatCaddyVersion(CADDY_INFO.version)}`);
  });

  test('changes after ingressd’s own write are applied without reading Caddy’s config', async () => {
    const reads = await caddyReads(dataDir);
    const writes = await caddyWrites(dataDir);
    await writeJson(join(dir, 'web.json'), ingress('green'));
    await waitFor('web.test on green', served('green'));
    await writeJson(join(dir, 'web.json'), ingress('blue'));
    await waitFor('web.test back on blue', served('blue'));
    expect(await caddyWrites(dataDir)).toBe(writes + 2);
    expect(await caddyReads(dataDir)).toBe(reads);
  });

  test('a change made behind ingressd’s back is kept: the guarded write fails, ingressd reads and merges', async () => {
    const foreign = { listen: [`127.0.0.1:${FOREIGN}`], routes: [{ handle: [{ handler: 'static_response', body: 'foreign' }] }] };
    expect((await adminRequest(PORTS.admin, 'POST', '/config/apps/http/servers/foreign', foreign)).status).toBe(200);
    const reads = await caddyReads(dataDir);
    await writeJson(join(dir, 'web.json'), ingress('green'));
    await waitFor('web.test on green', served('green'));
    expect(await caddyReads(dataDir)).toBeGreaterThan(reads);
    const log = await readFile(join(dataDir, 'caddy', 'caddy.log'), 'utf8');
    expect(log).toContain('If-Match header did not match');
    expect(JSON.parse((await adminRequest(PORTS.admin, 'GET', '/config/apps/http/servers/foreign')).body)).toEqual(foreign);
    expect((await get(FOREIGN, 'anything.test')).body).toBe('foreign');
  });
});
