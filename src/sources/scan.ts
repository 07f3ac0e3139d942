/**
 * Lists the manifest files under a directory (recursively), with what is needed to notice a
 * change without reading them: size, mtime and inode. Paths are relative, with `/` separators.
 */
import { readdir, stat } from 'node:fs/promises';
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
    await Promise.all(
      files.map(async (rel) => {
        try {
          const s = await stat(join(dir, rel));
          if (s.isFile()) out.set(rel, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
        } catch {
          // Removed between readdir and stat: it is simply not there.
        }
      }),
    );
    for (const sub of subdirs) await walk(sub);
  };
  await walk(dir);
  return out;
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
