/**
 * A fleet of three nodes over one manifest directory (test/helpers/fleet.ts: ingressd, its Caddy
 * on :80 of 127.0.0.11, .12 or .13, its instance DNS, its own DATA_DIR and STATUS_DIR), plain HTTP:
 * - a manifest change is served by all three within 2 s of the write (measured per node); then
 *   `ingressd fleet` over the three APIs reports the fleet converged, and each status file agrees;
 * - SIGKILL of one node's ingressd and Caddy: the other two answer every request meanwhile, and
 *   the restarted node serves again with zero Caddy writes (counted in its Caddy's own log: the
 *   new Caddy starts from the config the node saved, which is still the desired one);
 * - a rolling restart of the three ingressd processes (SIGTERM, start, ready, one at a time)
 *   under a client that round-robins over the nodes every 20 ms: 0 failed requests, 0 writes.
 *
 * Runs on every Caddy (2.11.9, 2.10.2, Debian's 2.6.2): nothing here depends on the version.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { startFleet, type Fleet, type FleetNode } from '../helpers/fleet.js';
import { caddyWrites, condition, freePort, getAt, readStatus, runCliAsync, sleep, startBackend, waitFor, writeJson, type Backend } from '../helpers/processes.js';

const HOST = 'web.fleet.test';
const PORT = await freePort();
const BLUE = { host: '127.0.0.2', port: PORT };
const GREEN = { host: '127.0.0.3', port: PORT };

function ingress(instance: string): object {
  return { rules: [{ match: { hostname: HOST, port: 80 }, target: { instance, port: PORT } }] };
}

/** A client sending GET to the nodes in turn, one request every `everyMs`, until stopped. */
function clientLoop(nodes: readonly FleetNode[], everyMs: number): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const node = nodes[i % nodes.length]!;
      try {
        const answer = await getAt(node.address, 80, HOST, '/');
        if (answer.status === 200) ok++;
        else failed.push(`${node.name}: ${answer.status} ${answer.body.slice(0, 80)}`);
      } catch (err) {
        failed.push(`${node.name}: ${String(err)}`);
      }
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

describe('a fleet of three nodes over one manifest directory', () => {
  let fleet: Fleet;
  let blue: Backend;
  let green: Backend;

  beforeAll(async () => {
    blue = await startBackend('blue', BLUE.host, BLUE.port);
    green = await startBackend('green', GREEN.host, GREEN.port);
    fleet = await startFleet();
    await writeJson(join(fleet.manifestDir, 'blue.json'), { kind: 'Instance', name: 'blue', address: BLUE.host });
    await writeJson(join(fleet.manifestDir, 'green.json'), { kind: 'Instance', name: 'green', address: GREEN.host });
    await writeJson(join(fleet.manifestDir, 'web.json'), ingress('blue'));
    for (const node of fleet.nodes) await waitFor(`${node.name} serving blue`, async () => (await getAt(node.address, 80, HOST)).body === 'blue');
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await blue?.close();
    await green?.close();
  });

  test('a manifest change is served by all three nodes within 2 s of the write', async () => {
    const writtenAt = Date.now();
    await writeJson(join(fleet.manifestDir, 'web.json'), ingress('green'));
    const servedAfterMs = await Promise.all(
      fleet.nodes.map(async (node) => {
        await waitFor(`${node.name} serving green`, async () => (await getAt(node.address, 80, HOST)).body === 'green', 5_000, 10);
        return Date.now() - writtenAt;
      }),
    );
    expect(Math.max(...servedAfterMs)).toBeLessThan(2_000);
    // The fleet command, asking the three nodes' APIs, says the fleet has converged on it; and
    // each node's own status file says it serves that generation.
    const verdict = await runCliAsync(['fleet', '--wait', '10s', '-o', 'json', ...fleet.nodes.map((node) => node.apiUrl)], {});
    expect(verdict.stderr).toBe('');
    expect(verdict.code).toBe(0);
    const report = JSON.parse(verdict.stdout) as { converged: boolean; nodes: string[]; resources: { kind: string; name: string; agreed: boolean; nodes: Record<string, { observedGeneration: string; ready: string }> }[] };
    expect(report).toMatchObject({ converged: true, nodes: ['node-1', 'node-2', 'node-3'] });
    const web = report.resources.find((r) => r.kind === 'Ingress' && r.name === 'web');
    expect(web).toMatchObject({ agreed: true });
    expect(Object.values(web?.nodes ?? {}).map((n) => n.ready)).toEqual(['True', 'True', 'True']);
    const statuses = await Promise.all(
      fleet.nodes.map((node) => waitFor(`${node.name}: web Ready`, async () => {
        const status = await readStatus(node.statusDir, 'web');
        return condition(status, 'Ready')?.status === 'True' && (status?.routes as { upstream?: string }[] | undefined)?.[0]?.upstream?.startsWith('green.') ? status : undefined;
      })),
    );
    expect([...new Set(statuses.map((s) => s.observedGeneration))]).toEqual([Object.values(web?.nodes ?? {})[0]?.observedGeneration]);
  });

  test('SIGKILL of a node\'s ingressd and Caddy: the others answer every request; the restarted node serves with zero writes', async () => {
    const [node1, node2, node3] = fleet.nodes as [FleetNode, FleetNode, FleetNode];
    const client = clientLoop([node1, node2], 20);
    await sleep(200);
    await node3.kill();
    await expect(getAt(node3.address, 80, HOST, '/', 500)).rejects.toThrow();
    await sleep(500);
    const writesBefore = await caddyWrites(node3.dataDir);
    await node3.start();
    expect((await getAt(node3.address, 80, HOST)).body).toBe('green');
    // A resync (RESYNC_INTERVAL=5s in the fleet) would write if anything still differed.
    await waitFor('node 3 to resync', () => node3.ingressd().output().split('reconciled: Caddy already up to date').length > 2, 15_000);
    const { ok, failed } = await client.stop();
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    expect((await caddyWrites(node3.dataDir)) - writesBefore).toBe(0);
  }, 40_000);

  test('a rolling restart of the three ingressd processes under a round-robin client: 0 failed requests, 0 writes', async () => {
    const writesBefore = await Promise.all(fleet.nodes.map((node) => caddyWrites(node.dataDir)));
    const client = clientLoop(fleet.nodes, 20);
    for (const node of fleet.nodes) {
      await node.stopIngressd('SIGTERM');
      await node.start();
    }
    await sleep(300);
    const { ok, failed } = await client.stop();
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(30);
    expect(await Promise.all(fleet.nodes.map((node) => caddyWrites(node.dataDir)))).toEqual(writesBefore);
  }, 60_000);
});
