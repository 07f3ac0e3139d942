/**
 * 6. Routing: sequential keep-alive requests through ingressd's Caddy to the first host, the last
 * exact host and the host of the last route (a pattern), p50 and p99, beside the same hosts on
 * the Caddy-only instance loaded with the same routes as flat host routes. Hosts are measured in
 * interleaved rounds (`interleavedLatencies`).
 */
import { getConfig } from '../harness/admin-client.js';
import type { SizeContext } from '../harness/context.js';
import { hostsOf, routesOnPort } from '../harness/configs.js';
import { figuresOf, reference, targetAt, type FigureInput } from '../harness/figures.js';
import type { Target } from '../harness/http-client.js';
import { interleavedLatencies, type Latency } from '../harness/latency.js';
import { addressOf, INSTANCE_COUNT, instanceName } from '../harness/manifests.js';
import { CADDY_ONLY_PORT_OFFSET, INGRESSD_ADMIN_PORT, MAIN_PORT } from '../harness/ports.js';
import type { Scenario } from './types.js';

type ByHost = Readonly<Record<'first' | 'lastExact' | 'lastRoute', Latency>>;

async function interleaved(targets: readonly [Target, Target, Target], requests: number): Promise<ByHost> {
  const [first, lastExact, lastRoute] = await interleavedLatencies(targets, requests);
  return { first: first!, lastExact: lastExact!, lastRoute: lastRoute! };
}

export const routingScenario: Scenario = {
  id: 6,
  name: 'routing',
  async run(ctx) {
    const hosts = await routingHosts(ctx);
    const ours = await ctx.quietly('routing through ingressd\'s Caddy', () => interleaved([hosts.first, hosts.lastExact, hosts.lastRoute], ctx.plan.routingRequests));
    await ctx.caddyOnly.load(ctx.toggle().flatBodies[0]);
    const shift = (t: Target): Target => ({ ...t, port: t.port + CADDY_ONLY_PORT_OFFSET });
    const flat = await ctx.quietly('routing through Caddy-only, flat', () => interleaved([shift(hosts.first), shift(hosts.lastExact), shift(hosts.lastRoute)], ctx.plan.routingRequests));
    const rows = (label: string, key: 'first' | 'lastExact' | 'lastRoute', isLast: boolean, host: string): FigureInput[] => [
      {
        name: `${label} p50`,
        unit: 'ms',
        value: ours[key].p50,
        reference: reference('Caddy-only, flat routes', flat[key].p50),
        note: host,
        ...(isLast ? { target: targetAt(ctx.n, 10_000, '≤ 0.5 ms', ours[key].p50 <= 0.5) } : {}),
      },
      { name: `${label} p99`, unit: 'ms', value: ours[key].p99, reference: reference('Caddy-only, flat routes', flat[key].p99) },
      ...(isLast
        ? [{
            name: `${label} p50 / first p50`,
            unit: 'x' as const,
            value: ours[key].p50 / ours.first.p50,
            reference: reference('flat: same ratio', flat[key].p50 / flat.first.p50),
            target: targetAt(ctx.n, 10_000, '≤ 1.5×', ours[key].p50 / ours.first.p50 <= 1.5),
          }]
        : []),
    ];
    return figuresOf('6 routing', ctx.n, [
      ...rows('first host', 'first', false, hosts.first.host),
      ...rows('last exact host', 'lastExact', true, hosts.lastExact.host),
      ...rows('last route (pattern)', 'lastRoute', true, hosts.lastRoute.host),
    ]);
  },
};

/** First host of the first route, last host of the last exact route, and a host of the last pattern route, on MAIN_PORT. */
async function routingHosts(ctx: SizeContext): Promise<{ first: Target; lastExact: Target; lastRoute: Target }> {
  const live = await getConfig(INGRESSD_ADMIN_PORT);
  if (live === null) throw new Error("ingressd's Caddy has no config");
  const routes = routesOnPort(live, MAIN_PORT).map(hostsOf).filter((h) => h.length > 0);
  const exact = routes.filter((h) => !h.some((x) => x.includes('*')));
  const patterns = routes.filter((h) => h.some((x) => x.includes('*')));
  const byHost = new Map(ctx.workload.targets.map((t) => [t.host, t]));
  const find = (host: string | undefined): Target => {
    const t = host === undefined ? undefined : byHost.get(host);
    if (t === undefined) throw new Error(`no workload target for host ${host ?? '(none)'}`);
    return t;
  };
  const lastPattern = patterns.at(-1)?.[0];
  const i = Number(/^\*\.p(\d+)\./.exec(lastPattern ?? '')?.[1]);
  const lastRoute: Target = Number.isInteger(i)
    ? { port: MAIN_PORT, host: (lastPattern ?? '').replace('*', instanceName(i % INSTANCE_COUNT)), backend: addressOf(i % INSTANCE_COUNT) }
    : find(exact.at(-1)?.at(-1));
  return { first: find(exact[0]?.[0]), lastExact: find(exact.at(-1)?.at(-1)), lastRoute };
}
