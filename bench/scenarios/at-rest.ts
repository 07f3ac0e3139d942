/**
 * 4. At rest: ingressd restarted with RESYNC_INTERVAL=1s and nothing changing. Over a window:
 * Caddy writes (from Caddy's log; must be 0) and ingressd's CPU time (utime + stime from /proc)
 * divided by the resyncs it logged. Beside Caddy's own cost of a no-op load of the same config.
 */
import { figuresOf, reference, targetAt } from '../harness/figures.js';
import { STAGES } from '../harness/ingressd.js';
import { summarize } from '../harness/stats.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from './types.js';

export const atRestScenario: Scenario = {
  id: 4,
  name: 'at-rest',
  async run(ctx) {
    const noOp = await ctx.noOpFloor();
    const ingressd = await ctx.restartIngressd({ RESYNC_INTERVAL: '1s' });
    try {
      await sleep(1500); // let the start-up sync and its status checks finish
      const mark = ingressd.mark();
      const before = await ctx.writes();
      const cpuBefore = ingressd.cpuTimeMs();
      await sleep(ctx.plan.restWindowMs);
      const cpuMs = ingressd.cpuTimeMs() - cpuBefore;
      const resyncs = ingressd.reconcilesSince(mark);
      const writes = (await ctx.writes()) - before;
      const perResync = resyncs.length === 0 ? Number.NaN : cpuMs / resyncs.length;
      return figuresOf('4 at rest', ctx.n, [
        { name: `Caddy writes over ${resyncs.length} resyncs`, unit: 'count', value: writes, target: { text: '0', pass: writes === 0 } },
        {
          name: 'ingressd CPU per resync',
          unit: 'ms',
          value: perResync,
          reference: reference('Caddy no-op POST /load (wall)', noOp),
          target: targetAt(ctx.n, 10_000, '≤ 100 ms', perResync <= 100),
          note: `${cpuMs.toFixed(0)} ms CPU in ${(ctx.plan.restWindowMs / 1000).toFixed(0)} s`,
        },
        { name: '  resync wall time (durationMs)', unit: 'ms', value: summarize(resyncs.map((r) => r.durationMs)) },
        ...STAGES.map((s) => ({ name: `  stage ${s.replace('Ms', '')}`, unit: 'ms' as const, value: summarize(resyncs.map((r) => r.timings[s])) })),
      ]);
    } finally {
      await ctx.restartIngressd();
    }
  },
};
