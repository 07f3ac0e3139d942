/**
 * Lists the manifest files under a directory (recursively). Paths are relative, with `/`
 * separators. With `stamps`, each file also gets what is needed to notice a change without reading
 * it (size, mtime, inode); that costs a stat() per file, so callers ask for it only now and then.
 *
 * Symbolic links are followed, to files and to directories (a ConfigMap volume's `name.json ->
 * ..data/name.json`, git-sync's worktree link, `team -> /srv/team-v1`), so stamps describe the
 * file a link leads to now: a swapped link shows up as a changed inode. Dot-entries are never
 * entered (kubelet's `..data` and `..<timestamp>/`, git-sync's `.worktrees/`: what they hold is
 * reached through the visible links). A directory link that leads back to one of its own
 * ancestors is a loop: it is reported through `onProblem` and not entered, so a scan always ends.
 */
import { lstatSync, statSync, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isManifestPath } from '../manifest/manifest-files.js';

export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/**
 * The stamp of a manifest path that cannot be stat()ed (a dangling or looping link, no
 * permission): listed, so the reader can report it in a status, with a stamp that stays equal
 * to itself so a broken link is not queued again on every rescan.
 */
export const BROKEN_STAMP: FileStamp = Object.freeze({ size: -1, mtimeMs: 0, ino: 0 });

/** Something a scan skipped that the user should hear about (a loop, a dangling directory link). */
export interface ScanProblem {
  /** Relative path of the entry, with `/` separators. */
  readonly path: string;
  readonly message: string;
}

export interface ScanOptions {
  /** stat() every manifest for its stamp. @default true */
  readonly stamps?: boolean;
  /** Told about every loop and dangling directory link on every scan (callers de-duplicate). */
  readonly onProblem?: (problem: ScanProblem) => void;
}

/** Every manifest under `dir`, with its stamp when `stamps` is true (undefined otherwise). */
export async function scanManifests(dir: string, stamps: boolean | ScanOptions = true): Promise<Map<string, FileStamp | undefined>> {
  const options: ScanOptions = typeof stamps === 'boolean' ? { stamps } : stamps;
  const withStamps = options.stamps ?? true;
  const out = new Map<string, FileStamp | undefined>();
  const root = dir.endsWith('/') ? dir : `${dir}/`;
  const rootStat = statSync(root, { throwIfNoEntry: false });
  // Directory identities (dev:ino) on the path from the root down: a link to one of them is a loop.
  const walk = async (rel: string, ancestors: ReadonlySet<string>): Promise<void> => {
    let entries;
    try {
      entries = await readdir(root + rel, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // A subdirectory nobody may read is skipped (its files are invisible either way); the root is not.
      if (rel !== '' && (code === 'EACCES' || code === 'EPERM')) {
        options.onProblem?.({ path: rel.slice(0, -1), message: `${rel.slice(0, -1)} cannot be read by ingressd (${code}); its manifests are skipped until it is readable` });
        return;
      }
      if (rel !== '' && code === 'ENOTDIR') return;
      throw err;
    }
    const subdirs: [string, ReadonlySet<string>][] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = rel + entry.name;
      if (entry.isDirectory()) {
        const s = statSync(root + path, { throwIfNoEntry: false });
        subdirs.push([`${path}/`, s === undefined ? ancestors : new Set([...ancestors, identity(s)])]);
      } else if (entry.isSymbolicLink() && !isManifestPath(path)) {
        const linked = followDirectoryLink(root + path, path, ancestors, options);
        if (linked !== undefined) subdirs.push([`${path}/`, linked]);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && isManifestPath(path)) {
        if (!withStamps) out.set(path, undefined);
        else {
          // stat() in place: 10,000 thread-pool round trips cost far more than the calls themselves.
          const s = statOrError(root + path);
          if (s === 'broken') out.set(path, BROKEN_STAMP);
          else if (s?.isFile()) out.set(path, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
        }
      }
    }
    for (const [sub, chain] of subdirs) await walk(sub, chain);
  };
  await walk('', new Set(rootStat === undefined ? [] : [identity(rootStat)]));
  return out;
}

/** The ancestors for walking into a directory link, or undefined when it is not one to enter. */
function followDirectoryLink(absolute: string, path: string, ancestors: ReadonlySet<string>, options: ScanOptions): ReadonlySet<string> | undefined {
  const s = statOrError(absolute);
  if (s === undefined) return undefined;
  if (s === 'broken') {
    options.onProblem?.({ path, message: `${path} is a symbolic link that leads nowhere (its target is missing, unreadable or a loop); skipped` });
    return undefined;
  }
  if (!s.isDirectory()) return undefined;
  const id = identity(s);
  if (ancestors.has(id)) {
    options.onProblem?.({ path, message: `${path} is a symbolic link to a directory that contains it (a loop); not followed` });
    return undefined;
  }
  return new Set([...ancestors, id]);
}

function identity(s: Stats): string {
  return `${s.dev}:${s.ino}`;
}

/** stat() following links: undefined when the path is gone, 'broken' when it exists but leads nowhere. */
function statOrError(path: string): Stats | 'broken' | undefined {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT from stat() while the entry itself is there: a link whose target is gone.
    if (code === 'ENOENT') return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() === true ? 'broken' : undefined;
    return code === 'ELOOP' || code === 'EACCES' || code === 'EPERM' ? 'broken' : undefined;
  }
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
