/**
 * Lists the manifest files under a directory (recursively), with what is needed to notice a
 * change without reading them: size, mtime and inode. Paths are relative, with `/` separators.
 */
import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isManifestPath } from './manifest-files.js';

export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export async function scanManifests(dir: string): Promise<Map<string, FileStamp>> {
  const out = new Map<string, FileStamp>();
  const walk = async (current: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const subdirs: string[] = [];
    const files: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) subdirs.push(full);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const rel = relative(dir, full).split(sep).join('/');
        if (isManifestPath(rel)) files.push(rel);
      }
    }
    // stat() in place: 10,000 thread-pool round trips cost far more than the calls themselves.
    for (const rel of files) {
      const s = statSync(join(dir, rel), { throwIfNoEntry: false });
      if (s?.isFile()) out.set(rel, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
    }
    for (const sub of subdirs) await walk(sub);
  };
  await walk(dir);
  return out;
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
