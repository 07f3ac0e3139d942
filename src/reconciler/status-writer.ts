/**
 * Writes `<stem>.status.json` for each manifest, under a root that is the manifest directory
 * itself (beside each manifest: the default) or `STATUS_DIR` (mirroring the manifests' relative
 * paths: `a/web.json` → `STATUS_DIR/a/web.status.json`): atomically, and only when the bytes
 * change, so a steady state writes nothing (and status writes never look like manifest changes:
 * the watcher ignores `*.status.json`).
 *
 * A root ingressd may not write (a read-only ConfigMap volume, share or checkout: EROFS, EACCES,
 * EPERM) is reported once, through `unwritable()` and one warning naming STATUS_DIR, and never
 * retried: every later write and removal is skipped (a restart tries again). A refusal in one
 * subdirectory while the root takes a probe file (a directory owned by another team) is that
 * directory's alone: one warning, its status files skipped, every other one written.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../model/logger.js';
import { stableStringify } from '../model/canonical.js';
import { fastHashOf } from '../model/ids.js';
import { writeFileAtomicSync } from '../platform/atomic-file.js';
import type { ResourceStatus } from './status-types.js';

export interface StatusWriter {
  /** The status file on disk for a manifest, if any and readable (used once, at first sight). */
  read(file: string): Promise<ResourceStatus | undefined>;
  /** Writes when the content differs from what is on disk; resolves true when it wrote. */
  write(file: string, status: ResourceStatus): Promise<boolean>;
  /** Removes the status file of a manifest that is gone. */
  remove(file: string): Promise<void>;
  /**
   * False when no status file is on disk for the manifest now, and then forgets what was written
   * there, so the next `write` writes (a swapped directory link brings a directory without it).
   */
  present(file: string): boolean;
  /** Why status files cannot be written at all (once found), else undefined. */
  unwritable(): string | undefined;
}

/** Errors that mean the root cannot be written at all, not that one write failed. */
const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

/** Whether a file can be created (and removed) directly under `root`. */
function rootTakesFiles(root: string): boolean {
  const probe = join(root, `.ingressd-probe-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** STATUS_DIR mirrors the manifest tree: a directory emptied of status files goes too, up to `root`. */
function removeEmptyParents(dir: string, root: string): void {
  for (let d = dir; d !== root && d.startsWith(`${root}/`); d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (or not ours to remove): stop there
    }
  }
}

/** `dir/sub/web.json` → `dir/sub/web.status.json` (relative paths stay relative). */
export function statusFileOf(file: string): string {
  return file.replace(/\.json$/i, '') + '.status.json';
}

function isStatusShaped(value: unknown): value is ResourceStatus {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['file'] === 'string' &&
    Array.isArray(v['conditions']) &&
    v['conditions'].every((c: unknown) => c !== null && typeof c === 'object' && typeof (c as Record<string, unknown>)['type'] === 'string' && typeof (c as Record<string, unknown>)['status'] === 'string' && typeof (c as Record<string, unknown>)['lastTransitionTime'] === 'string')
  );
}

/** The status file at `path` when it exists and has the shape of one (see `StatusWriter.read`). */
export function readStatusFile(path: string): { readonly status: ResourceStatus; readonly text: string } | undefined {
  // Most manifests seen at run time have no status file yet: a failed read costs an exception
  // each (measured: ~15x an existsSync, much more while a burst of files is being written).
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  // A hand-edited, truncated or foreign file is ignored (and rewritten), never trusted.
  return isStatusShaped(parsed) ? { status: parsed, text } : undefined;
}

/**
 * `root` holds the status files (see the header); `mirrored` is true when it is STATUS_DIR, whose
 * subdirectories are created as needed. The logger hears the one warning of an unwritable root.
 */
export function createStatusWriter(root: string, options: { readonly mirrored?: boolean; readonly logger?: Logger } = {}): StatusWriter {
  // A hash of the last bytes known to be on disk, per manifest: avoids re-reading files to compare
  // (the bytes themselves held ~120 MB at 100,000 manifests).
  const written = new Map<string, string>();
  let unwritable: string | undefined;
  /** Subdirectories that refused a write while the root did not: skipped, warned about once. */
  const refusedDirs = new Set<string>();
  const pathOf = (file: string): string => join(root, statusFileOf(file));
  /** True when the error says `path` cannot be written (the root, or its directory: reported once); false: rethrow it. */
  const refused = (err: unknown, path: string): boolean => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined || !UNWRITABLE.has(code)) return false;
    const dir = dirname(path);
    if (code !== 'EROFS' && dir !== root && rootTakesFiles(root)) {
      refusedDirs.add(dir);
      options.logger?.warn(`status files cannot be written in ${dir} (${code}); the other status files are written. Give ingressd write access there, or set STATUS_DIR (--status-dir)`, { dir, code });
      return true;
    }
    unwritable = `status files cannot be written under ${root} (${code})${options.mirrored === true ? '' : ': the manifest directory is read-only for ingressd (a ConfigMap volume, a read-only share or checkout)'}. Routes are served as usual; set STATUS_DIR (--status-dir) to a writable directory to get status files. Status writes are not retried until ingressd restarts.`;
    options.logger?.warn(unwritable, { statusDir: root, code });
    return true;
  };
  return {
    // Synchronous on purpose: status files are small and many, and thread-pool round trips for
    // each of 10,000 of them cost seconds at start-up; a read or write here takes microseconds.
    async read(file) {
      const found = readStatusFile(pathOf(file));
      if (found === undefined) return undefined;
      written.set(file, fastHashOf(found.text));
      return found.status;
    },
    async write(file, status) {
      if (unwritable !== undefined || refusedDirs.has(dirname(pathOf(file)))) return false;
      const text = stableStringify(status);
      const hash = fastHashOf(text);
      if (written.get(file) === hash) return false;
      try {
        if (options.mirrored === true) mkdirSync(dirname(pathOf(file)), { recursive: true });
        writeFileAtomicSync(pathOf(file), text);
      } catch (err) {
        if (refused(err, pathOf(file))) return false;
        throw err;
      }
      written.set(file, hash);
      return true;
    },
    async remove(file) {
      written.delete(file);
      if (unwritable !== undefined || refusedDirs.has(dirname(pathOf(file)))) return;
      try {
        rmSync(pathOf(file), { force: true });
      } catch (err) {
        if (!refused(err, pathOf(file))) throw err;
        return;
      }
      if (options.mirrored === true) removeEmptyParents(dirname(pathOf(file)), root);
    },
    present(file) {
      if (unwritable !== undefined || refusedDirs.has(dirname(pathOf(file))) || existsSync(pathOf(file))) return true;
      written.delete(file);
      return false;
    },
    unwritable: () => unwritable,
  };
}
