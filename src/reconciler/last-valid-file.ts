/**
 * Where the last valid versions live between runs: one small JSON file per manifest under
 * `DATA_DIR/last-valid/` (named by a hash of the manifest's path), so recording one version
 * writes one file, never the whole set. Written atomically; read once at start. A file that is
 * unreadable or not of this shape is ignored (and logged): the worst case is that a broken
 * manifest serves nothing after a restart, as without the rule.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stableStringify } from '../model/canonical.js';
import { fastHashOf } from '../model/ids.js';
import type { Logger } from '../model/logger.js';
import type { Manifest } from '../model/manifest.js';
import { writeFileAtomicSync } from '../platform/atomic-file.js';
import type { LastValidEntry, LastValidPersistence } from './last-valid.js';

const VERSION = 1;

/** Where `run` keeps the records under DATA_DIR. */
export function lastValidDir(dataDir: string): string {
  return join(dataDir, 'last-valid');
}

/** The records `run` left under DATA_DIR, for the commands that must agree with it; none with FALLBACK=none. */
export function readLastValid(dataDir: string, fallback: 'last-valid' | 'none'): ReadonlyMap<string, LastValidEntry> | undefined {
  return fallback === 'none' ? undefined : lastValidFiles(lastValidDir(dataDir)).load();
}

/**
 * With FALLBACK=none nothing stands in, and records kept from an earlier run would be stale by the
 * time the rule is turned back on (they could bring an old version back): `run` removes them.
 */
export function discardLastValid(dataDir: string, logger: Logger): void {
  const dir = lastValidDir(dataDir);
  if (!existsSync(dir)) return;
  rmSync(dir, { recursive: true, force: true });
  logger.info('FALLBACK=none: removed the last valid versions an earlier run kept', { dir });
}

/** Records under `dir` (created when needed). */
export function lastValidFiles(dir: string, logger?: Logger): LastValidPersistence {
  const pathOf = (file: string): string => join(dir, `${fastHashOf(file)}.json`);
  return {
    load() {
      const out = new Map<string, LastValidEntry>();
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
      } catch {
        return out; // none yet
      }
      for (const name of names) {
        const entry = parseEntry(join(dir, name));
        if (entry === undefined) logger?.warn('ignoring an unreadable last-valid record', { file: join(dir, name) });
        else out.set(entry.manifest.file, entry);
      }
      return out;
    },
    save(entry) {
      mkdirSync(dir, { recursive: true });
      writeFileAtomicSync(pathOf(entry.manifest.file), stableStringify({ version: VERSION, acceptedAt: entry.acceptedAt, since: entry.since, manifest: entry.manifest }));
    },
    remove(file) {
      rmSync(pathOf(file), { force: true });
    },
  };
}

function parseEntry(path: string): LastValidEntry | undefined {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; acceptedAt?: unknown; since?: unknown; manifest?: Partial<Manifest> };
    const m = value.manifest;
    if (value.version !== VERSION || typeof value.acceptedAt !== 'number' || typeof value.since !== 'number' || m === undefined) return undefined;
    if (typeof m.file !== 'string' || typeof m.generation !== 'string' || typeof m.name !== 'string' || m.resource === undefined || !Array.isArray(m.issues)) return undefined;
    return { manifest: m as Manifest, acceptedAt: value.acceptedAt, since: value.since };
  } catch {
    return undefined;
  }
}
