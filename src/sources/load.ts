/**
 * One-shot loading of manifests for the CLI (`validate`, `render`, `diff`): every manifest file
 * under the given paths, parsed. Files are keyed by the path as the user would write it.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Manifest } from '../model/manifest.js';
import { parseManifest } from '../manifest/parse.js';
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
      out.push(parseManifest(shown.startsWith('..') ? file : shown, await readFile(file, 'utf8')));
    }
  }
  return out;
}

/** Manifests of one directory keyed by their path relative to it, as the controller keys them. */
export async function loadDirectory(dir: string): Promise<Manifest[]> {
  const files = [...(await scanManifests(dir)).keys()].sort();
  return Promise.all(files.map(async (rel) => parseManifest(rel, await readFile(join(dir, rel), 'utf8'))));
}
