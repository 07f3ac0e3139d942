/**
 * 8. Disruption: 4 keep-alive client loops on an untouched host (h3) count failed requests
 * (a) while C new manifests land one by one, back to back, the way a config tool (Ansible, Salt,
 *     a GitOps sync) writes them: each file written (temp file + rename) before the next starts,
 *     nothing waited for in between; then until every new host answers (hosts that never answer
 *     within 60 s are counted). Beside it, the Caddy-only instance taking C raw POST /load reloads
 *     back to back (each load awaited, then the next; then until the last one answers). Target:
 *     fewer failed requests than Caddy-only, or 0 (ingressd may coalesce the changes into fewer
 *     reloads);
 * (b) across an ingressd restart (SIGTERM, start, first sync, +1 s). Target: 0;
 * (c) full run only, informational (no target): the paced variant, each change waited for until
 *     it answers before the next is written, and the same for C raw reloads, so each change is
 *     exactly one reload on both sides (per-reload parity).
 * Caddy reloads are counted from Caddy's log once ingressd has applied the whole set.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SizeContext } from '../harness/context.js';
import { figuresOf, reference, type FigureInput } from '../harness/figures.js';
import { answeredWithin, waitUntilAllAnswered, waitUntilAnswered, type Target } from '../harness/http-client.js';
import { singleGroup, type LoadResult } from '../harness/load-protocol.js';
import { extraIngresses, removeManifests, writeManifest, type ManifestFile } from '../harness/manifests.js';
import { CADDY_ONLY_PORT_OFFSET } from '../harness/ports.js';
import { summarize } from '../harness/stats.js';
import { errorsNote } from './instance-move.js';
import type { Scenario } from './types.js';

const OPEN_ENDED = { warmupMs: 0, durationMs: 0 } as const;

/** Paced: how long one change may take to answer. */
const STEP_TIMEOUT_MS = 30_000;
/** Back to back: how long, from the first write, all C hosts may take to answer. */
const ALL_TIMEOUT_MS = 60_000;

interface Disturbed {
  readonly traffic: LoadResult;
  readonly writes: number;
  /** Paced: each change → its answer; back to back: first write → all answering (one value); restart: SIGTERM → first sync. NaN: did not answer in time. */
  readonly stepMs: readonly number[];
  /** Changes that did not answer within the wait. */
  readonly lost: number;
  /** Back to back: writing the C files (or sending the C loads). */
  readonly issueMs?: number;
}

