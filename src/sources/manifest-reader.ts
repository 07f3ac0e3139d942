/**
 * Reads one manifest of the watched directory now and parses it: what the reconciler's `file`
 * step is given. Synchronous on purpose: a manifest is a small local file, and 10,000 of them
 * read through the thread pool take seconds at start-up where reading them in place takes a
 * fraction of one.
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../model/logger.js';
import type { Manifest } from '../model/manifest.js';
import { parseManifest } from '../manifest/parse.js';
import { unreadableManifest, type UnreadableCause } from '../manifest/unreadable.js';
import { withReferencedFiles, type ReferenceIndex } from './referenced-files.js';

/**
 * `file` is relative to `dir`. The files the manifest names beside it are read into it (see
 * referenced-files.ts), and `references` (when given) learns which they are. Undefined when the file is gone (or is a directory). A path that
 * exists but cannot be read for a lasting reason (a dangling or looping symbolic link, no
 * permission) gives an unreadable manifest (see manifest/unreadable.ts), logged once per cause,
 * so it is reported in its status and not retried in a loop. Throws on anything else (EIO,
 * EMFILE: worth a retry with backoff).
 */
export function createManifestReader(dir: string, logger?: Logger, references?: ReferenceIndex): (file: string) => Manifest | undefined {
  const reported = new Map<string, string>();
  return (file) => {
    const manifest = readManifestFile(join(dir, file), file);
    references?.record(file, manifest);
    const problem = manifest?.issues.find((i) => i.code === 'unreadable_file')?.message;
    if (problem === undefined) reported.delete(file);
    else {
      if (reported.get(file) !== problem) logger?.warn('a manifest cannot be read; reported in its status', { file, problem });
      reported.set(file, problem);
    }
    return manifest;
  };
}

/** Reads and parses the manifest at `path`, keyed `file`, as `createManifestReader` does (without the log line). */
export function readManifestFile(path: string, file: string): Manifest | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const cause = lastingCause(path, (err as NodeJS.ErrnoException).code);
    if (cause === 'gone') return undefined;
    if (cause === undefined) throw err;
    return unreadableManifest(file, cause);
  }
  // The files it names beside it (users files, error pages) are part of what it declares.
  return withReferencedFiles(parseManifest(file, text), dirname(path));
}

function lastingCause(path: string, code: string | undefined): UnreadableCause | 'gone' | undefined {
  switch (code) {
    case 'ENOENT': {
      // The path itself may still be there: a symbolic link whose target is gone.
      const link = lstatSync(path, { throwIfNoEntry: false });
      if (link?.isSymbolicLink() !== true) return 'gone';
      let target = '(unknown)';
      try {
        target = readlinkSync(path);
      } catch {
        return 'gone'; // removed meanwhile
      }
      return { kind: 'dangling', target };
    }
    case 'EISDIR':
    case 'ENOTDIR':
      return 'gone';
    case 'ELOOP':
      return { kind: 'loop' };
    case 'EACCES':
    case 'EPERM':
      return { kind: 'denied', detail: code };
    default:
      return undefined;
  }
}
