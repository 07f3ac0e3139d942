/**
 * 1. Floor: Caddy's own POST /load of the config ingressd renders, and of the same routes as flat
 * host routes (one route per host). Every timed load is a real change (h1 alternates between two
 * instances), on a fresh connection, to the Caddy-only instance.
 */
import { flatten, routeCount } from '../harness/configs.js';
import { figuresOf, reference } from '../harness/figures.js';
import type { Scenario } from './types.js';

export const floorScenario: Scenario = {
  id: 1,
  name: 'floor',
  async run(ctx) {
    const toggle = ctx.toggle();
    const rendered = await ctx.floor();
    const flat = await ctx.quietly('flat loads', () => ctx.timeLoads(toggle.flatBodies));
    // The later floors (here and in scenario 2) come from a Caddy that never held the flat layout.
    await ctx.renewCaddyOnly();
    const noOp = await ctx.noOpFloor();
    const sameRequest = await ctx.sameRequestFloor();
    const config = ctx.rendered();
    const kib = (body: string): number => Buffer.byteLength(body) / 1024;
    return figuresOf('1 floor', ctx.n, [
      { name: 'POST /load, layout ingressd renders (floor)', unit: 'ms', value: rendered, reference: reference('flat host routes', flat) },
      {
        name: "POST /config/ + If-Match (ingressd's request)",
        unit: 'ms',
        value: sameRequest,
        reference: reference('POST /load (floor)', rendered),
      },
      { name: 'POST /load, identical body (no-op)', unit: 'ms', value: noOp, reference: reference('real change (floor)', rendered) },
      { name: 'routes in the rendered config', unit: 'count', value: routeCount(config), reference: reference('flat', routeCount(flatten(config))) },
      { name: 'config body size', unit: 'KiB', value: kib(toggle.bodies[0]), reference: reference('flat', kib(toggle.flatBodies[0])) },
      {
        name: "ingressd's live config = floor config",
        unit: 'bool',
        value: ctx.cold.configMatches ? 1 : 0,
        target: { text: 'true', pass: ctx.cold.configMatches },
      },
    ]);
  },
};
