/**
 * One change made through ingressd, timed against Caddy's floor measured paired: next to each
 * timed change, one Caddy-only `POST /load` of the same change after the same idle pause. On a
 * shared VM the cost of a reload drifts by ±20% within seconds (measured); pairing puts both sides
 * in the same moments. Shared by scenario 2 (the workload) and scenario 11 (hosts × paths).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CaddyOnly } from './caddy-only.js';
import type { Ingressd, Reconcile } from './ingressd.js';
import { writeManifest, type ManifestFile } from './manifests.js';

/**
 * Unrecorded changes before the timed ones, so ingressd's Caddy has reloaded about as often as the
 * Caddy-only instance (10-20 loads by then); even, so the manifest ends as it started. With 4, the
 * paired ratio at N=100 read 1.31-1.32× in two runs of 8 pairs; with 12, 1.10-1.11×.
 */
export const WARMUP_CHANGES = 12;
/** Idle time before each timed change and each paired floor load: reloads are not back to back. */
export const PAUSE_MS = 300;

/** The ingressd a change goes through: its process, its manifest directory, its Caddy's write count. */
export interface ChangeSide {
  readonly ingressd: Ingressd;
  readonly manifestDir: string;
  writes(): Promise<number>;
}

/** A change between two states: the manifest in state A and B, and the Caddy-only bodies of the whole config in each. */
export interface PairedToggle {
  readonly manifests: readonly [ManifestFile, ManifestFile];
  readonly bodies: readonly [string, string];
}

export interface PairedRun {
  readonly reconciles: Reconcile[];
  readonly floor: number[];
  readonly writes: number[];
}

/**
 * A Caddy that has made only its first load reloads up to twice as slowly for its next few
 * (measured: 85-127 ms, then 40-60 ms at N=10,000); the Caddy-only floor instance has made many
 * loads by the time it is compared. Warms ingressd's Caddy the same way: `count` (even) unrecorded changes.
 */
export async function warmUpChanges(side: ChangeSide, manifests: readonly [ManifestFile, ManifestFile], count = WARMUP_CHANGES): Promise<void> {
  for (let r = 0; r < count; r++) {
    const mark = side.ingressd.mark();
    await writeManifest(side.manifestDir, manifests[(r + 1) % 2]!);
    await side.ingressd.waitForWrite(mark, 30_000);
    await side.ingressd.waitQuiet(PAUSE_MS);
  }
}

/**
 * `reps` changes (even, so the manifest ends as it started), each paired with a Caddy-only load
 * of the same change: the load first in even pairs and second in odd ones, so whatever the order
 * favours cancels out; each after PAUSE_MS of idle time. No client polls either Caddy meanwhile.
 */
export async function pairedChanges(caddyOnly: CaddyOnly, side: ChangeSide, toggle: PairedToggle, reps: number): Promise<PairedRun> {
  const run: PairedRun = { reconciles: [], floor: [], writes: [] };
  await caddyOnly.load(toggle.bodies[0]);
  for (let r = 0; r < reps; r++) {
    const next = (r + 1) % 2;
    const floorLoad = async (): Promise<void> => {
      await sleep(PAUSE_MS);
      run.floor.push(await caddyOnly.load(toggle.bodies[next]!));
    };
    if (r % 2 === 0) await floorLoad();
    await sleep(PAUSE_MS);
    const mark = side.ingressd.mark();
    const before = await side.writes();
    await writeManifest(side.manifestDir, toggle.manifests[next]!);
    run.reconciles.push(await side.ingressd.waitForWrite(mark, 30_000));
    await side.ingressd.waitQuiet(PAUSE_MS);
    run.writes.push((await side.writes()) - before);
    if (r % 2 === 1) await floorLoad();
  }
  return run;
}

/** What ingressd spent on each change: render + read + diff + write, from its log line. */
export function spentOn(reconcile: Reconcile): number {
  const t = reconcile.timings;
  return t.renderMs + t.readMs + t.diffMs + t.writeMs;
}
