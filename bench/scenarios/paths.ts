/**
 * 11. Hosts × paths (issue 14): N hosts × 3 path rules (`harness/paths-layout.ts`: `/api` over two
 * balanced targets, `/static`, the catch-all) on a fresh `ingressd run` of its own (own Caddy,
 * DNS and ports), the workload's ingressd left idle. Three figures, each beside Caddy's own from
 * the same run on the Caddy-only instance (renewed, then loaded with exactly what ingressd renders):
 * - routing: the first route of the config and the last (the one a request passes every other
 *   route to reach), p50 and p99, interleaved (`interleavedLatencies`, as scenario 6);
 * - one change: host 1's `/api` rule moved to other targets, render+read+diff+write over a
 *   Caddy-only load of the same change, paired (`pairedChanges`, as scenario 2);
 * - cold start to the last route answering (no reference).
 * The targets are the issue's, at N=10,000: last route p50 ≤ 0.5 ms and ≤ 1.5× the first; one
 * change ≤ 1.2× the floor. Afterwards the Caddy-only instance is renewed again for what follows.
 */
import { join } from 'node:path';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/model/json.js';
import { getConfig } from '../harness/admin-client.js';
import { serialize } from '../harness/caddy-only.js';
import { ConfigRenderer, hostsOf, renderSettingsFor, routesOnPort, sameOwned } from '../harness/configs.js';
import type { SizeContext } from '../harness/context.js';
import { figuresOf, reference, targetAt, type FigureInput } from '../harness/figures.js';
import { waitUntilAnswered, type Target } from '../harness/http-client.js';
import { caddyWrites, daemonPids, Ingressd, ingressdEnv, stopDaemons } from '../harness/ingressd.js';
import { interleavedLatencies, type Latency } from '../harness/latency.js';
import { writeManifests } from '../harness/manifests.js';
import { pairedChanges, spentOn, warmUpChanges, type ChangeSide, type PairedToggle } from '../harness/paired-changes.js';
import { generatePathsLayout, pathsIngress, pathsTarget, type PathKind } from '../harness/paths-layout.js';
import { CADDY_ONLY_PORT_OFFSET, PATHS_ADMIN_PORT, PATHS_DNS_PORT, PATHS_LISTEN_PORT } from '../harness/ports.js';
import { summarize } from '../harness/stats.js';
import type { Scenario } from './types.js';

/** Loads that warm the renewed Caddy-only instance on this layout before anything is timed (as `renewCaddyOnly`). */
const CADDY_ONLY_WARM_LOADS = 4;

/** The requests measured, in the live config's route order: the first route, then the last route's host on each of its three rules. */
interface Picks {
  readonly first: Target;
  readonly lastApi: Target;
  readonly lastStatic: Target;
  readonly last: Target;
  /** How many routes the listener has (the 404 not counted). */
  readonly routes: number;
}

