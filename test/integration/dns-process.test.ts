import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UDPClient } from 'dns2';
import { isIngressdError } from '../../src/model/errors.js';
import { writeRegistry } from '../../src/dns/registry-file.js';
import { ensureDnsProcess, type DnsProcessHandle } from '../../src/dns/supervisor.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'dns', 'main.js');
const ZONE = 'ingressd.internal';
const spawned = new Set<number>();
let dataDir: string;

const options = (overrides: { zone?: string; port?: number } = {}) => ({
  dataDir,
  address: '127.0.0.1',
  port: overrides.port ?? 0,
  zone: overrides.zone ?? ZONE,
  command: [process.execPath, MAIN],
});
const ask = (port: number, name: string) => UDPClient({ dns: '127.0.0.1', port, timeout: 1000 })(name, 'A');
const track = (handle: DnsProcessHandle): DnsProcessHandle => (spawned.add(handle.pid), handle);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ingressd-dns-process-'));
  // Built by `npm test` before jest starts. Building here raced the other test files, which run
  // dist/ at the same time (a half-written module failed an unrelated CLI test).
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does) before jest`);
}, 120_000);

afterAll(async () => {
  for (const pid of spawned) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

describe('DNS process supervisor', () => {
  let first: DnsProcessHandle;

  test('starts a detached DNS process that answers and writes its state file', async () => {
    first = track(await ensureDnsProcess(options()));
    expect(first).toMatchObject({ adopted: false, registryPath: join(dataDir, 'dns', 'registry.json') });
    expect(first.isAlive()).toBe(true);
    expect(first.port).toBeGreaterThan(0);
    const state = JSON.parse(await readFile(join(dataDir, 'dns', 'dns.json'), 'utf8'));
    expect(state).toMatchObject({ pid: first.pid, port: first.port, address: '127.0.0.1', zone: ZONE, registryPath: first.registryPath });
    const r = await ask(first.port, `unknown.${ZONE}`);
    expect([r.header.rcode, r.header.aa]).toEqual([3, 1]);
  });

  test('answers a rewritten registry within 2 s', async () => {
    await writeRegistry(first.registryPath, ZONE, [{ name: 'web', id: 'id-web', address: '127.0.0.2' }]);
    expect(await answerWithin(first.port, `web.${ZONE}`, '127.0.0.2', 2000)).toBe(true);
    await writeRegistry(first.registryPath, ZONE, [{ name: 'web', id: 'id-web', address: '127.0.0.3' }]);
    expect(await answerWithin(first.port, `id-web.${ZONE}`, '127.0.0.3', 2000)).toBe(true);
  });

  test('adopts the running process on a second call', async () => {
    const again = track(await ensureDnsProcess(options({ port: first.port })));
    expect([again.pid, again.port, again.adopted]).toEqual([first.pid, first.port, true]);
    expect(again.isAlive()).toBe(true);
  });

  test('replaces the running process when the zone differs', async () => {
    const other = track(await ensureDnsProcess(options({ zone: 'other.internal' })));
    expect(other.adopted).toBe(false);
    expect(other.pid).not.toBe(first.pid);
    expect(first.isAlive()).toBe(false);
    const r = await ask(other.port, `web.other.internal`);
    expect(r.answers.map((a) => a.address)).toEqual(['127.0.0.3']); // same registry file, new zone
    first = other;
  });

  test('stop() ends the process and removes its state file', async () => {
    await first.stop();
    expect(first.isAlive()).toBe(false);
    expect(existsSync(join(dataDir, 'dns', 'dns.json'))).toBe(false);
  });

  test('outlives the process that started it', async () => {
    const ownDir = join(dataDir, 'short-lived-controller');
    const supervisor = join(ROOT, 'dist', 'src', 'dns', 'supervisor.js');
    const script = `
      const { ensureDnsProcess } = await import(${JSON.stringify(supervisor)});
      const h = await ensureDnsProcess(${JSON.stringify({ ...options(), dataDir: ownDir })});
      console.log(JSON.stringify({ pid: h.pid, port: h.port }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    const started = JSON.parse(stdout) as { pid: number; port: number };
    spawned.add(started.pid);
    const r = await ask(started.port, `unknown.${ZONE}`); // its starter has exited
    expect(r.header.rcode).toBe(3);
    const adopted = await ensureDnsProcess({ ...options(), dataDir: ownDir });
    expect([adopted.pid, adopted.adopted]).toEqual([started.pid, true]);
    await adopted.stop();
    expect(adopted.isAlive()).toBe(false);
  });

  test('fails with dns_start_failed naming the log file when the process cannot start', async () => {
    const started = Date.now();
    const err = await ensureDnsProcess({
      ...options(),
      command: [process.execPath, '-e', 'console.error("dns boom"); process.exit(3)', '--'],
      startTimeoutMs: 3000,
    }).catch((e: unknown) => e);
    expect(isIngressdError(err, 'dns_start_failed')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain(join(dataDir, 'dns', 'dns.log'));
    expect(message).toContain('dns boom');
    expect(Date.now() - started).toBeLessThan(3000); // the exit is noticed, not waited out
  });
});

async function answerWithin(port: number, name: string, address: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await ask(port, name).catch(() => undefined);
    if (r?.answers.some((a) => a.address === address)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}
