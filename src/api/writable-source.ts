/**
 * Whether the API may write a manifest file where it would: the watched tree is the desired state
 * only when files written there stay. A read-only tree (a ConfigMap volume, a read-only share or
 * checkout), a tree that a link swap replaces (kubelet's `..data`, git-sync's `.worktrees/<hash>`)
 * or `API_WRITES=off` (the desired state lives in a repository) all answer the API's write
 * endpoints with `read_only_source` naming where to change the desired state instead.
 */
import { lstat, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { ApiWrites } from '../controller/options.js';
import { ApiError } from './types.js';

/** Errors of a write to a tree ingressd may not change. */
const READ_ONLY_CODES = new Set(['EROFS', 'EACCES', 'EPERM']);

const WHERE_INSTEAD =
  'Change the desired state where it comes from (commit the manifest to the repository, update the ConfigMap, or write it on a node whose manifest directory is writable): every node applies it from there. GET endpoints keep working.';

/** The refusal of a write of `verb` (such as `POST /ingresses`) for `reason`. */
export function readOnlySource(verb: string, reason: string): ApiError {
  return new ApiError('read_only_source', `${verb} cannot write the manifest: ${reason}. ${WHERE_INSTEAD}`);
}

/**
 * Throws `read_only_source` unless a manifest may be written at `path` (a file in the watched tree,
 * existing or not). Checks, in order: `API_WRITES=off`; a `..data` link beside it (a kubelet
 * volume); a directory reached through a link into a hidden directory (a swapped tree: what is
 * written there vanishes at the next swap); then a probe file (a dotfile, which the watcher never
 * reads) created and removed in the directory.
 */
export async function refuseUnlessWritable(writes: ApiWrites, path: string, verb: string): Promise<void> {
  if (writes === 'off') throw readOnlySource(verb, 'API_WRITES=off: this node takes its manifests from elsewhere');
  const dir = dirname(path);
  if (await exists(join(dir, '..data'))) {
    throw readOnlySource(verb, `${dir} is a Kubernetes ConfigMap, Secret or projected volume (it holds ..data), which the kubelet replaces as a whole`);
  }
  const real = await realpath(dir).catch(() => dir);
  if (real !== dir && real.split(sep).some((segment) => segment.startsWith('.') && segment !== '.' && segment !== '..')) {
    throw readOnlySource(verb, `${dir} is a link into ${real}, a tree published by swapping a link (git-sync, a ConfigMap): a file written there is lost at the next swap`);
  }
  const probe = join(dir, `.ingressd-write-probe-${process.pid}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // a probe of a request still in flight: the directory takes files
    if (code !== undefined && READ_ONLY_CODES.has(code)) throw readOnlySource(verb, `${dir} is read-only for ingressd (${code})`);
    throw err;
  }
  await rm(probe, { force: true });
}

/** `err` as `read_only_source` when it says the tree refused a write; otherwise `err` itself. */
export function asReadOnly(err: unknown, verb: string, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && READ_ONLY_CODES.has(code) ? readOnlySource(verb, `${dirname(path)} refused the write (${code})`) : err;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
