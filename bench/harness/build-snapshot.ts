/**
 * The ingressd build the benchmark measures, frozen at start: other sessions rebuild `dist/` and
 * reinstall `node_modules` while a run is in progress, and every ingressd restart would otherwise
 * load whatever is there at that moment. The snapshot under `bench-results/.build-<stamp>/` holds
 * copies of `dist/src`, `schemas/` and `package.json`, and `node_modules` as hard links (cheap;
 * a reinstall replaces files, so the linked ones stay intact). Removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { cp, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';

export interface BuildSnapshot {
  /** `cli/main.js` of the copy: what every `ingressd run` of this benchmark executes. */
  readonly cli: string;
  /** git HEAD when the run started. */
  readonly commit: string;
  /** Files under src/ that differ from HEAD (uncommitted work in the measured build). */
  readonly srcChanges: number;
  /** When dist/src/cli/main.js was last built (ISO). */
  readonly builtAt: string;
}

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

function git(args: readonly string[]): string {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export async function snapshotBuild(stamp: string, cleanup: Cleanup): Promise<BuildSnapshot> {
  const source = join(ROOT, 'dist', 'src');
  const base = join(ROOT, 'bench-results', `.build-${stamp}`);
  const target = join(base, 'dist', 'src');
  cleanup.add(`build snapshot ${base}`, () => rm(base, { recursive: true, force: true }));
  await cp(source, target, { recursive: true });
  await cp(join(ROOT, 'schemas'), join(base, 'schemas'), { recursive: true });
  await cp(join(ROOT, 'package.json'), join(base, 'package.json'));
  execFileSync('cp', ['-al', join(ROOT, 'node_modules'), join(base, 'node_modules')]);
  const built = await stat(join(source, 'cli', 'main.js'));
  return {
    cli: join(target, 'cli', 'main.js'),
    commit: git(['rev-parse', '--short', 'HEAD']),
    srcChanges: git(['status', '--porcelain', '--', 'src']).split('\n').filter((l) => l.trim() !== '').length,
    builtAt: built.mtime.toISOString(),
  };
}
