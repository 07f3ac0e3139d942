/**
 * Reads one manifest of the watched directory now and parses it: what the reconciler's `file`
 * step is given. Synchronous on purpose: a manifest is a small local file, and 10,000 of them
 * read through the thread pool take seconds at start-up where reading them in place takes a
 * fraction of one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../model/manifest.js';
import { parseManifest } from '../manifest/parse.js';

/** `file` is relative to `dir`. Undefined when the file is gone; throws when it cannot be read. */
export function createManifestReader(dir: string): (file: string) => Manifest | undefined {
  return (file) => {
    let text: string;
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return undefined;
      throw err;
    }
    return parseManifest(file, text);
  };
}
