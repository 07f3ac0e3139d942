/**
 * Scenario 11's layout: N hosts × 3 paths, one Ingress per host over the four instances of the
 * workload (BACKEND_ADDRESSES), all on PATHS_LISTEN_PORT. Host i is `h<i>.paths.test`:
 * - `/api` (prefix, stripped) → two targets balanced round-robin, inst<(i+2)%4> and inst<(i+3)%4>;
 * - `/static` (prefix) → inst<(i+1)%4>;
 * - the catch-all (no path) → inst<i%4>.
 * Hosts whose rules send to the same targets share a route per path (README, "Paths"), so the
 * config has 12 path routes and 4 host-list routes whatever N is.
 */
import type { Target } from './http-client.js';
import { addressOf, INSTANCE_COUNT, instanceManifest, instanceName, type ManifestFile } from './manifests.js';
import { BACKEND_PORT, PATHS_LISTEN_PORT } from './ports.js';

export const PATHS_DOMAIN = 'paths.test';

export type PathKind = 'api' | 'static' | 'catchAll';

/** A request path each rule answers (and only it, on that host): `/api` is stripped before proxying. */
export const REQUEST_PATHS: Readonly<Record<PathKind, string>> = { api: '/api/v1/items', static: '/static/app.js', catchAll: '/index.html' };

export interface PathsLayout {
  readonly n: number;
  /** Instances first, then ingresses p0..p(N-1). */
  readonly files: readonly ManifestFile[];
}

export function pathsHost(i: number): string {
  return `h${i}.${PATHS_DOMAIN}`;
}

const at = (i: number, shift: number): number => (i + shift) % INSTANCE_COUNT;
const target = (k: number): { instance: string; port: number } => ({ instance: instanceName(k), port: BACKEND_PORT });

/** Ingress p<i>; `apiShift` moves its `/api` targets (1: the targets host i+1 has, for the one change). */
export function pathsIngress(i: number, apiShift = 0): ManifestFile {
  const hostname = pathsHost(i);
  const match = (path?: string) => ({ hostname, port: PATHS_LISTEN_PORT, ...(path === undefined ? {} : { path }) });
  const rules = [
    { match: match('/api'), targets: [target(at(i, 2 + apiShift)), target(at(i, 3 + apiShift))], strip_path_prefix: true },
    { match: match('/static'), target: target(at(i, 1)) },
    { match: match(), target: target(at(i, 0)) },
  ];
  return { file: `p${i}.json`, text: `${JSON.stringify({ kind: 'Ingress', name: `p${i}`, rules }, null, 2)}\n` };
}

export function generatePathsLayout(n: number): PathsLayout {
  const files: ManifestFile[] = [];
  for (let k = 0; k < INSTANCE_COUNT; k++) files.push(instanceManifest(k, addressOf(k)));
  for (let i = 0; i < n; i++) files.push(pathsIngress(i));
  return { n, files };
}

/** The request to host i's rule of `kind` (as generated), with the backend(s) that answer it. */
export function pathsTarget(i: number, kind: PathKind, port = PATHS_LISTEN_PORT): Target {
  const host = pathsHost(i);
  const path = REQUEST_PATHS[kind];
  if (kind === 'api') return { port, host, path, backend: addressOf(at(i, 2)), orBackends: [addressOf(at(i, 3))] };
  return { port, host, path, backend: addressOf(at(i, kind === 'static' ? 1 : 0)) };
}
