/**
 * 7. Footprint: ingressd's RSS and start-up → first sync with N manifest files. Cold: the first
 * start of this N (ingressd starts Caddy and the DNS process, Caddy loads everything). Warm:
 * ingressd restarted, adopting the running Caddy and DNS. Beside Caddy's floor and the Caddy-only
 * process's RSS holding the same routes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { figuresOf, reference, targetAt } from '../harness/figures.js';
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
    return figuresOf('7 footprint', ctx.n, [
      { name: 'cold start → first sync', unit: 'ms', value: cold.startupMs, reference: floorRef, target: targetAt(ctx.n, 10_000, '≤ 5 s', cold.startupMs <= 5000), note: 'starts Caddy + DNS' },
      { name: '  cold start → last host answers', unit: 'ms', value: cold.servingMs, reference: floorRef, note: 'traffic served; status files still being written' },
      { name: 'warm restart → first sync', unit: 'ms', value: warm.startupMs, reference: floorRef, target: targetAt(ctx.n, 10_000, '≤ 5 s', warm.startupMs <= 5000), note: 'adopts Caddy + DNS' },
      { name: 'RSS after first sync (cold)', unit: 'MB', value: cold.rssMb, reference: rssRef, target: targetAt(ctx.n, 10_000, '≤ 250 MB', cold.rssMb <= 250), note: rssNote },
      { name: 'peak RSS, VmHWM (cold)', unit: 'MB', value: cold.peakRssMb, reference: rssRef, target: targetAt(ctx.n, 10_000, '≤ 250 MB', cold.peakRssMb <= 250) },
      { name: 'RSS after first sync (warm)', unit: 'MB', value: warmMemory.rssMb, reference: rssRef, target: targetAt(ctx.n, 10_000, '≤ 250 MB', warmMemory.rssMb <= 250), note: rssNote },
    ]);
  },
};
