/**
 * 3. Burst: 1,000 new manifests written at once on top of N. Measures the time until every new
 * host answers from its backend and how many config writes Caddy received (from Caddy's log),
 * beside Caddy's floor for the resulting config. The files are removed again after each run.
 * "All answer" is watched through the host written last, then proved with one sweep of all of them
 * (see `waitUntilAllAnsweredAfter`), so the benchmark does not flood Caddy while ingressd works.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serialize } from '../harness/caddy-only.js';
import type { SizeContext } from '../harness/context.js';
import { figuresOf, reference, type FigureInput } from '../harness/figures.js';
import { get, waitUntilAllAnsweredAfter } from '../harness/http-client.js';
import { STAGES, type Reconcile } from '../harness/ingressd.js';
import { extraIngresses, removeManifests, writeManifests, type ManifestFile } from '../harness/manifests.js';
import { sum, summarize, type Summary } from '../harness/stats.js';
import type { Scenario } from './types.js';

interface BurstRun {
  /** NaN when some host never answered within the wait. */
  readonly allAnsweringMs: number;
  readonly neverAnswered: number;
  /** All answered from the config that answered the last host (one sweep, no config write between). */
  readonly proved: boolean;
  readonly writeFilesMs: number;
  readonly caddyWrites: number;
  readonly reconciles: readonly Reconcile[];
  /** Milliseconds of each status-file pass (written after Caddy, off the answering path). */
  readonly statusPasses: readonly number[];
}

export const burstScenario: Scenario = {
  id: 3,
  name: 'burst',
  async run(ctx) {
    const burst = extraIngresses('b', ctx.plan.burstFiles);
    const floor = await finalFloor(ctx, burst.manifests);
    const runs: BurstRun[] = [];
    for (let r = 0; r < ctx.plan.burstReps; r++) {
      const mark = ctx.ingressd.mark();
      const before = await ctx.writes();
      const started = performance.now();
      await writeManifests(ctx.manifestDir, burst.manifests);
      const written = performance.now();
      const answered = await waitUntilAllAnsweredAfter(burst.targets[burst.targets.length - 1]!, burst.targets, () => ctx.writes(), 60_000);
      await ctx.ingressd.waitForSet(mark, ctx.n + burst.targets.length, answered.pending === 0 ? 60_000 : 5000);
      await ctx.ingressd.waitQuiet(1000);
      runs.push({
        allAnsweringMs: answered.pending === 0 ? answered.at - started : Number.NaN,
        neverAnswered: answered.pending,
        proved: answered.proved,
        writeFilesMs: written - started, caddyWrites: (await ctx.writes()) - before, reconciles: ctx.ingressd.reconcilesSince(mark), statusPasses: ctx.ingressd.statusPassesSince(mark) });
      const removal = ctx.ingressd.mark();
      await removeManifests(ctx.manifestDir, burst.manifests);
      await ctx.ingressd.waitForSet(removal, ctx.n);
      await waitUntilGone(burst.targets[0]!.port, burst.targets[0]!.host).catch(() => undefined);
      await ctx.ingressd.waitQuiet(1000);
    }
    const all = summarize(runs.map((r) => r.allAnsweringMs));
    const writes = summarize(runs.map((r) => r.caddyWrites));
    const floorRef = reference(`Caddy POST /load at N+${ctx.plan.burstFiles} (floor)`, floor);
    const stageSum = (name: string, of: (rec: Reconcile) => number): FigureInput => ({ name: `  Σ ${name}`, unit: 'ms', value: summarize(runs.map((r) => sum(r.reconciles.map(of)))), reference: floorRef });
    return figuresOf('3 burst', ctx.n, [
      {
        name: `${ctx.plan.burstFiles.toLocaleString('en-US')} files → all answer`,
        unit: 'ms',
        value: all,
        reference: floorRef,
        target: { text: `≤ 2× floor + 1 s (${(2 * floor.median + 1000).toFixed(0)} ms)`, pass: all.runs === runs.length && all.median <= 2 * floor.median + 1000 },
      },
      { name: 'Caddy writes', unit: 'count', value: writes, target: { text: '≤ 3', pass: writes.max <= 3 } },
      {
        name: '  hosts never answering (60 s)',
        unit: 'count',
        value: summarize(runs.map((r) => r.neverAnswered)),
        target: { text: '0', pass: runs.every((r) => r.neverAnswered === 0) },
        note: 'file events ingressd never acted on',
      },
      {
        name: '  runs timed by the last host',
        unit: 'count',
        value: runs.filter((r) => r.proved).length,
        note: 'the others: time of the sweep that found all answering',
      },
      { name: '  reconciles', unit: 'count', value: summarize(runs.map((r) => r.reconciles.length)) },
      { name: '  writing the files', unit: 'ms', value: summarize(runs.map((r) => r.writeFilesMs)) },
      stageSum('reconcile total', (rec) => rec.durationMs),
      ...STAGES.map((s) => stageSum(`stage ${s.replace('Ms', '')}`, (rec) => rec.timings[s])),
      { name: '  Σ status files, after Caddy', unit: 'ms', value: summarize(runs.map((r) => sum(r.statusPasses))), note: 'their own pass, never ahead of the next Caddy write' },
    ]);
  },
};

/** Caddy-only floor of the config after the burst (h1 toggled so each load is a real change). */
async function finalFloor(ctx: SizeContext, burst: readonly ManifestFile[]): Promise<Summary> {
  const toggle = ctx.toggle();
  ctx.renderer.put(burst);
  const a = serialize(ctx.renderer.put([toggle.manifests[1]]).render());
  const b = serialize(ctx.renderer.put([toggle.manifests[0]]).render());
  ctx.renderer.remove(burst);
  return ctx.quietly('floor loads at N+burst', () => ctx.timeLoads([b, a]));
}

/** Waits until the host answers 404 again (its manifest was removed and Caddy reloaded). */
async function waitUntilGone(port: number, host: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const answer = await get(port, host, false).catch(() => undefined);
    if (answer?.status === 404) return;
    await sleep(50);
  }
  throw new Error(`${host} still served 30 s after its manifest was removed`);
}
