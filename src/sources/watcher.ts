/**
 * Watches the manifest directory recursively and reports manifest paths (relative, `/`-separated)
 * that were added, changed or removed. Status files, dotfiles and editor temporaries never reach
 * the callback. Events carry only the path: the reconciler reads the file itself.
 */
import { watch, type FSWatcher } from 'chokidar';
import { basename, relative, sep } from 'node:path';
import type { Logger } from '../model/logger.js';
import { isManifestPath } from './manifest-files.js';

export interface WatcherOptions {
  readonly dir: string;
  /** Quiet time before a written file is read, so half-written files are not parsed. @default 30 */
  readonly settleMs?: number;
  readonly onPath: (file: string) => void;
  /** A directory vanished or the watcher failed: the caller should rescan. */
  readonly onRescan: (reason: string) => void;
  readonly logger: Logger;
}

export interface ManifestWatcher {
  close(): Promise<void>;
}

/** Starts watching; resolves once the watcher is ready (its own initial scan is skipped). */
export async function watchManifests(options: WatcherOptions): Promise<ManifestWatcher> {
  const settleMs = options.settleMs ?? 30;
  const toRel = (path: string): string => relative(options.dir, path).split(sep).join('/');
  const watcher: FSWatcher = watch(options.dir, {
    ignoreInitial: true,
    persistent: true,
    ignored: (path, stats) => {
      if (path === options.dir) return false;
      const name = basename(path);
      if (name.startsWith('.')) return true;
      // chokidar asks once without stats: only files can be judged by name, so keep directories.
      if (stats === undefined || !stats.isFile()) return false;
      return !isManifestPath(toRel(path));
    },
    awaitWriteFinish: { stabilityThreshold: settleMs, pollInterval: Math.max(5, Math.floor(settleMs / 4)) },
  });
  const report = (path: string): void => {
    const rel = toRel(path);
    if (isManifestPath(rel)) options.onPath(rel);
  };
  watcher.on('add', report).on('change', report).on('unlink', report);
  watcher.on('unlinkDir', (path) => options.onRescan(`directory removed: ${toRel(path)}`));
  // Files written into a directory created at the same moment can be missed while the watch on the
  // new directory is being set up: rescan when a directory appears (directories are rare, files not).
  watcher.on('addDir', (path) => options.onRescan(`directory added: ${toRel(path)}`));
  watcher.on('error', (err) => {
    options.logger.warn('watcher error; rescanning', { error: String(err) });
    options.onRescan('watcher error');
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { close: () => watcher.close() };
}
