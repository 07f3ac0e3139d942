/**
 * 7. Footprint: ingressd's RSS and start-up → first sync with N manifest files. Cold: the first
 * start of this N (ingressd starts Caddy and the DNS process, Caddy loads everything). Warm:
 * ingressd restarted, adopting the running Caddy and DNS. Beside Caddy's floor and the Caddy-only
 * process's RSS holding the same routes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { figuresOf, reference, targetBySize } from '../harness/figures.js';
import { daemonPids } from '../harness/ingressd.js';
import { memoryOf } from '../harness/proc.js';
import type { Scenario } from './types.js';

export const footprintScenario: Scenario = {
  id: 7,
  name: 'footprint',
  async run(ctx) {
    const floor = await ctx.floor();
    await ctx.caddyOnly.load(ctx.toggle().bodies[0]);
    const caddyRss = ctx.caddyOnly.rssMb();
    const ownCaddyPid = (await daemonPids(ctx.dataDir)).caddy;
    const ownCaddyRss = ownCaddyPid === undefined ? Number.NaN : memoryOf(ownCaddyPid).rssMb;
    const warm = await ctx.restartIngressd();
    await sleep(500);
    const warmMemory = warm.memory();
    const floorRef = reference('Caddy POST /load (floor)', floor);
    const rssRef = reference('Caddy-only RSS (has also loaded flat)', caddyRss);
    const rssNote = `ingressd's own Caddy: ${ownCaddyRss.toFixed(0)} MB`;
    const { cold } = ctx;
    const startTarget = (ms: number) => targetBySize(ctx.n, [{ at: 10_000, text: '≤ 5 s', pass: ms <= 5000 }, { at: 100_000, text: '≤ 8 s', pass: ms <= 8000 }]);
    const rssTarget = (mb: number) => targetBySize(ctx.n, [{ at: 10_000, text: '≤ 250 MB', pass: mb <= 250 }, { at: 100_000, text: '≤ 400 MB', pass: mb <= 400 }]);
    return figuresOf('7 footprint', ctx.n, [
      { name: 'cold start → first sync', unit: 'ms', value: cold.startupMs, reference: floorRef, target: startTarget(cold.startupMs), note: 'starts Caddy + DNS' },
      { name: '  cold start → last host answers', unit: 'ms', value: cold.servingMs, reference: floorRef, note: 'traffic served; status files still being written' },
      {
        name: '  first sync → every status file written',
        unit: 'ms',
        value: cold.statusFilesMs,
        reference: floorRef,
        target: targetBySize(ctx.n, [{ at: 100_000, text: '≤ 5 s', pass: cold.statusFilesMs <= 5000 }]),
        note: 'one atomic write (temp file + rename) per manifest',
      },
      { name: 'warm restart → first sync', unit: 'ms', value: warm.startupMs, reference: floorRef, target: startTarget(warm.startupMs), note: 'adopts Caddy + DNS' },
      { name: 'RSS after first sync (cold)', unit: 'MB', value: cold.rssMb, reference: rssRef, target: rssTarget(cold.rssMb), note: rssNote },
      { name: 'peak RSS, VmHWM (cold)', unit: 'MB', value: cold.peakRssMb, reference: rssRef, target: rssTarget(cold.peakRssMb) },
      { name: 'RSS after first sync (warm)', unit: 'MB', value: warmMemory.rssMb, reference: rssRef, target: rssTarget(warmMemory.rssMb), note: rssNote },
    ]);
  },
};
