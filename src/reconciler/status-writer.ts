/**
 * Writes `<stem>.status.json` beside each manifest: atomically, and only when the bytes change,
 * so a steady state writes nothing (and status writes never look like manifest changes:
 * the watcher ignores `*.status.json`).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stableStringify } from '../model/canonical.js';
import { writeFileAtomicSync } from '../sources/atomic-file.js';
import type { ResourceStatus } from './status-types.js';

export interface StatusWriter {
  /** The status file on disk for a manifest, if any and readable (used once, at first sight). */
  read(file: string): Promise<ResourceStatus | undefined>;
  /** Writes when the content differs from what is on disk; resolves true when it wrote. */
  write(file: string, status: ResourceStatus): Promise<boolean>;
  /** Removes the status file of a manifest that is gone. */
  remove(file: string): Promise<void>;
}

/** `dir/sub/web.json` → `dir/sub/web.status.json` (relative paths stay relative). */
export function statusFileOf(file: string): string {
  return file.replace(/\.json$/i, '') + '.status.json';
}

export function createStatusWriter(manifestDir: string): StatusWriter {
  // Last bytes known to be on disk, per manifest: avoids re-reading files to compare.
  const written = new Map<string, string>();
  const pathOf = (file: string): string => join(manifestDir, statusFileOf(file));
  return {
    // Synchronous on purpose: status files are small and many, and thread-pool round trips for
    // each of 10,000 of them cost seconds at start-up; a read or write here takes microseconds.
    async read(file) {
      try {
        const text = readFileSync(pathOf(file), 'utf8');
        written.set(file, text);
        return JSON.parse(text) as ResourceStatus;
      } catch {
        return undefined;
      }
    },
    async write(file, status) {
      const text = stableStringify(status);
      if (written.get(file) === text) return false;
      writeFileAtomicSync(pathOf(file), text);
      written.set(file, text);
      return true;
    },
    async remove(file) {
      written.delete(file);
      rmSync(pathOf(file), { force: true });
    },
  };
}
