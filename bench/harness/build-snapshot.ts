/**
 * The ingressd build the benchmark measures, frozen at start: other sessions rebuild `dist/`
 * while a run is in progress, and every ingressd restart would otherwise pick up a different
 * build. `dist/src` is copied under `bench-results/` (inside the project, so `node_modules` and
 * `schemas/` still resolve from the copy) and removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { cp, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';

export interface BuildSnapshot {
  /** `cli.js` of the copy: what every `ingressd run` of this benchmark executes. */
  readonly cli: string;
  /** git HEAD when the run started. */
  readonly commit: string;
  /** Files under src/ that differ from HEAD (uncommitted work in the measured build). */
  readonly srcChanges: number;
  /** When dist/src/controller/cli.js was last built (ISO). */
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
  const target = join(ROOT, 'bench-results', `.build-${stamp}`, 'dist', 'src');
  cleanup.add(`build snapshot ${target}`, () => rm(join(ROOT, 'bench-results', `.build-${stamp}`), { recursive: true, force: true }));
  await cp(source, target, { recursive: true });
  const built = await stat(join(source, 'controller', 'cli.js'));
  return {
    cli: join(target, 'controller', 'cli.js'),
    commit: git(['rev-parse', '--short', 'HEAD']),
    srcChanges: git(['status', '--porcelain', '--', 'src']).split('\n').filter((l) => l.trim() !== '').length,
    builtAt: built.mtime.toISOString(),
  };
}
