/**
 * `ingressd diff` and `ingressd get` as an operator runs them, against a real `ingressd run`, its
 * Caddy and its status files: diff is quiet at rest, names an out-of-band change, and says where it
 * looked when Caddy does not answer; get lists ingresses, instances and invalid manifests.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  adminRequest,
  CLI,
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

const PORTS = { admin: 27019, dns: 27053 };
const WEB = 27080;
const API = 27081;
const BACKEND_HOST = '127.0.0.2';
const BACKEND_PORT = 27101;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ingressd ARGS` as a separate process with only the given environment (plus PATH and HOME). */
function cli(args: readonly string[], env: Readonly<Record<string, string>>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The table row whose first cell is `name`, split into cells. */
function row(table: string, name: string): string[] | undefined {
  return table
    .split('\n')
    .map((line) => line.split(/\s{3,}/))
    .find((cells) => cells[0] === name);
}

describe('ingressd diff and get', () => {
  let dir: string;
  let fresh: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let backend: Backend;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await tempDir('cli-dg');
    fresh = await tempDir('cli-dg-fresh');
    dataDir = await tempDir('cli-dg-data');
    env = { CADDY_ADMIN_PORT: String(PORTS.admin), INTERNAL_DNS_PORT: String(PORTS.dns), CADDY_LISTEN_ADDRESS: '127.0.0.1', DATA_DIR: dataDir };
    backend = await startBackend('app', BACKEND_HOST, BACKEND_PORT);
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: BACKEND_HOST });
    await writeJson(join(dir, 'web.json'), { kind: 'Ingress', name: 'web', rules: [{ match: { hostname: 'web.test', port: WEB }, target: { instance: 'app', port: BACKEND_PORT } }] });
    await writeJson(join(dir, 'api.json'), { kind: 'Ingress', name: 'api', rules: [{ match: { hostname: 'api.test', port: API }, target: { instance: 'app', port: BACKEND_PORT } }] });
    await writeJson(join(dir, 'broken.json'), { kind: 'Ingress', name: 'broken', rules: [{ match: { hostname: 'bad host!', port: WEB }, target: { instance: 'app', port: BACKEND_PORT } }] });
    ingressd = startIngressd({ dir, dataDir, ports: PORTS });
    await waitReady(ingressd);
    await waitFor('web.test served', async () => (await get(WEB, 'web.test')).body === 'app' || undefined);
    for (const stem of ['app', 'web', 'api']) {
      await waitFor(`${stem} Ready`, async () => condition(await readStatus(dir, stem), 'Ready')?.status === 'True' || undefined);
    }
    await waitFor('broken rejected', async () => condition(await readStatus(dir, 'broken'), 'Ready')?.status === 'False' || undefined);
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    for (const d of [dir, fresh, dataDir]) if (d !== undefined) await removeDir(d);
  });

  test('diff exits 0 and says "in sync" when Caddy holds what the manifests render', async () => {
    const text = await cli(['diff', '--dir', dir], env);
    expect(text.stderr).toMatch(/^rendering for Caddy \d+\.\d+\.\d+ \(.*\)\n$/);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`--- live (Caddy at http://127.0.0.1:${PORTS.admin})`);
    expect(text.stdout).toContain(`+++ desired (${dir})`);
    expect(text.stdout.trim().split('\n').at(-1)).toBe('in sync');

    const json = await cli(['diff', '--dir', dir, '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ inSync: true, patch: [] });
  });

  test('get lists ingresses and instances with hosts, targets, READY and the reason of an invalid manifest', async () => {
    const out = await cli(['get', '--dir', dir], env);
    expect(out.code).toBe(0);
    const [ingresses = '', instances = ''] = out.stdout.split('\n\n');
    expect(ingresses.split('\n')[0]!.split(/\s+/)).toEqual(['NAME', 'HOSTS', 'TARGET', 'READY', 'REASON', 'AGE', 'FILE']);
    expect(instances.split('\n')[0]!.split(/\s+/)).toEqual(['NAME', 'ADDRESS', 'READY', 'REASON', 'AGE', 'FILE']);
    expect(row(ingresses, 'web')).toEqual(['web', `web.test:${WEB}`, `app:${BACKEND_PORT}`, 'True', 'Ready', expect.stringMatching(/^\d+[smhd]$/), 'web.json']);
    expect(row(ingresses, 'api')?.slice(0, 5)).toEqual(['api', `api.test:${API}`, `app:${BACKEND_PORT}`, 'True', 'Ready']);
    expect(row(ingresses, 'broken')?.slice(3, 5)).toEqual(['False', 'Invalid']);
    expect(row(instances, 'app')).toEqual(['app', BACKEND_HOST, 'True', 'Ready', expect.stringMatching(/^\d+[smhd]$/), 'app.json']);

    const only = await cli(['get', 'instances', '--dir', dir], env);
    expect(only.code).toBe(0);
    expect(only.stdout).not.toContain('HOSTS');
    expect(row(only.stdout, 'app')).toBeDefined();
  });

  test('get -o json prints the status objects sorted by kind, then name', async () => {
    const out = await cli(['get', '--dir', dir, '-o', 'json'], env);
    expect(out.code).toBe(0);
    const statuses = JSON.parse(out.stdout) as { kind: string; name: string; conditions: { type: string; status: string }[] }[];
    expect(statuses.map((s) => `${s.kind}/${s.name}`)).toEqual(['Ingress/api', 'Ingress/broken', 'Ingress/web', 'Instance/app']);
    expect(statuses[0]!.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  test('get shows manifests with no status file as NotReconciled, and invalid ones as False', async () => {
    await writeJson(join(fresh, 'db.json'), { kind: 'Instance', name: 'db', address: '127.0.0.3' });
    await writeJson(join(fresh, 'late.json'), { kind: 'Ingress', name: 'late', rules: [{ match: { hostname: 'late.test', port: WEB }, target: { instance: 'db', port: 5432 } }] });
    await writeFile(join(fresh, 'junk.json'), '{ "kind": "Ingress", ');
    const out = await cli(['get', '--dir', fresh], env);
    expect(out.code).toBe(0);
    expect(row(out.stdout, 'late')?.slice(0, 5)).toEqual(['late', `late.test:${WEB}`, 'db:5432', 'Unknown', 'NotReconciled']);
    expect(row(out.stdout, 'junk')?.slice(3, 5)).toEqual(['False', 'Invalid']);
    expect(row(out.stdout, 'db')?.slice(0, 4)).toEqual(['db', '127.0.0.3', 'Unknown', 'NotReconciled']);
  });

  test('get rejects an unknown kind and a missing --dir with exit 2', async () => {
    const kind = await cli(['get', 'widgets', '--dir', dir], env);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('unknown kind "widgets"');
    const noDir = await cli(['get'], env);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain('--dir');
  });

  test('diff exits 1 and names the path after an out-of-band change, and changes nothing', async () => {
    // Stop ingressd first, or its drift check would put the route back before diff looks.
    await ingressd.stop();
    const servers = JSON.parse((await adminRequest(PORTS.admin, 'GET', '/config/apps/http/servers')).body) as Record<string, { listen: string[] }>;
    const name = Object.keys(servers).find((n) => n.startsWith('ingress-') && servers[n]!.listen.some((l) => l.endsWith(`:${API}`)));
    expect(name).toBeDefined();
    expect((await adminRequest(PORTS.admin, 'DELETE', `/config/apps/http/servers/${name}/routes/0`)).status).toBe(200);
    const before = (await adminRequest(PORTS.admin, 'GET', '/config/')).body;

    const text = await cli(['diff', '--dir', dir], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`/servers/${name}/routes/0`);
    expect(text.stdout).toContain('api.test');
    expect(text.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ change\(s\)$/);

    const json = await cli(['diff', '--dir', dir, '--json'], env);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { inSync: boolean; patch: { op: string; path: string }[] };
    expect(parsed.inSync).toBe(false);
    expect(parsed.patch.some((op) => op.path.startsWith(`/servers/${name}/routes/0`))).toBe(true);
    expect((await adminRequest(PORTS.admin, 'GET', '/config/')).body).toBe(before);
  });

  test('diff exits 2 naming the admin address it tried and how to change it when Caddy does not answer', async () => {
    // Nothing listens on this address: Caddy's admin API is bound to 127.0.0.1 only.
    const out = await cli(['diff', '--dir', dir], { ...env, CADDY_ADMIN_ADDRESS: BACKEND_HOST });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain(`http://${BACKEND_HOST}:${PORTS.admin}`);
    expect(out.stderr).toContain('CADDY_ADMIN_ADDRESS/CADDY_ADMIN_PORT');
    expect(out.stderr).toContain('--admin-address/--admin-port');
  });
});