export const pathsScenario: Scenario = {
  id: 11,
  name: 'paths',
  async run(ctx) {
    const root = join(ctx.root, 'paths');
    const dir = join(root, 'manifests');
    const dataDir = join(root, 'data');
    const layout = generatePathsLayout(ctx.n);
    await writeManifests(dir, layout.files);
    const env = ingressdEnv(dataDir, { CADDY_ADMIN_PORT: String(PATHS_ADMIN_PORT), INTERNAL_DNS_PORT: String(PATHS_DNS_PORT) });
    const renderer = new ConfigRenderer(renderSettingsFor(env, ctx.shared.caddy), layout.files);
    // Host 1's /api rule moves to host 2's targets (it joins another route's host list), and back.
    const change: PairedToggle['manifests'] = [pathsIngress(1), pathsIngress(1, 1)];
    const bodyB = serialize(renderer.put([change[1]]).render());
    const configA = renderer.put([change[0]]).render();
    const toggle: PairedToggle = { manifests: change, bodies: [serialize(configA), bodyB] };
    const stopCaddy = ctx.shared.cleanup.add(`Caddy and DNS of scenario 11 (${dataDir})`, () => stopDaemons(dataDir));
    const spawned = performance.now();
    const ingressd = await Ingressd.start({ cli: ctx.shared.cli, dir, env, logFile: join(root, 'ingressd.log'), cleanup: ctx.shared.cleanup });
    ctx.shared.own.add(ingressd.pid);
    const daemons = await daemonPids(dataDir);
    const daemonPidList = [daemons.caddy, daemons.dns].filter((pid): pid is number => pid !== undefined);
    for (const pid of daemonPidList) ctx.shared.own.add(pid);
    try {
      const live = await getConfig(PATHS_ADMIN_PORT);
      if (live === null) throw new Error("scenario 11: ingressd's Caddy has no config");
      const picks = pickTargets(live);
      const servingMs = (await waitUntilAnswered(picks.last, 120_000)) - spawned;
      const configMatches = sameOwned(live, configA);
      const targets = [picks.first, picks.lastApi, picks.lastStatic, picks.last];
      const ours = await ctx.quietly("hosts × paths: routing through ingressd's Caddy", () => interleavedLatencies(targets, ctx.plan.routingRequests));
      await ctx.renewCaddyOnly(0);
      for (let r = 0; r < CADDY_ONLY_WARM_LOADS; r++) await ctx.caddyOnly.load(toggle.bodies[(r + 1) % 2]!);
      await ctx.caddyOnly.load(toggle.bodies[0]);
      const shift = (t: Target): Target => ({ ...t, port: t.port + CADDY_ONLY_PORT_OFFSET });
      const theirs = await ctx.quietly('hosts × paths: routing through Caddy-only, same config', () => interleavedLatencies(targets.map(shift), ctx.plan.routingRequests));
      const side: ChangeSide = { ingressd, manifestDir: dir, writes: () => caddyWrites(dataDir) };
      await warmUpChanges(side, toggle.manifests);
      // Taken again at most once when others disturbed it: 60 pairs at N=10,000 take about 1.5 min.
      const timed = await ctx.quietly('hosts × paths: one change, paired with floor loads', () => pairedChanges(ctx.caddyOnly, side, toggle, ctx.plan.pairedChangeReps), Math.min(1, ctx.plan.remeasureRetries));
      return figuresOf('11 hosts × paths', ctx.n, [
        ...latencyRows(ctx, picks, ours, theirs),
        ...changeRows(ctx, timed),
        { name: 'cold start → last route answers', unit: 'ms', value: servingMs, note: `ready (first sync) after ${ingressd.startupMs.toFixed(0)} ms; polled from then on` },
        { name: "  live config = the benchmark's render", unit: 'bool', value: configMatches ? 1 : 0, target: { text: 'true', pass: configMatches } },
      ]);
    } finally {
      for (const pid of [ingressd.pid, ...daemonPidList]) ctx.shared.own.delete(pid);
      await ingressd.stop();
      await stopDaemons(dataDir);
      stopCaddy();
      // The Caddy-only instance held this layout: give the scenarios after this one a fresh one.
      await ctx.renewCaddyOnly();
    }
  },
};

