/**
 * Reads the files a manifest names beside it (a users file, an error page) into its resource
 * when the manifest is loaded, so validation and render stay pure; and remembers which manifests
 * name which files, so a change of such a file re-reads (and re-applies) the manifests naming it.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { canonicalize } from '../model/canonical.js';
import { fastHashOf } from '../model/ids.js';
import type { Manifest } from '../model/manifest.js';
import { MAX_REFERENCED_FILE_BYTES, referencedPathsOf, referencePathProblem, type ReferencedFile } from '../model/referenced-files.js';

/**
 * `manifest` with its ingress's referenced files read from `manifestDir` (the directory of the
 * manifest file) into `files`, and its generation hashed again over them (an edited file is a new
 * generation). The same object when the manifest names no file. A path that breaks the rules
 * (model/referenced-files.ts) is not read; a file that is missing, not a regular file or above
 * 256 KiB is recorded as a problem for validation to report with its pointer. Never throws.
 */
export function withReferencedFiles(manifest: Manifest, manifestDir: string): Manifest {
  const resource = manifest.resource;
  if (resource?.kind !== 'Ingress') return manifest;
  const paths = referencedPathsOf(resource.rules);
  if (paths.length === 0) return manifest;
  const files: Record<string, ReferencedFile> = {};
  for (const path of paths) if (referencePathProblem(path) === undefined) files[path] = readReferencedFile(join(manifestDir, path));
  const next = { ...resource, files };
  return { ...manifest, resource: next, generation: fastHashOf(JSON.stringify(canonicalize(next))) };
}

function readReferencedFile(absolute: string): ReferencedFile {
  try {
    const info = statSync(absolute);
    if (!info.isFile()) return { problem: 'is not a regular file; name a file beside the manifest' };
    if (info.size > MAX_REFERENCED_FILE_BYTES) return { problem: `is ${info.size} bytes, above the limit of ${MAX_REFERENCED_FILE_BYTES} (256 KiB); make it smaller` };
    return { text: readFileSync(absolute, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { problem: 'does not exist beside the manifest; create it, or fix the name (relative to the manifest\'s directory)' };
    return { problem: `cannot be read by ingressd (${code ?? String(err)}); make it readable` };
  }
}

/**
 * Which manifests (keys relative to the watched directory) name which referenced files (paths
 * relative to the watched directory too). Fed by the manifest reader on every read; asked by the
 * watcher on every event of a file that is not a manifest. Not thread-safe (one event loop).
 */
export class ReferenceIndex {
  readonly #byManifest = new Map<string, readonly string[]>();
  readonly #byFile = new Map<string, Set<string>>();

  /** Records what the manifest `file` names now (`undefined`: it is gone or names nothing). */
  record(file: string, manifest: Manifest | undefined): void {
    for (const ref of this.#byManifest.get(file) ?? []) {
      const set = this.#byFile.get(ref);
      set?.delete(file);
      if (set?.size === 0) this.#byFile.delete(ref);
    }
    const resource = manifest?.resource;
    const paths = resource?.kind === 'Ingress' ? referencedPathsOf(resource.rules).filter((p) => referencePathProblem(p) === undefined) : [];
    if (paths.length === 0) {
      this.#byManifest.delete(file);
      return;
    }
    const dir = posix.dirname(file);
    const refs = paths.map((p) => (dir === '.' ? p : `${dir}/${p}`));
    this.#byManifest.set(file, refs);
    for (const ref of refs) {
      const set = this.#byFile.get(ref) ?? new Set<string>();
      set.add(file);
      this.#byFile.set(ref, set);
    }
  }

  /** The manifests naming the file at `rel` (relative to the watched directory), sorted; empty for most paths. */
  referencedBy(rel: string): readonly string[] {
    const set = this.#byFile.get(rel);
    return set === undefined ? [] : [...set].sort();
  }

  /** Every manifest that names a file: what a rescan reads again, since it does not stat referenced files. */
  referencing(): readonly string[] {
    return [...this.#byManifest.keys()].sort();
  }
}
