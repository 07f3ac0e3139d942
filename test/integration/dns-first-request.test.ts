/**
 * The first requests for a new instance are served, not refused: Caddy (dns upstream mode) gets a
 * config naming `<instance>.<zone>` only once the instance DNS answers it, at start-up and when an
 * instance is added while running. A client polls the host every few milliseconds from before the
 * route exists: once Caddy answers with anything but "no such route" (connection refused before the
 * first config, 404 for a host not yet routed), every answer must be the backend's 200.
 * Real ingressd, real Caddy (any version), real DNS process, real backend.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { freePort, get, killDaemons, removeDir, startBackend, startIngressd, tempDir, waitFor, waitReady, writeJson, type Backend, type IngressdProcess } from '../helpers/processes.js';

/** Polls `host` until `stop()`, recording each answer's status (0: no connection). */
function poll(port: number, host: string): { stop(): Promise<number[]> } {
  const seen: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const answer = await get(port, host, '/', 2_000).catch(() => undefined);
      seen.push(answer?.status ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** The answers from the first one that is neither "no connection" nor "no route yet" (404). */
const afterRouted = (seen: readonly number[]): number[] => seen.slice(Math.max(0, seen.findIndex((s) => s !== 0 && s !== 404)));

describe('first requests to a new instance (dns upstream mode)', () => {
  let base: string;
  let backend: Backend;
  let ingressd: IngressdProcess | undefined;

  afterAll(async () => {
    await ingressd?.stop();
    if (base !== undefined) await killDaemons(join(base, 'data'));
    await backend?.close();
    if (base !== undefined) await removeDir(base);
  });

  test('at start-up and for an instance added while running, every routed answer is 200', async () => {
    base = await tempDir('dns-first');
    const dir = join(base, 'manifests');
    const http = await freePort();
    backend = await startBackend('first', '127.0.0.2', await freePort());
    await writeJson(join(dir, 'one.instance.json'), { kind: 'Instance', name: 'one', address: '127.0.0.2' });
    await writeJson(join(dir, 'one.json'), { name: 'one', rules: [{ match: { hostname: 'one.test', port: http }, target: { instance: 'one', port: backend.port } }] });
    const atStart = poll(http, 'one.test');
    ingressd = startIngressd({ dir, dataDir: join(base, 'data'), ports: { admin: await freePort(), dns: await freePort() } });
    await waitReady(ingressd, 30_000);
    await waitFor('one.test served', async () => (await get(http, 'one.test')).status === 200 || undefined);
    const startSeen = afterRouted(await atStart.stop());
    expect(startSeen.length).toBeGreaterThan(0);
    expect(startSeen.filter((s) => s !== 200)).toEqual([]);

    const whileRunning = poll(http, 'two.test');
    await writeJson(join(dir, 'two.instance.json'), { kind: 'Instance', name: 'two', address: '127.0.0.2' });
    await writeJson(join(dir, 'two.json'), { name: 'two', rules: [{ match: { hostname: 'two.test', port: http }, target: { instance: 'two', port: backend.port } }] });
    await waitFor('two.test served', async () => (await get(http, 'two.test')).status === 200 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const runningSeen = afterRouted(await whileRunning.stop());
    expect(runningSeen.length).toBeGreaterThan(10);
    expect(runningSeen.filter((s) => s !== 200)).toEqual([]);
  }, 60_000);
});
