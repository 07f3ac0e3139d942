/**
 * `validate`, `render` and `run` settle a conflict the same way, because they share one pipeline
 * and read precedence from the same status files: three ingresses claim one hostname, one of them
 * with a status file saying it was accepted long ago, one accepted later, one never. Checked with
 * the built CLI, a real `ingressd run`, its status files and a real request through Caddy.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLI,
  condition,
  freePort,
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

// Free ports, taken before the tests (fixed ones collided with the benchmark's range).
const PORTS = { admin: 0, dns: 0 };
let HTTP = 0;
const HOST = 'shop.test';
const NAMES = ['alpha', 'beta', 'gamma'] as const;
type Name = (typeof NAMES)[number];
const BACKENDS: Record<Name, number> = { alpha: 0, beta: 0, gamma: 0 };

function cli(args: readonly string[], env: Readonly<Record<string, string>>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A status file as `run` writes it, saying the manifest has been accepted since `since`. */
function acceptedStatus(name: Name, since: string): object {
  const condition = (type: string, reason: string): object => ({ type, status: 'True', reason, message: '', lastTransitionTime: since });
  return {
    kind: 'Ingress',
    name,
    id: '',
    file: `${name}.json`,
    observedGeneration: '',
    conditions: [condition('Accepted', 'Accepted'), condition('Programmed', 'Programmed')],
    errors: [],
  };
}

async function writeCase(dir: string, withStatuses: boolean): Promise<void> {
  for (const name of [...NAMES]) {
    await writeJson(join(dir, `${name}.json`), { kind: 'Ingress', name, rules: [{ match: { hostname: HOST, port: HTTP }, target: { instance: `${name}-app`, port: BACKENDS[name] } }] });
    await writeJson(join(dir, `${name}-app.json`), { kind: 'Instance', name: `${name}-app`, address: '127.0.0.1' });
  }
  if (!withStatuses) return;
  await writeFile(join(dir, 'beta.status.json'), JSON.stringify(acceptedStatus('beta', '2026-01-01T00:00:00.000Z')));
  await writeFile(join(dir, 'gamma.status.json'), JSON.stringify(acceptedStatus('gamma', '2026-06-01T00:00:00.000Z')));
}

/** Who holds the hostname, as each of validate, render and run says it. */
async function verdicts(dir: string, dataDir: string): Promise<{ validate: Name[]; render: Name[]; run: Name[]; served: string }> {
  const env = { CADDY_LISTEN_ADDRESS: '127.0.0.1', CADDY_ADMIN_PORT: String(PORTS.admin), INTERNAL_DNS_PORT: String(PORTS.dns), DATA_DIR: dataDir };
  const names = [...NAMES];
  const report = JSON.parse(cli(['validate', '--json', dir], env).stdout) as { files: { file: string; valid: boolean }[] };
  const validate = names.filter((n) => report.files.find((f) => f.file.endsWith(`/${n}.json`))?.valid === true);
  const rendered = cli(['render', '--dir', dir], env).stdout;
  const render = names.filter((n) => rendered.includes(`${n}-app.ingressd.internal`));
  const ingressd: IngressdProcess = startIngressd({ dir, dataDir, ports: PORTS });
  try {
    await waitReady(ingressd);
    // The status files written before the run (acceptedStatus) have no observedGeneration: wait
    // until run has written each one itself, or a stale "Accepted" would be read as its verdict.
    const settled = async (n: Name): Promise<string | undefined> => {
      const status = await readStatus(dir, n);
      return status?.observedGeneration ? condition(status, 'Accepted')?.status : undefined;
    };
    await waitFor('every status written by run', async () => (await Promise.all(names.map(settled))).every((s) => s !== undefined));
    const run: Name[] = [];
    for (const n of names) if ((await settled(n)) === 'True') run.push(n);
    const served = await waitFor('the hostname to answer', async () => {
      const answer = await get(HTTP, HOST);
      return answer.status === 200 ? answer.body : undefined;
    });
    return { validate, render, run, served };
  } finally {
    await ingressd.stop();
    await killDaemons(dataDir);
  }
}

describe('validate, render and run agree on a three-way hostname conflict', () => {
  const backends: Backend[] = [];

  beforeAll(async () => {
    PORTS.admin = await freePort();
    PORTS.dns = await freePort();
    HTTP = await freePort();
    for (const name of NAMES) BACKENDS[name] = await freePort();
    for (const name of [...NAMES]) backends.push(await startBackend(name, '127.0.0.1', BACKENDS[name]));
  });

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
  });

  test('with status files: the resource accepted first keeps the hostname, in every command', async () => {
    const dir = await tempDir('agree-status');
    const dataDir = await tempDir('agree-status-data');
    try {
      await writeCase(dir, true);
      const v = await verdicts(dir, dataDir);
      expect(v).toEqual({ validate: ['beta'], render: ['beta'], run: ['beta'], served: 'beta' });
      const alpha = await readStatus(dir, 'alpha');
      expect(alpha?.errors).toEqual([expect.objectContaining({ code: 'hostname_in_use', message: expect.stringContaining('"beta" (beta.json)') })]);
    } finally {
      await removeDir(dir);
      await removeDir(dataDir);
    }
  });

  test('without status files: the first by name keeps it, in every command', async () => {
    const dir = await tempDir('agree-fresh');
    const dataDir = await tempDir('agree-fresh-data');
    try {
      await writeCase(dir, false);
      expect(await verdicts(dir, dataDir)).toEqual({ validate: ['alpha'], render: ['alpha'], run: ['alpha'], served: 'alpha' });
    } finally {
      await removeDir(dir);
      await removeDir(dataDir);
    }
  });
});
