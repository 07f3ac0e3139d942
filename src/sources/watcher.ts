/**
 * Watches the manifest directory recursively and reports manifest paths (relative, `/`-separated)
 * that were added, changed or removed. Status files, dotfiles and editor temporaries never reach
 * the callback. Events carry only the path: the reconciler reads the file itself.
 *
 * Built on `fs.watch` (inotify), one watch per directory, rather than chokidar: chokidar re-reads
 * and lstat()s a whole directory on every change in it, so with 10,000 manifests the 10,000 status
 * files ingressd writes beside them cost minutes of CPU (measured: 10,000 status writes took 3.6 s
 * unwatched and 23 s under chokidar; ingressd's first sync took 70-80 s). Here an event costs a
 * name check, and only names that could be directories are stat()ed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../model/logger.js';
import { isManifestPath } from '../manifest/manifest-files.js';

export interface WatcherOptions {
  readonly dir: string;
  /** Quiet time after a file's last event before it is reported, so half-written files are not read. @default 30 */
  readonly settleMs?: number;
  readonly onPath: (file: string) => void;
  /** Something the events cannot describe happened (a directory came or went, the watch failed): rescan. */
  readonly onRescan: (reason: string) => void;
  readonly logger: Logger;
}

export interface ManifestWatcher {
  /** Manifest paths seen changing and not reported yet (waiting out `settleMs`): more work is coming. */
  settling(): number;
  close(): Promise<void>;
}

/** Files that are never manifests and never directories worth a stat: decided by name alone. */
const NOT_A_DIRECTORY = /\.json$|\.tmp$|\.swp$|\.swx$|~$|^4913$|^#.*#$/;

/** Starts watching DIR and every subdirectory (dot-directories excluded); resolves once all watches are set. */
export async function watchManifests(options: WatcherOptions): Promise<ManifestWatcher> {
  const settleMs = options.settleMs ?? 30;
  const watchers = new Map<string, FSWatcher>();
  const timers = new Map<string, NodeJS.Timeout>();
  let closed = false;

  const toRel = (path: string): string => relative(options.dir, path).split(sep).join('/');
  const settle = (rel: string): void => {
    clearTimeout(timers.get(rel));
    timers.set(
      rel,
      setTimeout(() => {
        timers.delete(rel);
        if (!closed) options.onPath(rel);
      }, settleMs),
    );
  };
  const forgetDirectory = (dir: string): void => {
    for (const [path, watcher] of watchers) {
      if (path === dir || path.startsWith(dir + sep)) {
        watcher.close();
        watchers.delete(path);
      }
    }
  };
  const onEvent = (dir: string, name: string | Buffer | null): void => {
    if (closed) return;
    if (name === null) {
      options.onRescan(`unnamed event in ${toRel(dir) || '.'}`);
      return;
    }
    const entry = name.toString();
    if (entry.startsWith('.')) return;
    const path = join(dir, entry);
    const rel = toRel(path);
    if (isManifestPath(rel)) settle(rel);
    else if (!NOT_A_DIRECTORY.test(entry)) void checkDirectory(path);
  };
  const checkDirectory = async (path: string): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      if (watchers.has(path)) return;
      await watchTree(path);
      // Files may have landed in the new directory before its watch was set.
      options.onRescan(`directory added: ${toRel(path)}`);
    } else if (info === undefined && watchers.has(path)) {
      forgetDirectory(path);
      options.onRescan(`directory removed: ${toRel(path)}`);
    }
  };
  const watchTree = async (dir: string): Promise<void> => {
    if (closed || watchers.has(dir)) return;
    try {
      const watcher = watch(dir, { persistent: true }, (_event, name) => onEvent(dir, name));
      watcher.on('error', (err) => {
        forgetDirectory(dir);
        if (dir === options.dir) options.logger.warn('watching the manifest directory failed; the periodic rescan still runs', { error: String(err) });
        options.onRescan(`watch failed: ${toRel(dir) || '.'}`);
      });
      watchers.set(dir, watcher);
    } catch (err) {
      options.logger.warn('cannot watch a directory; the periodic rescan still covers it', { dir, error: String(err) });
      return;
    }
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) await watchTree(join(dir, entry.name));
    }
  };

  await watchTree(options.dir);
  return {
    settling: () => timers.size,
    async close() {
      closed = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
