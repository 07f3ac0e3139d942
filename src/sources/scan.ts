/**
 * Lists the manifest files under a directory (recursively). Paths are relative, with `/`
 * separators. With `stamps`, each file also gets what is needed to notice a change without reading
 * it (size, mtime, inode); that costs a stat() per file, so callers ask for it only now and then.
 */
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isManifestPath } from '../manifest/manifest-files.js';

export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** Every manifest under `dir`, with its stamp when `stamps` is true (undefined otherwise). */
export async function scanManifests(dir: string, stamps = true): Promise<Map<string, FileStamp | undefined>> {
  const out = new Map<string, FileStamp | undefined>();
  const root = dir.endsWith('/') ? dir : `${dir}/`;
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(root + rel, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // A subdirectory nobody may read is skipped (its files are invisible either way); the root is not.
      if (rel !== '' && (code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR')) return;
      throw err;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = rel + entry.name;
      if (entry.isDirectory()) subdirs.push(`${path}/`);
      else if ((entry.isFile() || entry.isSymbolicLink()) && isManifestPath(path)) {
        if (!stamps) out.set(path, undefined);
        else {
          // stat() in place: 10,000 thread-pool round trips cost far more than the calls themselves.
          const s = statSync(root + path, { throwIfNoEntry: false });
          if (s?.isFile()) out.set(path, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
        }
      }
    }
    for (const sub of subdirs) await walk(sub);
  };
  await walk('');
  return out;
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
