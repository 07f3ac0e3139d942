/**
 * Bad input loses nothing: malformed and schema-invalid files, hostname conflicts and a port held by
 * another process each end in a precise status, while every valid route keeps answering.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
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

const PORTS = { admin: 22019, dns: 22053 };
const HTTP = 22080;
const BUSY = 22081;
const BACKEND_PORT = 24201;

describe('ingressd run with bad input', () => {
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let backend: Backend;
  let squatter: Server;

  beforeAll(async () => {
    dir = await tempDir('errors');
    dataDir = await tempDir('errors-data');
    backend = await startBackend('good', '127.0.0.2', BACKEND_PORT);
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(BUSY, '127.0.0.1', () => resolve()));
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'good.json'), { rules: [{ match: { hostname: 'good.test', port: HTTP }, target: { instance: 'app', port: BACKEND_PORT } }] });
    ingressd = startIngressd({ dir, dataDir, ports: PORTS });
    await waitReady(ingressd);
    expect((await get(HTTP, 'good.test')).body).toBe('good');
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    squatter?.close();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('a malformed file gets a status naming line and column; other routes keep answering', async () => {
    await writeFile(join(dir, 'broken.json'), '{\n  "name": "broken",\n  "rules": [\n');
    const status = await waitFor('broken status', () => readStatus(dir, 'broken'));
    expect(condition(status, 'Accepted')).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(status.errors[0]?.code).toBe('invalid_request');
    expect(status.errors[0]?.message).toMatch(/line \d+/);
    expect(status.errors[0]?.message).toMatch(/column \d+/);
    expect((await get(HTTP, 'good.test')).body).toBe('good');
  });

  test('a schema-invalid file gets a status with the JSON pointer of each problem', async () => {
    await writeJson(join(dir, 'bad-port.json'), { rules: [{ match: { hostname: 'bad.test', port: 70000 }, target: { instance: 'app', port: 0 } }] });
    const status = await waitFor('bad-port status', () => readStatus(dir, 'bad-port'));
    const paths = status.errors.map((e) => e.path).sort();
    expect(paths).toEqual(['/rules/0/match/port', '/rules/0/target/port']);
    expect(condition(status, 'Ready')?.status).toBe('False');
    expect((await get(HTTP, 'good.test')).body).toBe('good');
  });

  test('a hostname conflict marks the later ingress and names the file that holds it', async () => {
    await writeJson(join(dir, 'thief.json'), { rules: [{ match: { hostname: 'good.test', port: HTTP }, target: { instance: 'app', port: BACKEND_PORT } }] });
    const status = await waitFor('thief status', () => readStatus(dir, 'thief'));
    expect(condition(status, 'Accepted')).toMatchObject({ status: 'False', reason: 'HostnameConflict' });
    expect(status.errors[0]).toMatchObject({ code: 'hostname_in_use', path: '/rules/0/match/hostname' });
    expect(status.errors[0]?.message).toContain('good.json');
    expect(condition(await readStatus(dir, 'good'), 'Ready')?.status).toBe('True');
  });

  test('a rule on a port held by another process gets port_in_use while the others are applied', async () => {
    await writeJson(join(dir, 'busy.json'), { rules: [{ match: { hostname: 'busy.test', port: BUSY }, target: { instance: 'app', port: BACKEND_PORT } }] });
    await writeJson(join(dir, 'fresh.json'), { rules: [{ match: { hostname: 'fresh.test', port: HTTP }, target: { instance: 'app', port: BACKEND_PORT } }] });
    const status = await waitFor('busy status', async () => {
      const s = await readStatus(dir, 'busy');
      return condition(s, 'Programmed')?.status === 'False' ? s : undefined;
    });
    expect(condition(status, 'Programmed')).toMatchObject({ reason: 'PortInUse' });
    expect(condition(status, 'Programmed')?.message).toContain(String(BUSY));
    await waitFor('fresh.test served', async () => (await get(HTTP, 'fresh.test')).body === 'good' || undefined);
    // Every connection gets the applied config: no half-started config lingers beside it.
    for (let i = 0; i < 20; i++) {
      expect((await get(HTTP, 'good.test')).body).toBe('good');
      expect((await get(HTTP, 'busy.test')).status).toBe(404);
    }
  });

  test('an unknown instance is reported but does not block serving once it appears', async () => {
    await writeJson(join(dir, 'later.json'), { rules: [{ match: { hostname: 'later.test', port: HTTP }, target: { instance: 'later', port: BACKEND_PORT } }] });
    const status = await waitFor('later status', async () => {
      const s = await readStatus(dir, 'later');
      return condition(s, 'ResolvedRefs')?.status === 'False' ? s : undefined;
    });
    expect(status.errors[0]?.code).toBe('instance_not_found');
    expect(condition(status, 'Programmed')?.status).toBe('True');
    await writeJson(join(dir, 'later-instance.json'), { kind: 'Instance', name: 'later', address: '127.0.0.2' });
    await waitFor('later.test served', async () => (await get(HTTP, 'later.test')).body === 'good' || undefined, 10_000);
  });
});