export const disruptionScenario: Scenario = {
  id: 8,
  name: 'disruption',
  async run(ctx) {
    const count = ctx.plan.disruptionChanges;
    const changes = await backToBack(ctx, count);
    const restart = await acrossRestart(ctx);
    const raw = await rawReloadsBackToBack(ctx, count);
    const note = (r: LoadResult): string =>
      `4 loops on h3, of ${r.requests.toLocaleString('en-US')} in ${(r.elapsedMs / 1000).toFixed(1)} s (slowest ${r.maxMs.toFixed(0)} ms)${errorsNote(r.errors)}`;
    const rawRef = reference(`Caddy-only, ${count} raw reloads back to back`, raw.traffic.failed);
    const figures: FigureInput[] = [
      {
        name: `failed requests, ${count} changes back to back`,
        unit: 'count',
        value: changes.traffic.failed,
        reference: rawRef,
        target: { text: '< Caddy-only (or 0)', pass: changes.traffic.failed < raw.traffic.failed || changes.traffic.failed === 0 },
        note: note(changes.traffic),
      },
      {
        name: `  back to back: hosts never answering (${ALL_TIMEOUT_MS / 1000} s)`,
        unit: 'count',
        value: changes.lost,
        target: { text: '0', pass: changes.lost === 0 },
        note: 'file events ingressd never acted on',
      },
      { name: `Caddy reloads, ${count} changes back to back`, unit: 'count', value: changes.writes, reference: reference('Caddy-only raw reloads', count) },
      {
        name: `  back to back: first write → all ${count} answer`,
        unit: 'ms',
        value: changes.stepMs[0] ?? Number.NaN,
        reference: reference(`Caddy-only: first load → last answers`, raw.stepMs[0] ?? Number.NaN),
        note: `writing the ${count} files: ${(changes.issueMs ?? Number.NaN).toFixed(0)} ms`,
      },
      {
        name: `  Caddy-only, ${count} raw reloads back to back: failed`,
        unit: 'count',
        value: raw.traffic.failed,
        note: `${note(raw.traffic)}; sending the ${count} loads: ${(raw.issueMs ?? Number.NaN).toFixed(0)} ms`,
      },
      { name: 'failed requests, ingressd restart', unit: 'count', value: restart.traffic.failed, target: { text: '0', pass: restart.traffic.failed === 0 }, note: note(restart.traffic) },
      { name: 'Caddy reloads, ingressd restart', unit: 'count', value: restart.writes },
      { name: '  restart: SIGTERM → first sync', unit: 'ms', value: summarize(restart.stepMs) },
    ];
    if (ctx.plan.pacedDisruption) {
      const paced = await pacedChanges(ctx, count);
      const rawPaced = await rawReloadsPaced(ctx, count);
      figures.push(
        {
          name: `failed requests, ${count} changes paced, each waited for`,
          unit: 'count',
          value: paced.traffic.failed,
          reference: reference(`Caddy-only, ${count} raw reloads paced`, rawPaced.traffic.failed),
          note: `informational: one reload per change on both sides; ${note(paced.traffic)}`,
        },
        {
          name: `  paced: changes never answering (${STEP_TIMEOUT_MS / 1000} s)`,
          unit: 'count',
          value: paced.lost,
          target: { text: '0', pass: paced.lost === 0 },
          note: 'file events ingressd never acted on',
        },
        { name: `Caddy reloads, ${count} changes paced`, unit: 'count', value: paced.writes, reference: reference('Caddy-only raw reloads', count) },
        { name: '  paced: change → answers, under traffic', unit: 'ms', value: summarize(paced.stepMs), reference: reference('Caddy-only load → answering', summarize(rawPaced.stepMs)) },
        { name: `  Caddy-only, ${count} raw reloads paced: failed`, unit: 'count', value: rawPaced.traffic.failed, note: note(rawPaced.traffic) },
      );
    }
    return figuresOf('8 disruption', ctx.n, figures);
  },
};

function untouched(ctx: SizeContext, portOffset = 0): Target {
  const t = ctx.workload.targets[3]!; // h3 → inst3, never changed by any scenario
  return { ...t, port: t.port + portOffset };
}

/** Removes the extra manifests again and waits until ingressd has applied the original N. */
async function settle(ctx: SizeContext, manifests: readonly ManifestFile[]): Promise<void> {
  const mark = ctx.ingressd.mark();
  await removeManifests(ctx.manifestDir, manifests);
  await ctx.ingressd.waitForSet(mark, ctx.n);
  await ctx.ingressd.waitQuiet(500);
}

/** (a) C manifests written one after another, nothing awaited in between but the write itself. */
async function backToBack(ctx: SizeContext, count: number): Promise<Disturbed> {
  const extra = extraIngresses('d', count);
  const before = await ctx.writes();
  const mark = ctx.ingressd.mark();
  const loops = await ctx.shared.load.begin(singleGroup([untouched(ctx)], 4, 'first', OPEN_ENDED));
  let answered: { readonly at: number; readonly pending: number };
  let started: number;
  let written: number;
  try {
    started = performance.now();
    for (const manifest of extra.manifests) await writeManifest(ctx.manifestDir, manifest);
    written = performance.now();
    answered = await waitUntilAllAnswered(extra.targets, ALL_TIMEOUT_MS);
  } catch (err) {
    await loops.stop();
    await settle(ctx, extra.manifests);
    throw err;
  }
  const traffic = await loops.stop();
  await ctx.ingressd.waitForSet(mark, ctx.n + count, answered.pending === 0 ? 60_000 : 5000);
  const writes = (await ctx.writes()) - before;
  await settle(ctx, extra.manifests);
  return {
    traffic,
    writes,
    stepMs: [answered.pending === 0 ? answered.at - started : Number.NaN],
    lost: answered.pending,
    issueMs: written - started,
  };
}

