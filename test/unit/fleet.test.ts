/**
 * The fleet's parts without processes: NODE_NAME and API_WRITES settings, whether a fleet has
 * converged from its nodes' reports, whether the API may write into a manifest tree (real temp
 * dirs laid out as a ConfigMap volume and a git-sync checkout), and the warning for a status file
 * another node wrote.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetVerdict, type NodeReport, type ReportedResource } from '../../src/cli/commands/fleet-convergence.js';
import { resolveOptions } from '../../src/controller/options.js';
import { refuseUnlessWritable } from '../../src/api/writable-source.js';
import { StatusSync } from '../../src/reconciler/status-sync.js';
import type { ResourceStatus } from '../../src/reconciler/status-types.js';
import { MemoryStatuses } from '../helpers/memory-statuses.js';

const ctx = { cwd: '/srv', isTty: false };

describe('NODE_NAME and API_WRITES', () => {
  test('default to the host name and auto', () => {
    const o = resolveOptions({}, {}, ctx);
    expect(o.node).toBe(hostname());
    expect(o.api.writes).toBe('auto');
  });

  test('are taken from the environment (and --node-name)', () => {
    expect(resolveOptions({ NODE_NAME: 'edge-2', API_WRITES: 'off' }, {}, ctx)).toMatchObject({ node: 'edge-2', api: { writes: 'off' } });
    expect(resolveOptions({ NODE_NAME: 'edge-2' }, { 'node-name': 'edge-3' }, ctx).node).toBe('edge-3');
  });

  test('a node name that is not host-name-like, or an unknown API_WRITES, is refused naming the value', () => {
    expect(() => resolveOptions({ NODE_NAME: 'edge 2' }, {}, ctx)).toThrow('NODE_NAME must be 1-253 letters, digits, dots, dashes or underscores, starting with a letter or digit (such as ingress-2), got "edge 2"');
    expect(() => resolveOptions({ NODE_NAME: '-x' }, {}, ctx)).toThrow(/NODE_NAME must be/);
    expect(() => resolveOptions({ API_WRITES: 'never' }, {}, ctx)).toThrow('API_WRITES must be one of auto, off, got "never"');
  });
});

const status = (generation: string, ready: 'True' | 'False' | 'Unknown', reason = ready === 'True' ? 'Ready' : 'Pending'): ResourceStatus => ({
  kind: 'Ingress',
  name: 'shop',
  id: 'x',
  file: 'shop.json',
  observedGeneration: generation,
  conditions: [{ type: 'Ready', status: ready, reason, message: '', lastTransitionTime: '2026-12-04T00:00:00Z' }],
  errors: [],
});
const shop = (s: ResourceStatus | null): ReportedResource => ({ kind: 'Ingress', name: 'shop', status: s });
const node = (name: string, resources: ReportedResource[], extra: Partial<NodeReport> = {}): NodeReport => ({
  url: `http://${name}:8089`,
  node: name,
  error: undefined,
  ready: true,
  reason: undefined,
  resources,
  ...extra,
});

describe('fleetVerdict', () => {
  test('converged: every node ready, the same generation and Ready everywhere (even Ready=False alike)', () => {
    const verdict = fleetVerdict([node('a', [shop(status('g1', 'True'))]), node('b', [shop(status('g1', 'True'))])]);
    expect(verdict).toMatchObject({ converged: true, nodes: ['a', 'b'], problems: [] });
    expect(verdict.rows).toHaveLength(1);
    expect(verdict.rows[0]!.agreed).toBe(true);
    const invalid = fleetVerdict([node('a', [shop(status('g1', 'False', 'Invalid'))]), node('b', [shop(status('g1', 'False', 'Invalid'))])]);
    expect(invalid.converged).toBe(true);
  });

  test('not converged: each reason named, per node', () => {
    const verdict = fleetVerdict([
      node('a', [shop(status('aaaaaaaaaaaaaaaa', 'True'))]),
      node('b', [shop(status('bbbbbbbbbbbbbbbb', 'True'))]),
      node('c', [shop(null)]),
      node('d', []),
      node('e', [], { node: undefined, error: 'fetch failed: connect ECONNREFUSED', url: 'http://e:8089' }),
      node('f', [shop(status('aaaaaaaaaaaaaaaa', 'Unknown'))], { ready: false, reason: 'waiting for the first sync with Caddy' }),
    ]);
    expect(verdict.converged).toBe(false);
    expect(verdict.nodes).toEqual(['a', 'b', 'c', 'd', 'http://e:8089', 'f']);
    expect(verdict.problems).toEqual([
      'http://e:8089: cannot be asked: fetch failed: connect ECONNREFUSED',
      'f: not ready: waiting for the first sync with Caddy',
      'Ingress shop: not declared on d (its manifest tree differs: is the replication behind?)',
      'Ingress shop: no status yet on c',
      'Ingress shop: nodes serve different versions of the file: a aaaaaaaaaaaa, b bbbbbbbbbbbb, f aaaaaaaaaaaa',
      'Ingress shop: Ready is Unknown on f (Pending)',
    ]);
    expect(verdict.rows[0]!.cells.has('http://e:8089')).toBe(false);
  });

  test('the same generation with a different Ready is a disagreement; two nodes with one name are named', () => {
    const verdict = fleetVerdict([node('a', [shop(status('g1', 'True'))]), node('a', [shop(status('g1', 'False', 'PortInUse'))], { url: 'http://other:8089' })]);
    expect(verdict.nodes).toEqual(['a (http://a:8089)', 'a (http://other:8089)']);
    expect(verdict.problems).toEqual([
      'http://a:8089 and http://other:8089 both call themselves a: give each node its own NODE_NAME',
      'Ingress shop: Ready differs: a (http://a:8089) True (Ready), a (http://other:8089) False (PortInUse)',
    ]);
    expect(verdict.converged).toBe(false);
  });

  test('a conflict settled differently on two nodes is named as such, with the fix', () => {
    const verdict = fleetVerdict([node('a', [shop(status('g1', 'True'))]), node('b', [shop(status('g1', 'False', 'HostnameConflict'))])]);
    expect(verdict.problems).toEqual([
      'Ingress shop: Ready differs: a True (Ready), b False (HostnameConflict): the nodes settled a conflict differently (each keeps the file it accepted first); remove the conflict from the tree',
    ]);
    expect(verdict.converged).toBe(false);
  });

  test('no resources anywhere and every node ready: converged', () => {
    expect(fleetVerdict([node('a', []), node('b', [])])).toMatchObject({ converged: true, rows: [] });
  });
});

describe('refuseUnlessWritable', () => {
  const dirs: string[] = [];
  const temp = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'writable-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('a plain directory takes writes, and the probe leaves nothing behind', async () => {
    const dir = await temp();
    await refuseUnlessWritable('auto', join(dir, 'shop.json'), 'POST /ingresses');
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).toEqual([]);
  });

  test('API_WRITES=off refuses, saying where to change the desired state', async () => {
    const dir = await temp();
    await expect(refuseUnlessWritable('off', join(dir, 'shop.json'), 'POST /ingresses')).rejects.toMatchObject({
      code: 'read_only_source',
      message: expect.stringMatching(/^POST \/ingresses cannot write the manifest: API_WRITES=off: .*Change the desired state where it comes from \(commit the manifest to the repository, update the ConfigMap/),
    });
  });

  test("a kubelet volume (..data) is refused as a ConfigMap, though root could write it", async () => {
    const dir = await temp();
    await mkdir(join(dir, '..2026_12_04_10_00_00.1'));
    await writeFile(join(dir, '..2026_12_04_10_00_00.1', 'shop.json'), '{}');
    await symlink('..2026_12_04_10_00_00.1', join(dir, '..data'));
    await symlink(join('..data', 'shop.json'), join(dir, 'shop.json'));
    await expect(refuseUnlessWritable('auto', join(dir, 'new.json'), 'POST /ingresses')).rejects.toMatchObject({
      code: 'read_only_source',
      message: expect.stringContaining(`${dir} is a Kubernetes ConfigMap, Secret or projected volume`),
    });
  });

  test("a git-sync link (into .worktrees/<hash>) is refused: a write would be lost at the next sync", async () => {
    const root = await temp();
    await mkdir(join(root, '.worktrees', 'abc123', 'team'), { recursive: true });
    await symlink(join('.worktrees', 'abc123'), join(root, 'repo'));
    await expect(refuseUnlessWritable('auto', join(root, 'repo', 'team', 'shop.json'), 'DELETE /ingresses/shop')).rejects.toMatchObject({
      code: 'read_only_source',
      message: expect.stringContaining(`${join(root, 'repo', 'team')} is a link into ${join(root, '.worktrees', 'abc123', 'team')}, a tree published by swapping a link`),
    });
  });
});

describe('a status file another node wrote', () => {
  test('is adopted with one warning naming both nodes and STATUS_DIR', async () => {
    const statuses = new MemoryStatuses();
    const foreign = { ...status('g1', 'True'), node: 'edge-1' };
    statuses.files.set('shop.json', foreign);
    statuses.files.set('cart.json', { ...foreign, name: 'cart', file: 'cart.json' });
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message), info: () => undefined, error: () => undefined, debug: () => undefined };
    const sync = new StatusSync(statuses, resolveOptions({}, {}, ctx).render, () => true, { node: 'edge-2', logger });
    await sync.adopt('shop.json');
    await sync.adopt('cart.json');
    expect(sync.get('shop.json')).toEqual(foreign);
    expect(warnings).toEqual([expect.stringMatching(/^the status of shop\.json was written by node edge-1, not this node \(edge-2\): .*Give each node its own STATUS_DIR/)]);
  });

  test('of this node, or of no node (an older ingressd), is adopted silently', async () => {
    const statuses = new MemoryStatuses();
    statuses.files.set('shop.json', { ...status('g1', 'True'), node: 'edge-2' });
    statuses.files.set('cart.json', { ...status('g1', 'True'), name: 'cart', file: 'cart.json' });
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message), info: () => undefined, error: () => undefined, debug: () => undefined };
    const sync = new StatusSync(statuses, resolveOptions({}, {}, ctx).render, () => true, { node: 'edge-2', logger });
    await sync.adopt('shop.json');
    await sync.adopt('cart.json');
    expect(warnings).toEqual([]);
  });
});
