/**
 * The architecture as the imports draw it (README, Development): every folder of `src/` sits on a
 * layer, and a file imports only from its own folder or from folders on lower layers. Folders on
 * the same layer (sources, reconciler, dns) never import each other.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../helpers/processes.js';

const LAYERS: Readonly<Record<string, number>> = {
  model: 0,
  platform: 1,
  manifest: 1,
  render: 2,
  reconciler: 3,
  sources: 3,
  dns: 3,
  controller: 4,
  api: 5,
  cli: 6,
};
const SRC = join(ROOT, 'src');
const MAX_LINES = 300;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(file: string): string {
  return relative(SRC, file).split('/')[0] ?? '';
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]!));
}

describe('the layers of src/', () => {
  const files = sourceFiles(SRC);

  it('puts every folder on a layer', () => {
    const folders = new Set(files.map(folderOf));
    expect([...folders].filter((f) => LAYERS[f] === undefined)).toEqual([]);
  });

  it('imports only from the same folder or a lower layer', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      for (const target of importsOf(file)) {
        const to = folderOf(target);
        if (to === from) continue;
        if ((LAYERS[to] ?? Infinity) >= (LAYERS[from] ?? -Infinity)) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it(`keeps every file at or under ${MAX_LINES} lines`, () => {
    const long = files.map((f) => ({ file: relative(SRC, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 })).filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
