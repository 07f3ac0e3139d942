/**
 * The generated workload: N ingress manifests over four instances, as the issue describes them.
 *
 * Host i is `h<i>.bench.test` on MAIN_PORT → `inst<i % 4>`, except:
 * - every i ≡ 10 (mod 20) is a pattern host (5%): `{instance}.p<i>.bench.test` → `{instance}`,
 *   requested as `inst<i % 4>.p<i>.bench.test`;
 * - every i ≡ 7 (mod 50) listens on one of the EXTRA_PORTS (2%), TLS-free like the rest.
 * Instance k (`inst<k>.json`) is BACKEND_ADDRESSES[k].
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from './http-client.js';
import { BACKEND_ADDRESSES, BACKEND_PORT, EXTRA_PORTS, MAIN_PORT } from './ports.js';

export const DOMAIN = 'bench.test';
export const INSTANCE_COUNT = 4;

export interface ManifestFile {
  readonly file: string;
  readonly text: string;
}

export interface Workload {
  readonly n: number;
  /** Instances first, then ingresses h0..h(N-1). */
  readonly files: readonly ManifestFile[];
  /** One request target per ingress, in index order. */
  readonly targets: readonly Target[];
  /** The targets of exact-host ingresses, and of pattern ingresses. */
  readonly exact: readonly Target[];
  readonly patterns: readonly Target[];
}

export function instanceName(k: number): string {
  return `inst${k}`;
}

export function addressOf(k: number): string {
  return BACKEND_ADDRESSES[k % INSTANCE_COUNT]!;
}

/** An Instance manifest for instance k at `address`. */
export function instanceManifest(k: number, address: string): ManifestFile {
  return { file: `${instanceName(k)}.json`, text: json({ kind: 'Instance', name: instanceName(k), address }) };
}

/** An Ingress manifest with one exact-host rule. */
export function exactIngress(name: string, host: string, port: number, instance: number): { readonly manifest: ManifestFile; readonly target: Target } {
  const rule = { match: { hostname: host, port }, target: { instance: instanceName(instance), port: BACKEND_PORT } };
  return { manifest: { file: `${name}.json`, text: json({ kind: 'Ingress', name, rules: [rule] }) }, target: { port, host, backend: addressOf(instance) } };
}

export function isPatternIndex(i: number): boolean {
  return i % 20 === 10;
}

/** Ingress i of the workload (see the module comment). */
export function workloadIngress(i: number): { readonly manifest: ManifestFile; readonly target: Target } {
  const name = `h${i}`;
  const k = i % INSTANCE_COUNT;
  if (isPatternIndex(i)) {
    const rule = { match: { hostname: `{instance}.p${i}.${DOMAIN}`, port: MAIN_PORT }, target: { instance: '{instance}', port: BACKEND_PORT } };
    return {
      manifest: { file: `${name}.json`, text: json({ kind: 'Ingress', name, rules: [rule] }) },
      target: { port: MAIN_PORT, host: `${instanceName(k)}.p${i}.${DOMAIN}`, backend: addressOf(k) },
    };
  }
  const port = i % 50 === 7 ? EXTRA_PORTS[i % EXTRA_PORTS.length]! : MAIN_PORT;
  return exactIngress(name, `h${i}.${DOMAIN}`, port, k);
}

export function generateWorkload(n: number): Workload {
  const files: ManifestFile[] = [];
  const targets: Target[] = [];
  for (let k = 0; k < INSTANCE_COUNT; k++) files.push(instanceManifest(k, addressOf(k)));
  for (let i = 0; i < n; i++) {
    const { manifest, target } = workloadIngress(i);
    files.push(manifest);
    targets.push(target);
  }
  return { n, files, targets, exact: targets.filter((_, i) => !isPatternIndex(i)), patterns: targets.filter((_, i) => isPatternIndex(i)) };
}

/** `count` new exact-host ingresses `<prefix><j>` on MAIN_PORT, spread over the instances. */
export function extraIngresses(prefix: string, count: number): { readonly manifests: ManifestFile[]; readonly targets: Target[] } {
  const manifests: ManifestFile[] = [];
  const targets: Target[] = [];
  for (let j = 0; j < count; j++) {
    const { manifest, target } = exactIngress(`${prefix}${j}`, `${prefix}${j}.${DOMAIN}`, MAIN_PORT, j % INSTANCE_COUNT);
    manifests.push(manifest);
    targets.push(target);
  }
  return { manifests, targets };
}

/** Writes one manifest as a careful tool would: a dot-prefixed temp file, then rename. */
export async function writeManifest(dir: string, manifest: ManifestFile): Promise<void> {
  const tmp = join(dir, `.${manifest.file}.${process.pid}.tmp`);
  await writeFile(tmp, manifest.text);
  await rename(tmp, join(dir, manifest.file));
}

/**
 * Writes one manifest in place, as an editor or a plain `>` redirect does: the file is truncated
 * and written, so a reader may see it half-written (ingressd lets such files settle first).
 */
export async function writeManifestInPlace(dir: string, manifest: ManifestFile): Promise<void> {
  await writeFile(join(dir, manifest.file), manifest.text);
}

/** Writes many manifests, `concurrency` at a time. */
export async function writeManifests(dir: string, manifests: readonly ManifestFile[], concurrency = 64): Promise<void> {
  await mkdir(dir, { recursive: true });
  const queue = [...manifests].reverse();
  const worker = async (): Promise<void> => {
    for (let m = queue.pop(); m !== undefined; m = queue.pop()) await writeManifest(dir, m);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Removes manifests (ingressd removes their status files itself). */
export async function removeManifests(dir: string, manifests: readonly ManifestFile[]): Promise<void> {
  await Promise.all(manifests.map((m) => rm(join(dir, m.file), { force: true })));
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
