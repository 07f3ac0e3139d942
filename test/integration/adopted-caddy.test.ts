/**
 * A Caddy that ingressd did not start (adopted through its admin address) and that goes away:
 * statuses turn Programmed=Unknown (CaddyUnavailable), and when a Caddy answers again ingressd
 * re-applies everything to it.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
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

const PORTS = { admin: 20019, dns: 20053 };
const HTTP = 20080;
const BACKEND_PORT = 24401;

async function startOwnCaddy(dir: string): Promise<ChildProcess> {
  const config = join(dir, 'own-caddy.json');
  await writeFile(config, JSON.stringify({ admin: { listen: `127.0.0.1:${PORTS.admin}` } }));
  const child = spawn(process.env['CADDY_BINARY'] ?? 'caddy', ['run', '--config', config], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    stdio: 'ignore',
  });
  await waitFor('our own Caddy to answer', async () => {
    try {
      await get(PORTS.admin, 'localhost', '/config/');
      return true;
    } catch {
      return undefined;
    }
  });
  return child;
}

describe('an adopted Caddy that goes away and comes back', () => {
  let dir: string;
  let dataDir: string;
  let caddyDir: string;
  let caddy: ChildProcess;
  let ingressd: IngressdProcess;
  let backend: Backend;

  beforeAll(async () => {
    dir = await tempDir('adopt');
    dataDir = await tempDir('adopt-data');
    caddyDir = await tempDir('adopt-caddy');
    backend = await startBackend('adopted', '127.0.0.2', BACKEND_PORT);
    caddy = await startOwnCaddy(caddyDir);
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'site.json'), { rules: [{ match: { hostname: 'site.test', port: HTTP }, target: { instance: 'app', port: BACKEND_PORT } }] });
    ingressd = startIngressd({ dir, dataDir, ports: PORTS });
    await waitReady(ingressd);
  });

  afterAll(async () => {
    await ingressd?.stop();
    caddy?.kill('SIGKILL');
    await killDaemons(dataDir);
    await backend?.close();
    for (const d of [dir, dataDir, caddyDir]) await removeDir(d);
  });

  test('ingressd adopts a Caddy it did not start and serves through it', async () => {
    expect(ingressd.output()).toContain('adopted the running Caddy');
    await waitFor('site.test served', async () => (await get(HTTP, 'site.test')).body === 'adopted' || undefined);
  });

  test('when it goes away, Programmed turns Unknown (CaddyUnavailable); when one answers again, everything is re-applied', async () => {
    caddy.kill('SIGKILL');
    const down = await waitFor('Programmed Unknown', async () => {
      const s = await readStatus(dir, 'site');
      return condition(s, 'Programmed')?.status === 'Unknown' ? s : undefined;
    });
    expect(condition(down, 'Programmed')?.reason).toBe('CaddyUnavailable');
    expect(condition(down, 'Ready')?.status).toBe('Unknown');
    // ingressd did not start this Caddy, so it does not restart it: an operator does, with an empty config.
    caddy = await startOwnCaddy(caddyDir);
    await waitFor('site.test served by the new Caddy', async () => (await get(HTTP, 'site.test')).body === 'adopted' || undefined, 15_000);
    await waitFor('Programmed True again', async () => condition(await readStatus(dir, 'site'), 'Programmed')?.status === 'True' || undefined);
  });
});