function latencyRows(ctx: SizeContext, picks: Picks, ours: readonly Latency[], theirs: readonly Latency[]): FigureInput[] {
  const [first, api, stat, last] = [0, 1, 2, 3].map((i) => ({ ours: ours[i]!, theirs: theirs[i]! }));
  const ref = (value: number) => reference('Caddy-only, same config', value);
  const describe = (t: Target) => `${t.host}${t.path ?? '/'}`;
  const ratio = last!.ours.p50 / first!.ours.p50;
  return [
    { name: 'first route p50', unit: 'ms', value: first!.ours.p50, reference: ref(first!.theirs.p50), note: `${describe(picks.first)}; ${picks.routes} routes` },
    { name: '  first route p99', unit: 'ms', value: first!.ours.p99, reference: ref(first!.theirs.p99) },
    { name: 'last route p50', unit: 'ms', value: last!.ours.p50, reference: ref(last!.theirs.p50), note: `${describe(picks.last)} (catch-all)`, target: targetAt(ctx.n, 10_000, '≤ 0.5 ms', last!.ours.p50 <= 0.5) },
    { name: '  last route p99', unit: 'ms', value: last!.ours.p99, reference: ref(last!.theirs.p99) },
    {
      name: '  last route p50 / first p50',
      unit: 'x',
      value: ratio,
      reference: reference('Caddy-only: same ratio', last!.theirs.p50 / first!.theirs.p50),
      target: targetAt(ctx.n, 10_000, '≤ 1.5×', ratio <= 1.5),
    },
    { name: '  same host, /api p50', unit: 'ms', value: api!.ours.p50, reference: ref(api!.theirs.p50), note: `${describe(picks.lastApi)}: two targets, prefix stripped` },
    { name: '  same host, /static p50', unit: 'ms', value: stat!.ours.p50, reference: ref(stat!.theirs.p50), note: describe(picks.lastStatic) },
  ];
}

function changeRows(ctx: SizeContext, timed: Awaited<ReturnType<typeof pairedChanges>>): FigureInput[] {
  const floor = summarize(timed.floor);
  const spent = timed.reconciles.map(spentOn);
  const perPair = summarize(spent.map((ms, i) => ms / timed.floor[i]!));
  const floorRef = reference('Caddy POST /load, paired (floor)', floor);
  return [
    { name: 'one change: render+read+diff+write', unit: 'ms', value: summarize(spent), reference: floorRef, note: "host 1's /api rule to other targets" },
    { name: '  per pair: reconcile ÷ its floor load', unit: 'x', value: perPair, target: targetAt(ctx.n, 10_000, '≤ 1.2× floor', perPair.median <= 1.2), note: 'median of the paired ratios' },
    {
      name: '  ingressd alone: render+read+diff',
      unit: 'ms',
      value: summarize(timed.reconciles.map((r) => r.timings.renderMs + r.timings.readMs + r.timings.diffMs)),
      reference: floorRef,
    },
    { name: '  Caddy writes per change', unit: 'count', value: summarize(timed.writes) },
  ];
}

/**
 * The first route on PATHS_LISTEN_PORT (its first host, on the rule that route serves) and the
 * last one before the 404 (its last host, a catch-all host list: a request for it passes every
 * path route first), read from the live config rather than assumed.
 */
function pickTargets(live: JsonObject): Picks {
  const routes = routesOnPort(live, PATHS_LISTEN_PORT).filter((r) => hostsOf(r).length > 0);
  const index = (host: string | undefined): number => {
    const i = Number(/^h(\d+)\./.exec(host ?? '')?.[1]);
    if (!Number.isInteger(i)) throw new Error(`scenario 11: unexpected host ${host ?? '(none)'} in the live config`);
    return i;
  };
  const pathOf = (route: JsonValue | undefined): string | undefined => {
    const match = isJsonObject(route) && Array.isArray(route['match']) ? route['match'][0] : undefined;
    const path = isJsonObject(match) && Array.isArray(match['path']) ? match['path'][0] : undefined;
    return typeof path === 'string' ? path : undefined;
  };
  const kinds: Readonly<Record<string, PathKind>> = { '/api': 'api', '/static': 'static' };
  const firstPath = pathOf(routes[0]);
  const kind = firstPath === undefined ? 'catchAll' : kinds[firstPath];
  if (kind === undefined) throw new Error(`scenario 11: unexpected path ${firstPath ?? ''} in the first route`);
  if (pathOf(routes.at(-1)) !== undefined) throw new Error('scenario 11: the last route has a path matcher; expected a catch-all host list');
  const first = pathsTarget(index(hostsOf(routes[0] ?? null)[0]), kind);
  const lastHost = index(hostsOf(routes.at(-1) ?? null).at(-1));
  return { first, lastApi: pathsTarget(lastHost, 'api'), lastStatic: pathsTarget(lastHost, 'static'), last: pathsTarget(lastHost, 'catchAll'), routes: routes.length };
}
