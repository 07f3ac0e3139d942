/**
 * 2. One change: h1's manifest is rewritten to point at another instance. Measures the time
 * ingressd's reconcile spends in render + read + diff + write (from its log line, with no traffic,
 * like the floor), then manifest written → first answer from the new backend (polling), for a
 * file renamed into place and one written in place by turns, each beside Caddy's floor at this N.
 *
 * The floor this scenario compares with is measured paired (`pairedChanges`): next to each timed
 * change, one Caddy-only `POST /load` of the same change after the same idle pause.
 */
import { figuresOf, reference, type FigureInput } from '../harness/figures.js';
import { answeredWithin } from '../harness/http-client.js';
import { STAGES, type Stage } from '../harness/ingressd.js';
import { writeManifest, writeManifestInPlace } from '../harness/manifests.js';
import { pairedChanges, PAUSE_MS, spentOn, warmUpChanges } from '../harness/paired-changes.js';
import { summarize } from '../harness/stats.js';
import type { Scenario } from './types.js';

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
    // Before both, unrecorded changes warm ingressd's Caddy as the Caddy-only one is (warmUpChanges).
    await warmUpChanges(ctx, toggle.manifests);
    const timed = await ctx.quietly('one change, paired with floor loads', () => pairedChanges(ctx.caddyOnly, ctx, toggle, ctx.plan.pairedChangeReps));
    const floor = summarize(timed.floor);
    const untilReconcile: number[] = [];
    let lost = 0;
    // Renamed into place (Ansible, Salt, rsync, git, the API) and written in place (an editor, `>`),
    // by turns: ingressd reads a renamed file at once and lets one written in place settle.
    const endToEnd: number[] = [];
    const inPlace: number[] = [];
    for (let r = 0; r < 2 * ctx.plan.changeReps; r++) {
      const next = (r + 1) % 2;
      const renamed = r % 2 === 0;
      const mark = ctx.ingressd.mark();
      const started = performance.now();
      await (renamed ? writeManifest : writeManifestInPlace)(ctx.manifestDir, toggle.manifests[next]!);
      const answered = await answeredWithin(toggle.targets[next]!, 30_000);
      if (answered === undefined) {
        lost++;
        continue;
      }
      (renamed ? endToEnd : inPlace).push(answered - started);
      const reconcile = await ctx.ingressd.waitForWrite(mark);
      if (renamed) untilReconcile.push(reconcile.at - reconcile.durationMs - started);
      await ctx.ingressd.waitQuiet(PAUSE_MS);
    }
    const { reconciles, writes } = timed;
    const spentEach = reconciles.map(spentOn);
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
        target: { text: `p50 ≤ floor + 30 ms (${(floor.median + 30).toFixed(0)} ms)`, pass: summarize(endToEnd).median <= floor.median + 30 },
        note: 'renamed into place, as tools and the API write',
      },
      { name: '  written → reconcile starts', unit: 'ms', value: summarize(untilReconcile), note: 'renamed: debounce only' },
      {
        name: '  written in place → new backend answers',
        unit: 'ms',
        value: summarize(inPlace),
        reference: floorRef,
        target: { text: `p50 ≤ floor + 150 ms (${(floor.median + 150).toFixed(0)} ms)`, pass: summarize(inPlace).median <= floor.median + 150 },
        note: 'an editor or `>`: the file settles first',
      },
      { name: 'Caddy writes per change', unit: 'count', value: summarize(writes) },
      { name: '  changes never answering (30 s)', unit: 'count', value: lost, target: { text: '0', pass: lost === 0 }, note: 'file events ingressd never acted on' },
    ]);
  },
};
