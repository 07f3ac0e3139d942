import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.js';
import { ensureCaddy, type CaddyDaemon, type CaddyDaemonOptions } from '../../src/controller/caddy-daemon.js';
import { createCaddyClient, type CaddyClient } from '../../src/reconciler/caddy-client.js';
import { IngressdError } from '../../src/model/errors.js';
import { isProcessAlive } from '../../src/platform/process-alive.js';

const CADDY_BINARY = process.env['CADDY_BINARY'] ?? 'caddy';

/** A process that exited but is not reaped yet (a zombie) counts as gone. */
function isAlive(pid: number): boolean {
  return isProcessAlive(pid);
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startFailure(promise: Promise<unknown>): Promise<IngressdError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(IngressdError);
    expect((err as IngressdError).code).toBe('caddy_start_failed');
    return err as IngressdError;
  }
  throw new Error('expected caddy_start_failed');
}

const logger = { info: (): void => undefined, warn: (): void => undefined };

describe('ensureCaddy with a real Caddy 2.6.2', () => {
  let root: string;
  let dataDir: string;
  let adminPort: number;
  let client: CaddyClient;
  let options: CaddyDaemonOptions;
  let daemon: CaddyDaemon;
  /** Every pid these tests caused to exist, killed in afterAll whatever happened. */
  const pids = new Set<number>();
  const track = (d: CaddyDaemon): CaddyDaemon => {
    if (d.pid !== undefined) pids.add(d.pid);
    return d;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ingressd-caddy-daemon-'));
    dataDir = join(root, 'data');
    adminPort = await freePort();
    client = createCaddyClient({ adminAddress: '127.0.0.1', adminPort, timeoutMs: 5_000 });
    options = { binary: CADDY_BINARY, adminAddress: '127.0.0.1', adminPort, dataDir, startTimeoutMs: 10_000, logger };
  });

  afterAll(async () => {
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await waitFor(() => [...pids].every((pid) => !isAlive(pid)), 5_000);
    await rm(root, { recursive: true, force: true });
  });

  it('starts Caddy when nothing answers, fixing admin.listen in an existing config file', async () => {
    await mkdir(join(dataDir, 'caddy'), { recursive: true });
    const configFile = join(dataDir, 'caddy', 'config.json');
    await writeFile(configFile, JSON.stringify({ admin: { listen: 'localhost:2019', enforce_origin: false }, logging: { logs: { default: { level: 'INFO' } } } }));

    daemon = track(await ensureCaddy(options, client));

    expect(daemon.origin).toBe('started');
    expect(daemon.managed).toBe(true);
    expect(daemon.pid).toEqual(expect.any(Number));
    expect(daemon.isProcessAlive()).toBe(true);
    expect(await client.ping()).toBe(true);
    expect(Number(await readFile(join(dataDir, 'caddy', 'caddy.pid'), 'utf8'))).toBe(daemon.pid);
    expect(JSON.parse(await readFile(configFile, 'utf8'))).toEqual({
      admin: { listen: `127.0.0.1:${adminPort}`, enforce_origin: false },
      logging: { logs: { default: { level: 'INFO' } } },
    });
    expect((await stat(join(dataDir, 'caddy', 'caddy.log'))).size).toBeGreaterThan(0);
  });

  it('runs Caddy with its XDG dirs under <dataDir>/caddy', async () => {
    await client.load({ admin: { listen: `127.0.0.1:${adminPort}` } });
    await waitFor(async () => (await stat(join(dataDir, 'caddy', 'config', 'caddy', 'autosave.json')).catch(() => undefined)) !== undefined, 5_000);
  });

  it('adopts a Caddy whose admin API answers, as managed when the pid file names it', async () => {
    const again = await ensureCaddy(options, client);
    expect(again.origin).toBe('adopted-admin');
    expect(again.pid).toBe(daemon.pid);
    expect(again.managed).toBe(true);
  });

  it('adopts a Caddy it did not start as unmanaged, with no pid', async () => {
    const elsewhere = await ensureCaddy({ ...options, dataDir: join(root, 'other') }, client);
    expect(elsewhere.origin).toBe('adopted-admin');
    expect(elsewhere.managed).toBe(false);
    expect(elsewhere.pid).toBeUndefined();
    expect(elsewhere.isProcessAlive()).toBe(false);
  });

  it('adopts the Caddy named by the pid file when its admin API answers only after a wait', async () => {
    let pings = 0;
    const slowFirst: CaddyClient = { ...client, ping: async (ms) => (++pings === 1 ? false : client.ping(ms)) };
    const adopted = await ensureCaddy(options, slowFirst);
    expect(adopted.origin).toBe('adopted-pid');
    expect(adopted.pid).toBe(daemon.pid);
    expect(adopted.managed).toBe(true);
  });

  it('restarts a managed Caddy after it was killed with SIGKILL', async () => {
    const oldPid = daemon.pid!;
    process.kill(oldPid, 'SIGKILL');
    await waitFor(() => !daemon.isProcessAlive(), 5_000);
    expect(await client.ping()).toBe(false);

    await daemon.restart();
    track(daemon);

    expect(daemon.origin).toBe('started');
    expect(daemon.pid).not.toBe(oldPid);
    expect(daemon.isProcessAlive()).toBe(true);
    expect(await client.ping()).toBe(true);
    expect(Number(await readFile(join(dataDir, 'caddy', 'caddy.pid'), 'utf8'))).toBe(daemon.pid);
  });

  it('stops Caddy through the admin API and removes the pid file', async () => {
    const pid = daemon.pid!;
    await daemon.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await client.ping()).toBe(false);
    await expect(stat(join(dataDir, 'caddy', 'caddy.pid'))).rejects.toThrow();
  });

  it.each([
    ['an absolute path that does not exist', '/nonexistent/bin/caddy'],
    ['a name that is not on PATH', 'caddy-not-installed-anywhere'],
  ])('fails with caddy_start_failed and the install hint for %s', async (_name, binary) => {
    const port = await freePort();
    const nobody = createCaddyClient({ adminAddress: '127.0.0.1', adminPort: port });
    const err = await startFailure(ensureCaddy({ ...options, binary, adminPort: port, dataDir: join(root, 'missing') }, nobody));
    expect(err.message).toContain('apt-get install caddy');
    expect(err.message).toContain('CADDY_BINARY');
  });

  it('kills a Caddy whose admin API stays silent, removes the pid file and quotes the log', async () => {
    const port = await freePort();
    const fakeDir = join(root, 'fake-silent');
    await mkdir(fakeDir, { recursive: true });
    const fake = join(fakeDir, 'caddy');
    const fakePidFile = join(fakeDir, 'fake.pid');
    await writeFile(fake, `#!/bin/sh\necho $$ > ${fakePidFile}\necho "fake caddy never opens its admin API"\nexec sleep 60\n`);
    await chmod(fake, 0o755);
    const nobody = createCaddyClient({ adminAddress: '127.0.0.1', adminPort: port });
    const fakeData = join(fakeDir, 'data');

    const err = await startFailure(ensureCaddy({ ...options, binary: fake, adminPort: port, dataDir: fakeData, startTimeoutMs: 500 }, nobody));

    const fakePid = Number(await readFile(fakePidFile, 'utf8'));
    pids.add(fakePid);
    expect(err.message).toContain(join(fakeData, 'caddy', 'caddy.log'));
    expect(err.message).toContain('fake caddy never opens its admin API');
    expect(err.message).toContain('did not answer within 500 ms');
    await waitFor(() => !isAlive(fakePid), 5_000);
    await expect(stat(join(fakeData, 'caddy', 'caddy.pid'))).rejects.toThrow();
  });

  it('fails fast when Caddy exits during start, quoting the log', async () => {
    const port = await freePort();
    const fakeDir = join(root, 'fake-exit');
    await mkdir(fakeDir, { recursive: true });
    const fake = join(fakeDir, 'caddy');
    await writeFile(fake, '#!/bin/sh\necho "Error: loading initial config: boom" >&2\nexit 1\n');
    await chmod(fake, 0o755);
    const nobody = createCaddyClient({ adminAddress: '127.0.0.1', adminPort: port });
    const started = Date.now();

    const err = await startFailure(ensureCaddy({ ...options, binary: fake, adminPort: port, dataDir: join(fakeDir, 'data'), startTimeoutMs: 10_000 }, nobody));

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.message).toContain('exited (exit code 1)');
    expect(err.message).toContain('loading initial config: boom');
  });
});
