/**
 * The live loop as the controller wires it, on a fake clock against an in-memory Caddy: the
 * initial scan before the first write, bursts collapsed into one write, backoff while Caddy is
 * down, `idle()` and `stop()`. Manifests are real files in a temp directory; the watcher is
 * replaced by direct calls, so no event or timer outside the fake clock decides an outcome.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../../src/controller/controller.js';
import { resolveOptions } from '../../src/controller/options.js';
import type { Runtime } from '../../src/controller/runtime.js';
import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import { silentLogger } from '../../src/model/logger.js';
import { FakeClock, flushPromises } from '../helpers/fake-clock.js';
import { MemoryCaddy } from '../helpers/memory-caddy.js';

const ingress = (name: string): string => JSON.stringify({ kind: 'Ingress', name, rules: [{ match: { hostname: `${name}.test`, port: 18080 }, target: { instance: 'web', port: 8080 } }] });

let dir: string;
let clock: FakeClock;
let caddy: MemoryCaddy;
let controller: Controller;
let onPath: (file: string) => void;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ingressd-controller-'));
  clock = new FakeClock();
  caddy = new MemoryCaddy();
  const options = resolveOptions({ MANIFEST_DIR: join(dir, 'manifests'), DATA_DIR: join(dir, 'data'), CADDY_LISTEN_ADDRESS: '127.0.0.1' }, {}, { cwd: dir, isTty: false });
  const runtime: Runtime = {
    options,
    caddyClient: caddy,
    caddy: { managed: false, isProcessAlive: () => false, restart: async () => undefined, stop: async () => undefined },
    dns: () => undefined,
    restartDns: async () => undefined,
    publishInstances: async () => undefined,
    saveAppliedConfig: async () => undefined,
    caddyIdentity: { learn: async () => ({ ...DEFAULT_CADDY, binary: 'memory', key: 'memory' }), changed: async () => false },
  };
  controller = new Controller(options, {
    logger: silentLogger,
    dnsCommand: [],
    clock,
    startRuntime: async () => runtime,
    watch: async (watcher) => {
      onPath = watcher.onPath;
      return { settling: () => 0, close: async () => undefined };
    },
    isListenFree: async () => true,
  });
});

afterEach(async () => {
  await controller.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Lets the workers run, moving the fake clock `ms` forward in 5 ms steps. */
async function run(ms: number): Promise<void> {
  for (let t = 0; t <= ms; t += 5) {
    for (let i = 0; i < 5; i++) await flushPromises();
    clock.advance(5);
  }
}

async function writeManifest(name: string): Promise<void> {
  await writeFile(join(dir, 'manifests', `${name}.json`), ingress(name));
}

describe('Controller', () => {
  it('finds a manifest the watcher never reported at the next resync (RESYNC_INTERVAL)', async () => {
    await controller.start();
    await run(50);
    await controller.whenReady();
    await writeManifest('late'); // no watcher event
    await run(50);
    expect(caddy.hosts('ingress-18080')).toEqual([]);
    clock.advance(30_000);
    // The rescan reads the directory for real: give its I/O real turns of the event loop.
    for (let i = 0; i < 100 && caddy.hosts('ingress-18080').length === 0; i++) await run(20);
    expect(caddy.hosts('ingress-18080')).toEqual(['late.test']);
  });

  it('parses every manifest on disk before its first write, which holds them all, then is ready', async () => {
    await mkdir(join(dir, 'manifests'), { recursive: true });
    for (const name of ['a', 'b', 'c']) await writeManifest(name);
    await controller.start();
    await run(50);
    expect(controller.ready).toBe(true);
    expect(caddy.writes).toBe(1);
    expect(caddy.hosts('ingress-18080').sort()).toEqual(['a.test', 'b.test', 'c.test']);
  });

  it('collapses a burst of manifest events into one Caddy write after the debounce', async () => {
    await controller.start();
    await run(50);
    expect(caddy.writes).toBe(1);
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await writeManifest(name);
      onPath(`${name}.json`);
      await run(5);
    }
    await run(300);
    await controller.idle();
    expect(caddy.writes).toBe(2);
    expect(caddy.hosts('ingress-18080')).toHaveLength(5);
  });

  it('retries an unreachable Caddy with backoff, and applies once it answers again', async () => {
    await controller.start();
    await run(50);
    caddy.unreachable = true;
    await writeManifest('a');
    controller.enqueueFile('a.json');
    await run(200);
    expect(caddy.writes).toBe(1);
    expect(controller.reconciler.status('a.json')).toBeUndefined();
    caddy.unreachable = false;
    await run(2_000);
    await controller.idle();
    expect(caddy.writes).toBe(2);
    expect(caddy.hosts('ingress-18080')).toEqual(['a.test']);
    expect(controller.reconciler.status('a.json')?.conditions.find((c) => c.type === 'Programmed')?.status).toBe('True');
  });

  it('resolves idle() only once the debounce has fired and the queue has drained', async () => {
    await controller.start();
    await run(50);
    await writeManifest('a');
    controller.enqueueFile('a.json');
    let idle = false;
    void controller.idle().then(() => (idle = true));
    await run(10);
    expect(idle).toBe(false);
    await run(300);
    expect(idle).toBe(true);
    expect(caddy.writes).toBe(2);
  });
});
