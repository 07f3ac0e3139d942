/**
 * `ingressd fleet` against three real nodes, each a whole stack (ingressd, its Caddy bound to its
 * own loopback address 127.0.0.21-23, its instance DNS, its own DATA_DIR and STATUS_DIR and API),
 * all watching one shared manifest directory, as nodes on a shared or replicated tree do:
 * - every status file and `/readyz` names its node (NODE_NAME), `/metrics` has ingressd_node_info;
 * - `fleet --wait` exits 0 once all three serve the same generations, with a table per node;
 * - an ingress created through one node's API is served by all three;
 * - with one node's ingressd stopped, `fleet` exits 1 naming it (its Caddy keeps serving);
 * - restarted with API_WRITES=off, that node's API refuses writes with `read_only_source`, and the
 *   fleet converges again.
 * Runs on every Caddy (nothing here depends on the version).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { callApi } from '../helpers/api-client.js';
import { condition, freePort, getAt, killDaemons, readStatus, removeDir, runCliAsync, startBackend, startIngressd, tempDir, waitFor, waitReady, writeJson, type Backend, type IngressdProcess } from '../helpers/processes.js';

interface Node {
  readonly name: string;
  readonly address: string;
  readonly dataDir: string;
  readonly statusDir: string;
  readonly api: number;
  readonly admin: number;
  readonly dns: number;
  ingressd: IngressdProcess;
}

describe('ingressd fleet over three nodes sharing one manifest tree', () => {
  let dir: string;
  let base: string;
  let backend: Backend;
  let http: number;
  const nodes: Node[] = [];
  const urls = (): string[] => nodes.map((n) => `http://127.0.0.1:${n.api}`);

  const start = (node: Node, env: Readonly<Record<string, string>> = {}): IngressdProcess =>
    startIngressd({
      dir,
      dataDir: node.dataDir,
      ports: { admin: node.admin, dns: node.dns, api: node.api },
      env: { NODE_NAME: node.name, STATUS_DIR: node.statusDir, CADDY_LISTEN_ADDRESS: node.address, ...env },
    });

  beforeAll(async () => {
    base = await tempDir('fleet-command');
    dir = join(base, 'manifests');
    http = await freePort();
    backend = await startBackend('shop-backend', '127.0.0.2', await freePort());
    await writeJson(join(dir, 'app.instance.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'shop.json'), { name: 'shop', rules: [{ match: { hostname: 'shop.test', port: http }, target: { instance: 'app', port: backend.port } }] });
    for (const [i, name] of ['fleet-a', 'fleet-b', 'fleet-c'].entries()) {
      const node: Omit<Node, 'ingressd'> = {
        name,
        address: `127.0.0.${21 + i}`,
        dataDir: join(base, name, 'data'),
        statusDir: join(base, name, 'status'),
        api: await freePort(),
        admin: await freePort(),
        dns: await freePort(),
      };
      const full = node as Node;
      full.ingressd = start(full);
      nodes.push(full);
    }
    await Promise.all(nodes.map((n) => waitReady(n.ingressd, 30_000)));
  }, 60_000);

  afterAll(async () => {
    for (const node of nodes) {
      await node.ingressd.stop();
      await killDaemons(node.dataDir);
    }
    await backend?.close();
    await removeDir(base);
  });

  test('converged: every node serves the same generations; statuses, /readyz and /metrics name the node', async () => {
    const result = await runCliAsync(['fleet', '--wait', '20s', ...urls()], {});
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^KIND\s+NAME\s+fleet-a\s+fleet-b\s+fleet-c\s+AGREED$/);
    expect(lines.slice(1, 3).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['Ingress', 'shop'], ['Instance', 'app']]);
    expect(lines[1]).toMatch(/^Ingress\s+shop\s+([0-9a-f]{12}) True\s+\1 True\s+\1 True\s+yes$/);
    expect(lines.at(-1)).toBe('converged: 3 nodes serve the same 2 resources');
    for (const node of nodes) {
      expect(await getAt(node.address, http, 'shop.test')).toMatchObject({ status: 200, body: 'shop-backend' });
      expect(JSON.parse(readFileSync(join(node.statusDir, 'shop.status.json'), 'utf8'))).toMatchObject({ node: node.name, conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]) });
      expect((await callApi(node.api, '/readyz')).json).toEqual({ ready: true, node: node.name });
      expect((await callApi(node.api, '/metrics')).text).toContain(`ingressd_node_info{node="${node.name}"} 1`);
    }
    const json = await runCliAsync(['fleet', '-o', 'json', ...urls()], {});
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { converged: boolean; nodes: string[]; resources: { kind: string; name: string; agreed: boolean; nodes: Record<string, { ready: string }> }[]; problems: string[] };
    expect(parsed).toMatchObject({ converged: true, nodes: ['fleet-a', 'fleet-b', 'fleet-c'], problems: [] });
    expect(parsed.resources.map((r) => [r.kind, r.name, r.agreed, Object.keys(r.nodes)])).toEqual([
      ['Ingress', 'shop', true, ['fleet-a', 'fleet-b', 'fleet-c']],
      ['Instance', 'app', true, ['fleet-a', 'fleet-b', 'fleet-c']],
    ]);
  });

  test('an ingress created through one node is served by all three', async () => {
    const created = await callApi(nodes[1]!.api, '/ingresses', { method: 'POST', body: { name: 'made-on-b', rules: [{ match: { hostname: 'b.test', port: http }, target: { instance: 'app', port: backend.port } }] } });
    expect(created.status).toBe(201);
    for (const node of nodes) {
      await waitFor(`b.test on ${node.name}`, async () => (await getAt(node.address, http, 'b.test').catch(() => undefined))?.body === 'shop-backend' || undefined, 10_000);
    }
    const result = await runCliAsync(['fleet', '--wait', '10s', ...urls()], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Ingress\s+made-on-b\s+([0-9a-f]{12}) True\s+\1 True\s+\1 True\s+yes$/m);
  });

  test('a node whose ingressd is down: not converged, naming it; its Caddy still serves', async () => {
    const c = nodes[2]!;
    await c.ingressd.stop();
    const result = await runCliAsync(['fleet', ...urls()], {});
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`not converged:\n  - http://127.0.0.1:${c.api}: cannot be asked: fetch failed`);
    expect(await getAt(c.address, http, 'shop.test')).toMatchObject({ status: 200, body: 'shop-backend' });
  });

  test('restarted with API_WRITES=off: its writes are refused with where to change the state; the fleet converges', async () => {
    const c = nodes[2]!;
    c.ingressd = start(c, { API_WRITES: 'off' });
    await waitReady(c.ingressd, 30_000);
    const refused = await callApi(c.api, '/ingresses', { method: 'POST', body: { name: 'made-on-c', rules: [{ match: { hostname: 'c.test', port: http }, target: { instance: 'app', port: backend.port } }] } });
    expect(refused.status).toBe(409);
    expect(refused.json).toEqual({ code: 'read_only_source', message: expect.stringMatching(/^POST \/ingresses cannot write the manifest: API_WRITES=off: this node takes its manifests from elsewhere\. Change the desired state where it comes from/) });
    expect((await callApi(c.api, '/instances/app', { method: 'DELETE' })).json).toMatchObject({ code: 'read_only_source' });
    const result = await runCliAsync(['fleet', '--wait', '20s', ...urls()], {});
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('made-on-c');
  });

  test('a node that starts with an empty STATUS_DIR settles an old conflict by name: not converged, and the fleet command says why', async () => {
    const rule = { match: { hostname: 'z.test', port: http }, target: { instance: 'app', port: backend.port } };
    const reason = async (node: Node, stem: string): Promise<string | undefined> => condition(await readStatus(node.statusDir, stem), 'Ready')?.reason;
    await writeJson(join(dir, 'zeta.json'), { name: 'zeta', rules: [rule] });
    for (const node of nodes) await waitFor(`zeta Ready on ${node.name}`, async () => (await reason(node, 'zeta')) === 'Ready' || undefined, 10_000);
    // alpha, added later, loses z.test on every node: they agree.
    await writeJson(join(dir, 'alpha.json'), { name: 'alpha', rules: [rule] });
    for (const node of nodes) await waitFor(`alpha HostnameConflict on ${node.name}`, async () => (await reason(node, 'alpha')) === 'HostnameConflict' || undefined, 10_000);
    expect((await runCliAsync(['fleet', '--wait', '10s', ...urls()], {})).code).toBe(0);
    // Node c starts again without its status files (a new pod with an emptyDir): no history, so it
    // settles the conflict by name, and alpha wins there.
    const c = nodes[2]!;
    await c.ingressd.stop();
    await rm(c.statusDir, { recursive: true, force: true });
    c.ingressd = start(c);
    await waitReady(c.ingressd, 30_000);
    await waitFor('zeta HostnameConflict on fleet-c', async () => (await reason(c, 'zeta')) === 'HostnameConflict' || undefined, 10_000);
    const split = await runCliAsync(['fleet', ...urls()], {});
    expect(split.code).toBe(1);
    expect(split.stdout).toContain('Ingress zeta: Ready differs: fleet-a True (Ready), fleet-b True (Ready), fleet-c False (HostnameConflict): the nodes settled a conflict differently');
    expect(split.stdout).toContain('remove the conflict from the tree');
    // Fixed in the tree: every node serves zeta again.
    await rm(join(dir, 'alpha.json'));
    const fixed = await runCliAsync(['fleet', '--wait', '20s', ...urls()], {});
    expect(fixed.stdout).not.toContain('alpha');
    expect(fixed.code).toBe(0);
  });

  test('usage: no nodes, or a bad --wait, is exit 2 with the fix', async () => {
    const none = await runCliAsync(['fleet'], {});
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('name the nodes: ingressd fleet http://10.0.0.11:8089')]);
    const wait = await runCliAsync(['fleet', '--wait', 'soon', urls()[0]!], {});
    expect([wait.code, wait.stderr]).toEqual([2, expect.stringContaining('--wait must be a duration such as 30s or 2m, got "soon"')]);
  });
});
