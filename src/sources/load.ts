/**
 * One-shot loading of manifests for the CLI (`validate`, `render`, `diff`): every manifest file
 * under the given paths, parsed. Files are keyed by the path as the user would write it.
 */
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Manifest } from '../model/manifest.js';
import { readManifestFile } from './manifest-reader.js';
import { scanManifests } from './scan.js';

export interface LoadOptions {
  /** Paths as given on the command line: files or directories. */
  readonly paths: readonly string[];
  readonly cwd: string;
}

export async function loadManifests(options: LoadOptions): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const path of options.paths) {
    const absolute = join(path.startsWith('/') ? '' : options.cwd, path);
    const info = await stat(absolute);
    const files = info.isDirectory() ? [...(await scanManifests(absolute)).keys()].sort().map((rel) => join(absolute, rel)) : [absolute];
    for (const file of files) {
      const shown = relative(options.cwd, file) || file;
      const manifest = readManifestFile(file, shown.startsWith('..') ? file : shown);
      if (manifest !== undefined) out.push(manifest);
    }
  }
  return out;
}

/** Manifests of one directory keyed by their path relative to it, as the controller keys them. */
export async function loadDirectory(dir: string): Promise<Manifest[]> {
  const files = [...(await scanManifests(dir)).keys()].sort();
  // A file that vanished between the scan and the read is simply not there.
  return files.flatMap((rel) => readManifestFile(join(dir, rel), rel) ?? []);
}
