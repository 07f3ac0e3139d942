/**
 * 2. One change: h1's manifest is rewritten to point at another instance. Measures the time
 * ingressd's reconcile spends in render + read + diff + write (from its log line, with no traffic,
 * like the floor), then manifest written → first answer from the new backend (polling), each
 * beside Caddy's floor at this N.
 *
 * The floor this scenario compares with is measured paired: next to each timed change, one
 * Caddy-only `POST /load` of the same change after the same idle pause. On a shared VM the cost of
 * a reload drifts by ±20% within seconds (measured); pairing puts both sides in the same moments.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SizeContext, Toggle } from '../harness/context.js';
import { figuresOf, reference, type FigureInput } from '../harness/figures.js';
import { answeredWithin } from '../harness/http-client.js';
import { STAGES, type Reconcile, type Stage } from '../harness/ingressd.js';
import { writeManifest } from '../harness/manifests.js';
import { summarize } from '../harness/stats.js';
import type { Scenario } from './types.js';

/**
 * Unrecorded changes before the timed ones, so ingressd's Caddy has reloaded about as often as the
 * Caddy-only instance (10-20 loads by now); even, so the manifest ends as it started. With 4, the
 * paired ratio at N=100 read 1.31-1.32× in two runs of 8 pairs; with 12, 1.10-1.11×.
 */
const WARMUP_CHANGES = 12;
/** Idle time before each timed change and each paired floor load: reloads are not back to back. */
const PAUSE_MS = 300;

export const oneChangeScenario: Scenario = {
  id: 2,
  name: 'one-change',
  async run(ctx) {
    const toggle = ctx.toggle();
    const unpaired = await ctx.floor();
    const sameRequest = await ctx.sameRequestFloor();
    // Stage timings first, with no client polling Caddy: a reload under traffic waits for busy
    // connections to go idle (Go's graceful shutdown polls), which the idle Caddy-only floor never
    // pays. Then the end-to-end figure, polling for the answer as a user would.
    // A Caddy that has made only its first load reloads up to twice as slowly for its next few
    // (measured: 85-127 ms, then 40-60 ms at N=10,000); the Caddy-only floor instance has made many
    // loads by now. Warm ingressd's Caddy the same way (WARMUP_CHANGES).
    for (let r = 0; r < WARMUP_CHANGES; r++) {
      const mark = ctx.ingressd.mark();
      await writeManifest(ctx.manifestDir, toggle.manifests[(r + 1) % 2]!);
      await ctx.ingressd.waitForWrite(mark, 30_000);
      await ctx.ingressd.waitQuiet(PAUSE_MS);
    }
    const timed = await ctx.quietly('one change, paired with floor loads', () => pairedChanges(ctx, toggle));
    const floor = summarize(timed.floor);
    const untilReconcile: number[] = [];
    let lost = 0;
    const endToEnd: number[] = [];
    for (let r = 0; r < ctx.plan.changeReps; r++) {
      const next = (r + 1) % 2;
      const mark = ctx.ingressd.mark();
      const started = performance.now();
      await writeManifest(ctx.manifestDir, toggle.manifests[next]!);
      const answered = await answeredWithin(toggle.targets[next]!, 30_000);
      if (answered === undefined) {
        lost++;
        continue;
      }
      endToEnd.push(answered - started);
      const reconcile = await ctx.ingressd.waitForWrite(mark);
      untilReconcile.push(reconcile.at - reconcile.durationMs - started);
      await ctx.ingressd.waitQuiet(PAUSE_MS);
    }
    const { reconciles, writes } = timed;
    const spentEach = reconciles.map((r) => r.timings.renderMs + r.timings.readMs + r.timings.diffMs + r.timings.writeMs);
    const spent = summarize(spentEach);
    // Each change over its own paired floor load: the drift both share cancels out.
    const perPair = summarize(spentEach.map((ms, i) => ms / timed.floor[i]!));
    const floorRef = reference('Caddy POST /load, paired (floor)', floor);
    const sameRef = reference("Caddy-only, ingressd's write request", sameRequest);
    const stage = (s: Stage): FigureInput => ({ name: `  stage ${s.replace('Ms', '')}`, unit: 'ms', value: summarize(reconciles.map((r) => r.timings[s])), reference: s === 'writeMs' ? sameRef : floorRef });
    return figuresOf('2 one change', ctx.n, [
      {
        name: 'floor, paired with the changes',
        unit: 'ms',
        value: floor,
        reference: reference('floor loads back to back (scenario 1)', unpaired),
        note: 'Caddy-only POST /load next to each timed change',
      },
      {
        name: 'reconcile: render+read+diff+write',
        unit: 'ms',
        value: spent,
        reference: floorRef,
      },
      {
        name: '  per pair: reconcile ÷ its floor load',
        unit: 'x',
        value: perPair,
        target: { text: '≤ 1.2× floor', pass: perPair.median <= 1.2 },
        note: 'median of the paired ratios',
      },
      {
        name: '  ingressd alone: render+read+diff',
        unit: 'ms',
        value: summarize(reconciles.map((r) => r.timings.renderMs + r.timings.readMs + r.timings.diffMs)),
        reference: floorRef,
        note: 'what ingressd adds to Caddy\'s write',
      },
      ...STAGES.map(stage),
      { name: '  reconcile total', unit: 'ms', value: summarize(reconciles.map((r) => r.durationMs)), reference: floorRef },
      {
        name: 'written → new backend answers',
        unit: 'ms',
        value: summarize(endToEnd),
        reference: floorRef,
        target: { text: `p50 ≤ floor + 150 ms (${(floor.median + 150).toFixed(0)} ms)`, pass: summarize(endToEnd).median <= floor.median + 150 },
      },
      { name: '  written → reconcile starts', unit: 'ms', value: summarize(untilReconcile), note: 'watcher settle + debounce' },
      { name: 'Caddy writes per change', unit: 'count', value: summarize(writes) },
      { name: '  changes never answering (30 s)', unit: 'count', value: lost, target: { text: '0', pass: lost === 0 }, note: 'file events ingressd never acted on' },
    ]);
  },
};

interface PairedRun {
  readonly reconciles: Reconcile[];
  readonly floor: number[];
  readonly writes: number[];
}

/**
 * `pairedChangeReps` changes of h1 (even, so the manifest ends as it started), each paired with a
 * Caddy-only load of the same change: the load first in even pairs and second in odd ones, so
 * whatever the order favours cancels out; each after PAUSE_MS of idle time.
 */
async function pairedChanges(ctx: SizeContext, toggle: Toggle): Promise<PairedRun> {
  const run: PairedRun = { reconciles: [], floor: [], writes: [] };
  await ctx.caddyOnly.load(toggle.bodies[0]);
  for (let r = 0; r < ctx.plan.pairedChangeReps; r++) {
    const next = (r + 1) % 2;
    const floorLoad = async (): Promise<void> => {
      await sleep(PAUSE_MS);
      run.floor.push(await ctx.caddyOnly.load(toggle.bodies[next]!));
    };
    if (r % 2 === 0) await floorLoad();
    await sleep(PAUSE_MS);
    const mark = ctx.ingressd.mark();
    const before = await ctx.writes();
    await writeManifest(ctx.manifestDir, toggle.manifests[next]!);
    run.reconciles.push(await ctx.ingressd.waitForWrite(mark, 30_000));
    await ctx.ingressd.waitQuiet(PAUSE_MS);
    run.writes.push((await ctx.writes()) - before);
    if (r % 2 === 1) await floorLoad();
  }
  return run;
}
