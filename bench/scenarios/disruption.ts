/**
 * 8. Disruption: 4 keep-alive client loops on an untouched host (h3) count failed requests
 * (a) while C new manifests land one by one (each written, then waited for until it answers),
 * (b) across an ingressd restart (SIGTERM, start, first sync, +1 s), and (c) on the Caddy-only
 * instance while it takes C raw POST /load reloads (each waited for until it answers).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SizeContext } from '../harness/context.js';
import { figuresOf, reference } from '../harness/figures.js';
import { answeredWithin, waitUntilAnswered, type Target } from '../harness/http-client.js';
import { singleGroup, type LoadResult } from '../harness/load-protocol.js';
import { extraIngresses, removeManifests, writeManifest } from '../harness/manifests.js';
import { CADDY_ONLY_PORT_OFFSET } from '../harness/ports.js';
import { summarize } from '../harness/stats.js';
import { errorsNote } from './instance-move.js';
import type { Scenario } from './types.js';

const OPEN_ENDED = { warmupMs: 0, durationMs: 0 } as const;

interface Disturbed {
  readonly traffic: LoadResult;
  readonly writes: number;
  readonly stepMs: readonly number[];
  /** Changes that did not answer within the wait (NaN in stepMs). */
  readonly lost: number;
}

const STEP_TIMEOUT_MS = 30_000;

export const disruptionScenario: Scenario = {
  id: 8,
  name: 'disruption',
  async run(ctx) {
    const count = ctx.plan.disruptionChanges;
    const changes = await underChanges(ctx, count);
    const restart = await acrossRestart(ctx);
    const raw = await underRawReloads(ctx, count);
    const note = (r: LoadResult): string => `4 loops on h3, of ${r.requests.toLocaleString('en-US')}${errorsNote(r.errors)}`;
    const rawRef = reference(`Caddy-only, ${count} raw reloads`, raw.traffic.failed);
    return figuresOf('8 disruption', ctx.n, [
      {
        name: `failed requests, ${count} changes`,
        unit: 'count',
        value: changes.traffic.failed,
        reference: rawRef,
        target: { text: '< Caddy-only (or 0)', pass: changes.traffic.failed < raw.traffic.failed || changes.traffic.failed === 0 },
        note: note(changes.traffic),
      },
      {
        name: `  changes never answering (${STEP_TIMEOUT_MS / 1000} s)`,
        unit: 'count',
        value: changes.lost,
        target: { text: '0', pass: changes.lost === 0 },
        note: 'file events ingressd never acted on',
      },
      { name: `Caddy reloads, ${count} changes`, unit: 'count', value: changes.writes, reference: reference('Caddy-only raw reloads', count) },
      { name: '  change → answers, under traffic', unit: 'ms', value: summarize(changes.stepMs), reference: reference('Caddy-only load → answering', summarize(raw.stepMs)) },
      { name: '  Caddy-only raw reloads: failed', unit: 'count', value: raw.traffic.failed, note: note(raw.traffic) },
      { name: 'failed requests, ingressd restart', unit: 'count', value: restart.traffic.failed, target: { text: '0', pass: restart.traffic.failed === 0 }, note: note(restart.traffic) },
      { name: 'Caddy reloads, ingressd restart', unit: 'count', value: restart.writes },
      { name: '  restart: SIGTERM → first sync', unit: 'ms', value: summarize(restart.stepMs) },
    ]);
  },
};

function untouched(ctx: SizeContext, portOffset = 0): Target {
  const t = ctx.workload.targets[3]!; // h3 → inst3, never changed by any scenario
  return { ...t, port: t.port + portOffset };
}

async function underChanges(ctx: SizeContext, count: number): Promise<Disturbed> {
  const extra = extraIngresses('d', count);
  const before = await ctx.writes();
  const mark = ctx.ingressd.mark();
  const loops = await ctx.shared.load.begin(singleGroup([untouched(ctx)], 4, 'first', OPEN_ENDED));
  const stepMs: number[] = [];
  const settle = async (): Promise<void> => {
    const mark = ctx.ingressd.mark();
    await removeManifests(ctx.manifestDir, extra.manifests);
    await ctx.ingressd.waitForSet(mark, ctx.n);
    await ctx.ingressd.waitQuiet(500);
  };
  try {
    for (let j = 0; j < count; j++) {
      const started = performance.now();
      await writeManifest(ctx.manifestDir, extra.manifests[j]!);
      const answered = await answeredWithin(extra.targets[j]!, STEP_TIMEOUT_MS);
      stepMs.push(answered === undefined ? Number.NaN : answered - started);
    }
  } catch (err) {
    await loops.stop();
    await settle();
    throw err;
  }
  const traffic = await loops.stop();
  const lost = stepMs.filter((ms) => Number.isNaN(ms)).length;
  await ctx.ingressd.waitForSet(mark, ctx.n + count, lost === 0 ? 60_000 : 5000);
  const writes = (await ctx.writes()) - before;
  await settle();
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

async function underRawReloads(ctx: SizeContext, count: number): Promise<Disturbed> {
  const toggle = ctx.toggle();
  await ctx.caddyOnly.load(toggle.bodies[0]);
  const loops = await ctx.shared.load.begin(singleGroup([untouched(ctx, CADDY_ONLY_PORT_OFFSET)], 4, 'first', OPEN_ENDED));
  const stepMs: number[] = [];
  try {
    for (let j = 0; j < count; j++) {
      const next = (j + 1) % 2;
      const target = toggle.targets[next]!;
      const started = performance.now();
      await ctx.caddyOnly.load(toggle.bodies[next]!);
      stepMs.push((await waitUntilAnswered({ ...target, port: target.port + CADDY_ONLY_PORT_OFFSET })) - started);
    }
  } catch (err) {
    await loops.stop();
    throw err;
  }
  return { traffic: await loops.stop(), writes: count, stepMs, lost: 0 };
}
