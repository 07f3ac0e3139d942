/**
 * 4. At rest: ingressd restarted with RESYNC_INTERVAL=1s and nothing changing. Over a window:
 * Caddy writes (from Caddy's log; must be 0) and ingressd's CPU time (utime + stime from /proc)
 * divided by the resyncs it logged. Beside Caddy's own cost of a no-op load of the same config.
 */
import { figuresOf, reference, targetBySize } from '../harness/figures.js';
import { STAGES } from '../harness/ingressd.js';
import { summarize } from '../harness/stats.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from './types.js';

export const atRestScenario: Scenario = {
  id: 4,
  name: 'at-rest',
  async run(ctx) {
    const noOp = await ctx.noOpFloor();
    // Baseline: a fresh process's CPU with no resync due (RESYNC_INTERVAL 10m), per second. Fresh,
    // because the previous scenario's process may still be writing status files or cross-checking
    // its incremental state (seconds of CPU at N=100,000); settled, because its start-up is not rest.
    const idle = await ctx.restartIngressd({ RESYNC_INTERVAL: '10m' });
    const idleSettled = await idle.waitCpuQuiet();
    const idleWindowMs = ctx.plan.restWindowMs / 2;
    const idleBefore = idle.cpuTimeMs();
    await sleep(idleWindowMs);
    const idleCpuPerS = ((idle.cpuTimeMs() - idleBefore) * 1000) / idleWindowMs;
    const ingressd = await ctx.restartIngressd({ RESYNC_INTERVAL: '1s' });
    try {
      await sleep(1500); // the start-up sync and its status checks
      // A resync every second keeps it busy, but below the start-up's full core: settle under 60%.
      const settled = (await ingressd.waitCpuQuiet(600)) && idleSettled;
      const mark = ingressd.mark();
      const before = await ctx.writes();
      const cpuBefore = ingressd.cpuTimeMs();
      await sleep(ctx.plan.restWindowMs);
      const cpuMs = ingressd.cpuTimeMs() - cpuBefore;
      const resyncs = ingressd.reconcilesSince(mark);
      const writes = (await ctx.writes()) - before;
      const perResync = resyncs.length === 0 ? Number.NaN : cpuMs / resyncs.length;
      const netPerResync = resyncs.length === 0 ? Number.NaN : (cpuMs - (idleCpuPerS * ctx.plan.restWindowMs) / 1000) / resyncs.length;
      return figuresOf('4 at rest', ctx.n, [
        { name: 'Caddy writes', unit: 'count', value: writes, target: { text: '0', pass: writes === 0 }, note: `over ${resyncs.length} resyncs` },
        {
          name: 'ingressd CPU per resync',
          unit: 'ms',
          value: perResync,
          reference: reference('Caddy no-op POST /load (wall)', noOp),
          target: targetBySize(ctx.n, [{ at: 10_000, text: '≤ 100 ms', pass: perResync <= 100 }, { at: 100_000, text: '≤ 150 ms', pass: perResync <= 150 }]),
          note: `${cpuMs.toFixed(0)} ms CPU in ${(ctx.plan.restWindowMs / 1000).toFixed(0)} s${settled ? '' : '; start-up work had not settled within 120 s'}`,
        },
        { name: '  CPU per resync, idle CPU subtracted', unit: 'ms', value: netPerResync, note: `idle: ${idleCpuPerS.toFixed(1)} ms CPU/s with no resync due` },
        { name: '  resync wall time', unit: 'ms', value: summarize(resyncs.map((r) => r.durationMs)) },
        ...STAGES.map((s) => ({ name: `  stage ${s.replace('Ms', '')}`, unit: 'ms' as const, value: summarize(resyncs.map((r) => r.timings[s])) })),
      ]);
    } finally {
      await ctx.restartIngressd();
    }
  },
};
