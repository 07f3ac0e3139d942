/**
 * The API's view of the watched directory: resources as the reconciler last read them, and the only
 * code that turns a request into a file path. Paths are built from a validated name plus a fixed
 * suffix, or taken from the reconciler's own list of manifest files, and are checked to stay in
 * the directory before anything is written or removed.
 */
import { lstat, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { deriveId } from '../model/ids.js';
import { isJsonObject, type JsonObject } from '../model/json.js';
import type { Manifest } from '../model/manifest.js';
import type { Kind } from '../model/resource.js';
import { isValidName } from '../reconciler/validate.js';
import { writeFileAtomic } from '../platform/atomic-file.js';
import { isManifestPath } from '../manifest/manifest-files.js';
import { parseManifest } from '../manifest/parse.js';
import { lookup, type Entry } from './lookup.js';
import { ApiError, type ReconcilerView } from './types.js';
import { asReadOnly } from './writable-source.js';

/** File name suffix per kind for files the API creates. Ingress names hold no dots, so they never collide. */
export const FILE_SUFFIX: Readonly<Record<Kind, string>> = { Ingress: '.json', Instance: '.instance.json' };

export interface Located {
  /** Path relative to the watched directory, `/`-separated: the reconciler's key. */
  readonly file: string;
  /** Absolute path, verified to lie inside the watched directory. */
  readonly path: string;
}

/** Where the API creates the manifest of a new resource: `<dir>/<name><suffix>`, nowhere else. */
export function newManifestPath(dir: string, kind: Kind, name: string): Located {
  if (!isValidName(name)) throw new ApiError('invalid_request', `"${name}" is not a valid resource name`);
  const file = `${name}${FILE_SUFFIX[kind]}`;
  const root = resolve(dir);
  const path = join(root, file);
  // Belt and braces: the name is already validated, but the final path must sit directly in the directory.
  if (dirname(path) !== root || basename(path) !== file) throw new ApiError('invalid_request', `"${name}" is not a valid resource name`);
  return { file, path };
}

/** The absolute path of a manifest the reconciler knows, refused unless it lies inside the directory. */
export function existingManifestPath(dir: string, file: string): Located {
  const root = resolve(dir);
  const path = resolve(root, file);
  const rel = relative(root, path);
  if (!isManifestPath(file) || rel.length === 0 || rel.startsWith('..') || isAbsolute(rel)) {
    throw new Error(`refusing to touch "${file}": not a manifest inside ${root}`);
  }
  return { file, path };
}

export async function fileExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** Writes the manifest; a tree that refuses it (checked before, but mounts change) is `read_only_source`. */
export async function writeManifest(at: Located, text: string): Promise<void> {
  await writeFileAtomic(at.path, text).catch((err: unknown) => {
    throw asReadOnly(err, 'the API', at.path);
  });
}

export async function removeManifest(at: Located): Promise<void> {
  await rm(at.path, { force: true }).catch((err: unknown) => {
    throw asReadOnly(err, 'the API', at.path);
  });
}

/** Every manifest of `kind` the reconciler knows, keyed for lookup (unparsable ones get the derived id). */
export function entriesOf(reconciler: ReconcilerView, kind: Kind): Entry<Manifest>[] {
  const out: Entry<Manifest>[] = [];
  for (const file of reconciler.files()) {
    const manifest = reconciler.manifest(file);
    if (manifest === undefined || manifest.kind !== kind) continue;
    const name = manifest.resource?.name ?? manifest.name;
    out.push({ id: manifest.resource?.id ?? deriveId(kind, name), name, value: manifest });
  }
  return out.sort((a, b) => compare(a.name, b.name) || compare(a.value.file, b.value.file));
}

/** The manifest `key` (id, name or unique id prefix) designates; throws `not_found` or `ambiguous`. */
export function findManifest(reconciler: ReconcilerView, kind: Kind, key: string): Manifest {
  const result = lookup(entriesOf(reconciler, kind), key);
  switch (result.kind) {
    case 'found':
      return result.entry.value;
    case 'not_found':
      throw new ApiError('not_found', 'resource not found');
    case 'ambiguous':
      throw new ApiError('ambiguous', 'multiple resources match, use full ID');
  }
}

/** Parses a request body as a JSON object; errors name line and column, as for files. */
export function parseJsonObject(text: string): JsonObject {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  if (isJsonObject(doc)) return doc;
  // The same parser as files, for the same line/column message.
  const problem = parseManifest('request.json', text).issues[0]?.message ?? 'the body must be a JSON object';
  throw new ApiError('invalid_request', `request body: ${problem}`);
}

/** Runs async sections one at a time (create/replace/delete), so checks and writes do not interleave. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(section);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
