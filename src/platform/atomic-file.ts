/**
 * Atomic file writes: a temporary dotfile in the same directory, then rename over the target, so
 * readers (users, the watcher, the DNS process) never see a half-written file. The temporary name
 * starts with a dot and ends in `.tmp`, which the manifest watcher ignores.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** @default 0o644 */
  readonly mode?: number;
  /**
   * fsync before the rename, so the new content survives a power cut. Costs milliseconds per file:
   * worth it for files that are the only copy (manifests, Caddy's last config), not for status
   * files that the next reconcile rewrites anyway. @default true
   */
  readonly durable?: boolean;
}

export async function writeFileAtomic(path: string, content: string, options: AtomicWriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o644;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w', mode);
  try {
    await handle.writeFile(content);
    // The mode given to open() is filtered by the umask; chmod makes it exact (0600 for secrets).
    await handle.chmod(mode);
    if (options.durable ?? true) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The same, synchronously and without fsync, for many small files in a row (status files): a
 * write costs tens of microseconds instead of several thread-pool round trips. The directory must
 * exist.
 */
let syncWrites = 0;

export function writeFileAtomicSync(path: string, content: string): void {
  // A counter, not random bytes: unique within this process (the pid covers the others), and
  // randomBytes cost ~8 µs a file, most of a status pass's own CPU at 100,000 files.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${(syncWrites++).toString(36)}.tmp`);
  writeFileSync(tmp, content);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