/** (c) C manifests, each waited for until its host answers before the next is written. */
async function pacedChanges(ctx: SizeContext, count: number): Promise<Disturbed> {
  const extra = extraIngresses('dp', count);
  const before = await ctx.writes();
  const mark = ctx.ingressd.mark();
  const loops = await ctx.shared.load.begin(singleGroup([untouched(ctx)], 4, 'first', OPEN_ENDED));
  const stepMs: number[] = [];
  try {
    for (let j = 0; j < count; j++) {
      const started = performance.now();
      await writeManifest(ctx.manifestDir, extra.manifests[j]!);
      const answered = await answeredWithin(extra.targets[j]!, STEP_TIMEOUT_MS);
      stepMs.push(answered === undefined ? Number.NaN : answered - started);
    }
  } catch (err) {
    await loops.stop();
    await settle(ctx, extra.manifests);
    throw err;
  }
  const traffic = await loops.stop();
  const lost = stepMs.filter((ms) => Number.isNaN(ms)).length;
  await ctx.ingressd.waitForSet(mark, ctx.n + count, lost === 0 ? 60_000 : 5000);
  const writes = (await ctx.writes()) - before;
  await settle(ctx, extra.manifests);
  return { traffic, writes, stepMs, lost };
}

async function acrossRestart(ctx: SizeContext): Promise<Disturbed> {
  const before = await ctx.writes();
  const loops = await ctx.shared.load.begin(singleGroup([untouched(ctx)], 4, 'first', OPEN_ENDED));
  const started = performance.now();
  await ctx.ingressd.stop();
  await ctx.startIngressd();
  const restartMs = performance.now() - started;
  await sleep(1000);
  const traffic = await loops.stop();
  return { traffic, writes: (await ctx.writes()) - before, stepMs: [restartMs], lost: 0 };
}

/** h1 of the Caddy-only instance, in the state the j-th load (from 0) leaves it in. */
function rawStep(ctx: SizeContext, j: number): { readonly body: string; readonly target: Target } {
  const toggle = ctx.toggle();
  const next = (j + 1) % 2;
  const target = toggle.targets[next]!;
  return { body: toggle.bodies[next]!, target: { ...target, port: target.port + CADDY_ONLY_PORT_OFFSET } };
}

/** (a) beside: C real-change POST /loads, each awaited and the next sent at once; then until the last answers. */
async function rawReloadsBackToBack(ctx: SizeContext, count: number): Promise<Disturbed> {
  await ctx.caddyOnly.load(ctx.toggle().bodies[0]);
  const loops = await ctx.shared.load.begin(singleGroup([untouched(ctx, CADDY_ONLY_PORT_OFFSET)], 4, 'first', OPEN_ENDED));
  let started: number;
  let sent: number;
  let answered: number | undefined;
  try {
    started = performance.now();
    for (let j = 0; j < count; j++) await ctx.caddyOnly.load(rawStep(ctx, j).body);
    sent = performance.now();
    answered = await answeredWithin(rawStep(ctx, count - 1).target, ALL_TIMEOUT_MS);
  } catch (err) {
    await loops.stop();
    throw err;
  }
  const traffic = await loops.stop();
  return { traffic, writes: count, stepMs: [answered === undefined ? Number.NaN : answered - started], lost: answered === undefined ? 1 : 0, issueMs: sent - started };
}

/** (c) beside: C real-change POST /loads, each waited for until it answers. */
async function rawReloadsPaced(ctx: SizeContext, count: number): Promise<Disturbed> {
  await ctx.caddyOnly.load(ctx.toggle().bodies[0]);
  const loops = await ctx.shared.load.begin(singleGroup([untouched(ctx, CADDY_ONLY_PORT_OFFSET)], 4, 'first', OPEN_ENDED));
  const stepMs: number[] = [];
  try {
    for (let j = 0; j < count; j++) {
      const step = rawStep(ctx, j);
      const started = performance.now();
      await ctx.caddyOnly.load(step.body);
      stepMs.push((await waitUntilAnswered(step.target)) - started);
    }
  } catch (err) {
    await loops.stop();
    throw err;
  }
  return { traffic: await loops.stop(), writes: count, stepMs, lost: 0 };
}
