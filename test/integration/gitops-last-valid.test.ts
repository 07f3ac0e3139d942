/**
 * The last valid version keeps serving (FALLBACK=last-valid, the default), end to end with a real
 * `ingressd run`, Caddy and backends: serving → a broken edit (written in place, as a template
 * engine or a careless editor would) → restart → a valid edit → delete. Caddy writes are counted
 * from Caddy's own log.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  caddyWrites,
  runCliAsync,
  condition,
  freePort,
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
  type Backend,
  type IngressdProcess,
  type StatusView,
} from '../helpers/processes.js';


describe('the last valid version keeps serving', () => {
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let ports: { admin: number; dns: number };
  let http = 0;
  let backendPort = 0;
  let servedGeneration = '';
  const backends: Backend[] = [];
  const web = (target: string): string => JSON.stringify({ name: 'web', rules: [{ match: { hostname: 'web.test', port: http }, target: { instance: target, port: backendPort } }] }, null, 2);
  const body = async (): Promise<string> => (await get(http, 'web.test')).body;
  const programmed = async (reason: string): Promise<StatusView> =>
    waitFor(`web Programmed ${reason}`, async () => {
      const s = await readStatus(dir, 'web');
      return condition(s, 'Programmed')?.reason === reason ? s : undefined;
    });

  beforeAll(async () => {
    dir = await tempDir('lastvalid');
    dataDir = await tempDir('lastvalid-data');
    ports = { admin: await freePort(), dns: await freePort() };
    http = await freePort();
    backendPort = await freePort();
    backends.push(await startBackend('backend-a', '127.0.0.2', backendPort));
    backends.push(await startBackend('backend-b', '127.0.0.3', backendPort));
    writeFileSync(join(dir, 'app-a.json'), JSON.stringify({ kind: 'Instance', name: 'app-a', address: '127.0.0.2' }));
    writeFileSync(join(dir, 'app-b.json'), JSON.stringify({ kind: 'Instance', name: 'app-b', address: '127.0.0.3' }));
    writeFileSync(join(dir, 'web.json'), web('app-a'));
    // Keeps the listener up once web is deleted, so that answers 404 rather than refusing connections.
    writeFileSync(join(dir, 'keep.json'), JSON.stringify({ name: 'keep', rules: [{ match: { hostname: 'keep.test', port: http }, target: { instance: 'app-a', port: backendPort } }] }));
    ingressd = startIngressd({ dir, dataDir, ports });
    await waitReady(ingressd);
    await waitFor('web.test on backend-a', async () => (await body()) === 'backend-a' || undefined);
    const ready = await programmed('Programmed');
    expect(condition(ready, 'Ready')?.status).toBe('True');
    servedGeneration = ready.observedGeneration;
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await Promise.all(backends.map((b) => b.close()));
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('a broken edit keeps the old backend answering; the status says why and what is served', async () => {
    // One closing bracket lost, and a new target: written in place, not renamed.
    writeFileSync(join(dir, 'web.json'), web('app-b').replace(/\]\s*}\s*$/, '}'));
    const status = await programmed('LastValidVersion');
    expect(condition(status, 'Accepted')).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(condition(status, 'Programmed')?.status).toBe('True');
    expect(condition(status, 'Programmed')?.message).toMatch(new RegExp(`observedGeneration ${servedGeneration}, accepted \\d{4}-\\d\\d-\\d\\dT`));
    expect(condition(status, 'Ready')?.status).toBe('False');
    expect(status.errors).toEqual([expect.objectContaining({ code: 'invalid_request', message: expect.stringContaining('invalid JSON') })]);
    expect(status.observedGeneration).not.toBe(servedGeneration);
    // The version standing in is persisted, so a restart serves it too.
    await waitFor('record saved', () => readdirSync(join(dataDir, 'last-valid')).length === 1 || undefined);
    for (let i = 0; i < 5; i++) {
      expect(await body()).toBe('backend-a');
      await sleep(50);
    }
  });

  test('validate reports the file, render and diff agree with run (diff: in sync)', async () => {
    const env = { CADDY_ADMIN_PORT: String(ports.admin), INTERNAL_DNS_PORT: String(ports.dns), CADDY_LISTEN_ADDRESS: '127.0.0.1', DATA_DIR: dataDir, MANIFEST_DIR: dir };
    const validate = await runCliAsync(['validate', dir], env);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toContain('invalid JSON');
    const diff = await runCliAsync(['diff', '--dir', dir], env);
    expect(diff.code).toBe(0);
    const none = await runCliAsync(['diff', '--dir', dir], { ...env, FALLBACK: 'none' });
    expect(none.code).toBe(1); // without the rule, the route would go
  });

  test('a restart serves the same routes with zero Caddy writes, and the same status', async () => {
    await ingressd.stop();
    const before = await caddyWrites(dataDir);
    ingressd = startIngressd({ dir, dataDir, ports });
    await waitReady(ingressd);
    expect(await body()).toBe('backend-a');
    await programmed('LastValidVersion');
    await sleep(500); // any write the restart would make has been made by now
    expect(await caddyWrites(dataDir)).toBe(before);
    expect(await body()).toBe('backend-a');
  });

  test('a valid edit replaces it: the new backend answers, Ready=True', async () => {
    writeFileSync(join(dir, 'web.json'), web('app-b'));
    await waitFor('web.test on backend-b', async () => (await body()) === 'backend-b' || undefined);
    const status = await programmed('Programmed');
    expect(condition(status, 'Ready')?.status).toBe('True');
    expect(status.errors).toEqual([]);
    // Nothing stands in any more: the record on disk goes (valid versions are kept in memory only).
    await waitFor('record removed', () => readdirSync(join(dataDir, 'last-valid')).length === 0 || undefined);
  });

  test('deleting the file removes the route and its status, and leaves no record', async () => {
    rmSync(join(dir, 'web.json'));
    await waitFor('web.test gone', async () => (await get(http, 'web.test')).status === 404 || undefined);
    await waitFor('status gone', () => !existsSync(join(dir, 'web.status.json')) || undefined);
    expect(readdirSync(join(dataDir, 'last-valid'))).toHaveLength(0);
  });
});
