/**
 * The shipped Ansible example (manifests/deploy/ansible/deploy-ingress.yml), run for real with
 * Debian's ansible-core over a local connection against a real `ingressd run` (with STATUS_DIR,
 * so the playbook reads status where ingressd writes it) and real Caddy: a play that drops a
 * manifest and waits for Ready, then a play whose manifest is broken and fails with ingressd's
 * status message, while the ingress it would have replaced keeps serving.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  condition,
  freePort,
  get,
  killDaemons,
  readStatus,
  removeDir,
  ROOT,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  type Backend,
  type IngressdProcess,
} from '../helpers/processes.js';

const PLAYBOOK = join(ROOT, 'manifests', 'deploy', 'ansible', 'deploy-ingress.yml');

interface PlayResult {
  readonly code: number | null;
  readonly output: string;
}

describe('the Ansible example, run for real', () => {
  let base: string;
  let dir: string;
  let statusDir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let backend: Backend;
  let backendPort = 0;
  let http = 0;

  /** ansible-playbook against localhost over a local connection, its scratch files under `base`. */
  function play(vars: Readonly<Record<string, unknown>>): Promise<PlayResult> {
    const varsFile = join(base, `vars-${Date.now()}.json`);
    writeFileSync(varsFile, JSON.stringify({ ingressd_hosts: 'all', ingressd_become: false, ingressd_manifest_dir: dir, ingressd_status_dir: statusDir, ingressd_ready_timeout_seconds: 20, ...vars }));
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: base,
      ANSIBLE_LOCAL_TEMP: join(base, 'ansible-tmp'),
      ANSIBLE_REMOTE_TEMP: join(base, 'ansible-tmp'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
    };
    return new Promise((resolve, reject) => {
      const child = spawn('ansible-playbook', ['-i', 'localhost,', '-c', 'local', PLAYBOOK, '-e', `@${varsFile}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  beforeAll(async () => {
    base = await tempDir('ansible');
    dir = join(base, 'manifests');
    statusDir = join(base, 'status');
    mkdirSync(dir);
    dataDir = await tempDir('ansible-data');
    backendPort = await freePort();
    http = await freePort();
    backend = await startBackend('backend-a', '127.0.0.2', backendPort);
    writeFileSync(join(dir, 'app.json'), JSON.stringify({ kind: 'Instance', name: 'app', address: '127.0.0.2' }));
    ingressd = startIngressd({ dir, dataDir, ports: { admin: await freePort(), dns: await freePort() }, env: { STATUS_DIR: statusDir } });
    await waitReady(ingressd);
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    await removeDir(base);
    await removeDir(dataDir);
  });

  test('a play drops the manifest and succeeds once its status says Ready; the route serves', async () => {
    const result = await play({ ingress_name: 'web', ingress_rules: [{ hostname: 'Web.Test', port: http, instance: 'app', instance_port: backendPort }] });
    expect({ code: result.code, tail: result.output.slice(-1500) }).toMatchObject({ code: 0 });
    expect(result.output).toContain('web is Ready: Traffic for every rule is served.');
    expect((await get(http, 'web.test')).body).toBe('backend-a');
    expect(condition(await readStatus(statusDir, 'web'), 'Ready')?.status).toBe('True');
  }, 120_000);

  test('a play with a broken manifest fails with the status message; the last valid version keeps serving', async () => {
    const result = await play({ ingress_name: 'web', ingress_rules: [{ hostname: 'web.test', port: 70000, instance: 'app', instance_port: backendPort }] });
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/ingressd rejected .*web\.json \(Invalid\): \/rules\/0\/match\/port: rules\[0\]\.match\.port must be an integer between 1 and 65535, got 70000 \[invalid_request\]/);
    await waitFor('web LastValidVersion', async () => condition(await readStatus(statusDir, 'web'), 'Programmed')?.reason === 'LastValidVersion' || undefined);
    expect((await get(http, 'web.test')).body).toBe('backend-a');
  }, 120_000);
});
