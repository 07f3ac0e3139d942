/**
 * The live loop end to end: real `ingressd run`, real Caddy, real instance DNS, real backends on
 * 127.0.0.2 / 127.0.0.3, real files. Caddy writes are counted from Caddy's own log.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  caddyWrites,
  condition,
  get,
  killDaemons,
  readStatus,
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

const PORTS = { admin: 21019, dns: 21053 };
const HTTP = 21080;
const BACKEND_PORT = 24101;

describe('ingressd run', () => {
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  const backends: Backend[] = [];

  beforeAll(async () => {
    dir = await tempDir('live');
    dataDir = await tempDir('live-data');
    backends.push(await startBackend('backend-a', '127.0.0.2', BACKEND_PORT));
    backends.push(await startBackend('backend-b', '127.0.0.3', BACKEND_PORT));
    ingressd = startIngressd({ dir, dataDir, ports: PORTS });
    await waitReady(ingressd);
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await Promise.all(backends.map((b) => b.close()));
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('an Instance and an Ingress dropped in the directory serve traffic and report Ready', async () => {
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'web.json'), { name: 'web', rules: [{ match: { hostname: 'web.test', port: HTTP }, target: { instance: 'app', port: BACKEND_PORT } }] });
    const answer = await waitFor('web.test to be served', async () => {
      const r = await get(HTTP, 'web.test');
      return r.status === 200 ? r : undefined;
    });
    expect(answer.body).toBe('backend-a');
    const status = await waitFor('web Ready', async () => {
      const s = await readStatus(dir, 'web');
      return condition(s, 'Ready')?.status === 'True' ? s : undefined;
    });
    expect(condition(status, 'Accepted')?.status).toBe('True');
    expect(condition(status, 'Programmed')?.status).toBe('True');
    expect(status.routes).toEqual([{ hostname: 'web.test', port: HTTP, upstream: 'app.ingressd.internal', upstreamPort: BACKEND_PORT, tls: false, redirectHttp: false }]);
    expect(condition(await readStatus(dir, 'app'), 'Ready')?.status).toBe('True');
  });

  test("an instance's address change moves traffic within about 2 s without any Caddy write", async () => {
    const before = await caddyWrites(dataDir);
    const started = Date.now();
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: '127.0.0.3' });
    await waitFor('traffic on backend-b', async () => (await get(HTTP, 'web.test')).body === 'backend-b' || undefined, 5000, 50);
    expect(Date.now() - started).toBeLessThan(3000);
    // Let the reconcile that follows the instance change finish, then check Caddy saw no write.
    await waitFor('app status to be rewritten', async () => {
      const s = await readStatus(dir, 'app');
      return condition(s, 'Programmed')?.message.includes('127.0.0.3') || undefined;
    });
    expect(await caddyWrites(dataDir)).toBe(before);
  });

  test('editing the target switches backends', async () => {
    await writeJson(join(dir, 'other.json'), { kind: 'Instance', name: 'other', address: '127.0.0.2' });
    await writeJson(join(dir, 'web.json'), { name: 'web', rules: [{ match: { hostname: 'web.test', port: HTTP }, target: { instance: 'other', port: BACKEND_PORT } }] });
    await waitFor('traffic on backend-a via instance other', async () => (await get(HTTP, 'web.test')).body === 'backend-a' || undefined);
  });

  test('a host with no ingress gets the 404 body, not an empty 200', async () => {
    const answer = await get(HTTP, 'nobody.test');
    expect(answer.status).toBe(404);
    expect(answer.body).toContain('no ingress configured for hostname nobody.test');
  });

  test('deleting the ingress turns its answer into the 404 body and removes its status file', async () => {
    // Another ingress keeps the port open (a port no rule uses any more is released).
    await writeJson(join(dir, 'keep.json'), { rules: [{ match: { hostname: 'keep.test', port: HTTP }, target: { instance: 'other', port: BACKEND_PORT } }] });
    await waitFor('keep.test served', async () => (await get(HTTP, 'keep.test')).status === 200 || undefined);
    await rm(join(dir, 'web.json'));
    await waitFor('web.test to answer 404', async () => (await get(HTTP, 'web.test')).status === 404 || undefined);
    await waitFor('web.status.json to be removed', async () => ((await readStatus(dir, 'web')) === undefined ? true : undefined));
  });

  test('a port no rule uses any more is released', async () => {
    await rm(join(dir, 'keep.json'));
    await waitFor('port released', async () => {
      try {
        await get(HTTP, 'keep.test');
        return undefined;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' || undefined;
      }
    });
  });

  test('the applied config is saved for a restarted Caddy, readable only by its owner', async () => {
    const { stat, readFile } = await import('node:fs/promises');
    const path = join(dataDir, 'caddy', 'config.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(path, 'utf8')) as { admin: { listen: string } };
    expect(saved.admin.listen).toBe(`127.0.0.1:${PORTS.admin}`);
  });
});
