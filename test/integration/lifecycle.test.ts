/**
 * Operating ingressd: restarts without a failed request, resyncs at rest without Caddy writes,
 * out-of-band edits reverted, a killed Caddy brought back, a burst of files in few writes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  adminRequest,
  caddyWrites,
  condition,
  get,
  killDaemons,
  readStatus,
  removeDir,
  sleep,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  writeJson,
  type Backend,
  type IngressdProcess,
} from '../helpers/processes.js';

const PORTS = { admin: 23019, dns: 23053 };
const HTTP = 23080;
const BURST = 23081;
const BACKEND_PORT = 24301;
const ENV = { RESYNC_INTERVAL: '1s' };

describe('operating ingressd', () => {
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let backend: Backend;

  beforeAll(async () => {
    dir = await tempDir('life');
    dataDir = await tempDir('life-data');
    backend = await startBackend('steady', '127.0.0.2', BACKEND_PORT);
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'steady.json'), { rules: [{ match: { hostname: 'steady.test', port: HTTP }, target: { instance: 'app', port: BACKEND_PORT } }] });
    ingressd = startIngressd({ dir, dataDir, ports: PORTS, env: ENV });
    await waitReady(ingressd);
    await waitFor('steady.test served', async () => (await get(HTTP, 'steady.test')).body === 'steady' || undefined);
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('a resync at rest makes zero Caddy writes', async () => {
    const before = await caddyWrites(dataDir);
    await sleep(3500); // RESYNC_INTERVAL is 1 s: at least three resyncs
    expect(await caddyWrites(dataDir)).toBe(before);
  });

  test('restarting ingressd fails no request and makes no Caddy write when nothing changed', async () => {
    let failures = 0;
    let requests = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        requests++;
        try {
          const r = await get(HTTP, 'steady.test', '/', 3000);
          if (r.status !== 200 || r.body !== 'steady') failures++;
        } catch {
          failures++;
        }
        await sleep(100);
      }
    })();
    await sleep(500);
    const statusBefore = await readFile(join(dir, 'steady.status.json'), 'utf8');
    expect(await ingressd.stop('SIGTERM')).toBe(0);
    const writesBefore = await caddyWrites(dataDir);
    await sleep(500);
    ingressd = startIngressd({ dir, dataDir, ports: PORTS, env: ENV });
    await waitReady(ingressd);
    await sleep(1500);
    running = false;
    await loop;
    expect(requests).toBeGreaterThan(15);
    expect(failures).toBe(0);
    expect(await caddyWrites(dataDir)).toBe(writesBefore);
    expect(await readFile(join(dir, 'steady.status.json'), 'utf8')).toBe(statusBefore);
    expect(ingressd.output()).toContain('adopted the running Caddy');
    expect(ingressd.output()).toContain('adopted the running instance DNS');
  });

  test('an out-of-band change to an owned server is reverted within one resync', async () => {
    const res = await adminRequest(PORTS.admin, 'DELETE', `/config/apps/http/servers/ingress-${HTTP}`);
    expect(res.status).toBe(200);
    await waitFor('steady.test served again', async () => (await get(HTTP, 'steady.test')).body === 'steady' || undefined, 5000);
  });

  test('config ingressd does not own is left alone', async () => {
    const foreign = { listen: ['127.0.0.1:23099'], routes: [{ handle: [{ handler: 'static_response', body: 'foreign' }] }] };
    expect((await adminRequest(PORTS.admin, 'POST', '/config/apps/http/servers/foreign', foreign)).status).toBe(200);
    await sleep(2500);
    const live = JSON.parse((await adminRequest(PORTS.admin, 'GET', '/config/apps/http/servers/foreign')).body) as unknown;
    expect(live).toEqual(foreign);
  });

  test('200 files dropped at once end in at most 3 Caddy writes', async () => {
    const before = await caddyWrites(dataDir);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        writeJson(join(dir, 'burst', `b${i}.json`), { rules: [{ match: { hostname: `b${i}.burst.test`, port: BURST }, target: { instance: 'app', port: BACKEND_PORT } }] }),
      ),
    );
    await waitFor('the last burst host served', async () => (await get(BURST, 'b199.burst.test')).body === 'steady' || undefined, 15_000);
    await waitFor('every burst status Ready', async () => condition(await readStatus(join(dir, 'burst'), 'b0'), 'Ready')?.status === 'True' || undefined);
    for (const i of [0, 57, 123]) expect((await get(BURST, `b${i}.burst.test`)).body).toBe('steady');
    expect((await caddyWrites(dataDir)) - before).toBeLessThanOrEqual(3);
  });

  test('a killed managed Caddy is restarted and serving again', async () => {
    const pid = Number((await readFile(join(dataDir, 'caddy', 'caddy.pid'), 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    await waitFor('a new Caddy pid', async () => {
      const now = Number((await readFile(join(dataDir, 'caddy', 'caddy.pid'), 'utf8').catch(() => '0')).trim());
      return now !== pid && now > 0 ? now : undefined;
    }, 15_000);
    await waitFor('steady.test served by the new Caddy', async () => (await get(HTTP, 'steady.test')).body === 'steady' || undefined, 15_000);
  });
});
