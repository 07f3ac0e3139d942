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
 *
 * Symbolic links to directories are followed (inotify watches the directory a link leads to).
 * A link swapped anywhere on the path to a manifest is noticed from the events the swap causes,
 * and answered with `onRescan` (the rescan's stamps follow links, so every file the swap changed
 * is queued), never left to the periodic resync:
 * - a visible directory link replaced (`ln -sfn`, git-sync's `tmp-link` renamed over its link):
 *   the event on its name, and its target is compared with the one watched;
 * - a dot-entry that is a directory or a link to one created, renamed or removed (kubelet's
 *   `..data_tmp` renamed over `..data`, its `..<timestamp>/` directories): every watched
 *   directory's target is compared again;
 * - a link on the path of the watched directory itself (MANIFEST_DIR is git-sync's link): the
 *   parent directory of each such link is watched for events on its name.
 * A directory link back to one of its ancestors (a loop) is not watched (the rescanner logs it).
 * Dot-entries never become manifests: what they hold is reached through the visible links.
 */
import { lstatSync, realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { Logger } from '../model/logger.js';
import { isManifestPath } from '../manifest/manifest-files.js';

export interface WatcherOptions {
  readonly dir: string;
  /**
   * Quiet time after a file's last event before it is reported, so half-written files are not
   * read. A file renamed into place whole (editors, Ansible, rsync, the HTTP API) skips it: see
   * `onEvent`. @default 30
   */
  readonly settleMs?: number;
  readonly onPath: (file: string) => void;
  /** Something the events cannot describe happened (a directory or link came, went or was swapped, the watch failed): rescan, stat()ing every file. */
  readonly onRescan: (reason: string) => void;
  /**
   * The manifests that name the (non-manifest) file at this path beside them, such as a users
   * file: after the file's events settle, each of them is reported through `onPath`. @default none
   */
  readonly referencedBy?: (file: string) => readonly string[];
  readonly logger: Logger;
}

export interface ManifestWatcher {
  /** Manifest paths seen changing and not reported yet (waiting out `settleMs`): more work is coming. */
  settling(): number;
  close(): Promise<void>;
}

/** Files that are never manifests and never directories worth a stat: decided by name alone. */
const NOT_A_DIRECTORY = /\.json$|\.tmp$|\.swp$|\.swx$|~$|^4913$|^#.*#$/;
/** Quiet time after the last link event before targets are compared: a swap is several events. */
const RELINK_SETTLE_MS = 30;

interface Watched {
  readonly watcher: FSWatcher;
  /** The directory the path led to when the watch was set (realpath). */
  readonly real: string;
}

/** Starts watching DIR and every subdirectory (dot-directories excluded); resolves once all watches are set. */
export async function watchManifests(options: WatcherOptions): Promise<ManifestWatcher> {
  const settleMs = options.settleMs ?? 30;
  const watchers = new Map<string, Watched>();
  const timers = new Map<string, NodeJS.Timeout>();
  /** Dot-entries seen as directories or directory links: their disappearance is a link event too. */
  const dotLinks = new Set<string>();
  /** Parent directory → names in it that are links on the path of the watched directory. */
  const rootLinks = new Map<string, { readonly watcher: FSWatcher; readonly names: Set<string> }>();
  let relinkTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const toRel = (path: string): string => relative(options.dir, path).split(sep).join('/');
  const rescan = (reason: string): void => {
    options.logger.debug('the watcher asks for a rescan', { reason });
    options.onRescan(reason);
  };
  const settle = (rel: string, report: () => void = () => options.onPath(rel)): void => {
    clearTimeout(timers.get(rel));
    timers.set(
      rel,
      setTimeout(() => {
        timers.delete(rel);
        if (!closed) report();
      }, settleMs),
    );
  };
  /** A file some manifests name (never a manifest itself: it cannot end in .json): once it settles, re-read them. */
  const settleReferenced = (rel: string): void => settle(rel, () => (options.referencedBy?.(rel) ?? []).forEach((file) => options.onPath(file)));
  const forgetDirectory = (dir: string): void => {
    for (const [path, watched] of watchers) {
      if (path === dir || path.startsWith(dir + sep)) {
        watched.watcher.close();
        watchers.delete(path);
      }
    }
  };
  /** The targets of the watched directories above `path`: entering one of them again is a loop. */
  const ancestorsOf = (path: string): Set<string> => {
    const out = new Set<string>();
    for (let p = dirname(path); p.length >= options.dir.length && p !== dirname(p); p = dirname(p)) {
      const real = watchers.get(p)?.real;
      if (real !== undefined) out.add(real);
      if (p === options.dir) break;
    }
    return out;
  };
  const scheduleRelink = (): void => {
    clearTimeout(relinkTimer);
    relinkTimer = setTimeout(() => {
      relinkTimer = undefined;
      void relink();
    }, RELINK_SETTLE_MS);
  };
  const onDotEvent = (path: string): void => {
    const known = dotLinks.has(path);
    // Atomic writers' temporaries (ingressd's own status files among them: two events per write) are never links.
    if (!known && path.endsWith('.tmp')) return;
    const now = isDirectoryOrLink(path);
    if (now) dotLinks.add(path);
    else dotLinks.delete(path);
    // A regular dotfile (an editor's swap file, a tool's temporary) is not a link event.
    if (now || known) scheduleRelink();
  };
  const onEvent = (dir: string, event: string, name: string | Buffer | null): void => {
    if (closed) return;
    if (name === null) {
      rescan(`unnamed event in ${toRel(dir) || '.'}`);
      return;
    }
    const entry = name.toString();
    const path = join(dir, entry);
    if (options.referencedBy !== undefined && options.referencedBy(toRel(path)).length > 0) settleReferenced(toRel(path));
    if (entry.startsWith('.')) {
      onDotEvent(path);
      return;
    }
    const rel = toRel(path);
    if (!isManifestPath(rel)) {
      if (!NOT_A_DIRECTORY.test(entry)) void checkDirectory(path);
    } else if (event === 'rename' && !timers.has(rel) && hasContent(path)) {
      // A name that appeared with its content already there: renamed into place whole (a writer
      // in place creates the file empty first, and its writes then arrive as 'change' events, which
      // settle). Read at once. Anything racing this (bytes written between the creation and this
      // stat) is followed by a 'change' event that settles and reads again; a burst still becomes
      // one Caddy write (the Caddy key waits while files are settling).
      options.onPath(rel);
    } else settle(rel);
  };
  const checkDirectory = async (path: string): Promise<void> => {
    const real = realDirectory(path);
    const watched = watchers.get(path);
    if (real !== undefined) {
      if (watched?.real === real) return;
      if (watched !== undefined) forgetDirectory(path);
      await watchTree(path, ancestorsOf(path));
      // Files may have landed in the new directory before its watch was set; a swapped link changed them all.
      rescan(`${watched === undefined ? 'directory added' : 'directory link swapped'}: ${toRel(path)}`);
    } else if (watched !== undefined) {
      forgetDirectory(path);
      rescan(`directory removed: ${toRel(path)}`);
    }
  };
  const watchTree = async (dir: string, ancestors: ReadonlySet<string>): Promise<void> => {
    if (closed || watchers.has(dir)) return;
    const real = realDirectory(dir);
    if (real === undefined) return;
    if (ancestors.has(real)) {
      options.logger.debug('not watching a directory link that loops back to an ancestor', { dir: toRel(dir) });
      return;
    }
    try {
      const watcher = watch(dir, { persistent: true }, (event, name) => onEvent(dir, event, name));
      watcher.on('error', (err) => {
        forgetDirectory(dir);
        if (dir === options.dir) options.logger.warn('watching the manifest directory failed; the periodic rescan still runs', { error: String(err) });
        rescan(`watch failed: ${toRel(dir) || '.'}`);
      });
      watchers.set(dir, { watcher, real });
    } catch (err) {
      options.logger.warn('cannot watch a directory; the periodic rescan still covers it', { dir, error: String(err) });
      return;
    }
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const below = new Set([...ancestors, real]);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('.')) {
        if (entry.isDirectory() || (entry.isSymbolicLink() && isDirectoryOrLink(path))) dotLinks.add(path);
      } else if (entry.isDirectory() || (entry.isSymbolicLink() && !NOT_A_DIRECTORY.test(entry.name) && realDirectory(path) !== undefined)) {
        await watchTree(path, below);
      }
    }
  };
  /** Watches the parent of every link on the path to the watched directory (git-sync's link as MANIFEST_DIR). */
  const watchRootLinks = (): void => {
    for (let p = options.dir; p !== dirname(p); p = dirname(p)) {
      if (lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() !== true) continue;
      const parent = dirname(p);
      const known = rootLinks.get(parent);
      if (known !== undefined) {
        known.names.add(basename(p));
        continue;
      }
      try {
        const names = new Set([basename(p)]);
        const watcher = watch(parent, { persistent: true }, (_event, name) => {
          const entry = name?.toString();
          if (!closed && entry !== undefined && (names.has(entry) || entry.startsWith('.'))) scheduleRelink();
        });
        watcher.on('error', () => rootLinks.delete(parent));
        rootLinks.set(parent, { watcher, names });
      } catch (err) {
        options.logger.warn('cannot watch the directory holding a link to the manifest directory; a swap of it is seen at the next resync', { dir: parent, error: String(err) });
      }
    }
  };
  /** After link events: every watched directory whose target moved is watched again, then one rescan. */
  const relink = async (): Promise<void> => {
    if (closed) return;
    watchRootLinks();
    const paths = [...watchers.keys()].sort((a, b) => a.length - b.length);
    for (const path of paths) {
      const watched = watchers.get(path);
      if (watched === undefined) continue; // forgotten with an ancestor
      const real = realDirectory(path);
      if (real === watched.real) continue;
      forgetDirectory(path);
      if (real !== undefined) await watchTree(path, ancestorsOf(path));
    }
    if (!watchers.has(options.dir)) await watchTree(options.dir, new Set());
    rescan('a symbolic link on the path to the manifests changed');
  };

  watchRootLinks();
  await watchTree(options.dir, new Set());
  return {
    settling: () => timers.size + (relinkTimer === undefined ? 0 : 1),
    async close() {
      closed = true;
      clearTimeout(relinkTimer);
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const watched of watchers.values()) watched.watcher.close();
      watchers.clear();
      for (const link of rootLinks.values()) link.watcher.close();
      rootLinks.clear();
    },
  };
}

/** The directory `path` leads to now (links followed), or undefined when it is not a directory. */
function realDirectory(path: string): string | undefined {
  try {
    return statSync(path).isDirectory() ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `path` (links followed) is a regular file with at least one byte. */
function hasContent(path: string): boolean {
  try {
    const s = statSync(path);
    return s.isFile() && s.size > 0;
  } catch {
    return false; // gone, a dangling or looping link, no permission: the reader reports it after the settle
  }
}

/** A directory, or a link that leads to one. */
function isDirectoryOrLink(path: string): boolean {
  const entry = lstatSync(path, { throwIfNoEntry: false });
  if (entry === undefined) return false;
  return entry.isDirectory() || (entry.isSymbolicLink() && realDirectory(path) !== undefined);
}
