/**
 * 9. Upstream modes, `UPSTREAM_MODE=dns` against `static` (ingressd restarted in each):
 * throughput with 32 keep-alive connections to one host and spread uniformly over all N hosts,
 * the cost of an instance move, and what pausing the DNS process (SIGSTOP) does to traffic.
 * Throughput is shown beside the Caddy-only instance loaded with the static-mode config (no DNS
 * and no ingressd on the request path). `--quick` leaves out the DNS pause and the static-mode
 * moves (see `omittedBy` in harness/plan.ts): the target rows, "uniform / one host", need neither.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { serialize } from '../harness/caddy-only.js';
import { signalPid } from '../harness/cleanup.js';
import { renderSettingsFor } from '../harness/configs.js';
import type { SizeContext } from '../harness/context.js';
import { figuresOf, reference, targetAt, type FigureInput } from '../harness/figures.js';
import type { Target } from '../harness/http-client.js';
import { daemonPids, ingressdEnv } from '../harness/ingressd.js';
import { measureInstanceMove, type MoveResult } from '../harness/instance-move.js';
import { singleGroup, type LoadReport, type LoadResult } from '../harness/load-protocol.js';
import { CADDY_ONLY_PORT_OFFSET, MAIN_PORT } from '../harness/ports.js';
import { summarize, type Summary } from '../harness/stats.js';
import { errorsNote } from './instance-move.js';
import type { Scenario } from './types.js';

type Mode = 'dns' | 'static';

interface Throughput {
  readonly single: Summary;
  readonly uniform: Summary;
  readonly uniformP99: Summary;
  /** Upstream connections the backends accepted per 1,000 measured requests. */
  readonly singleConnections: Summary;
  readonly uniformConnections: Summary;
  readonly failed: number;
}

interface Measured {
  readonly result: LoadResult;
  readonly connectionsPer1k: number;
}

interface ModeResult {
  readonly throughput: Throughput;
  /** undefined when the plan leaves the DNS pause out. */
  readonly pause: LoadReport | undefined;
  /** undefined when the plan leaves static-mode moves out. */
  readonly move: MoveResult | undefined;
  readonly switchWrites: number;
}

export const upstreamModesScenario: Scenario = {
  id: 9,
  name: 'upstream-modes',
  async run(ctx) {
    const floor = await ctx.floor();
    const dns = await measureMode(ctx, 'dns', 0);
    const before = await ctx.writes();
    await ctx.restartIngressd({ UPSTREAM_MODE: 'static' });
    await ctx.ingressd.waitQuiet(1000);
    const staticMode = await measureMode(ctx, 'static', (await ctx.writes()) - before);
    // ingressd stays in static mode: this is the last scenario, and switching back would rewrite every status file again.
    const staticConfig = ctx.renderer.withSettings(renderSettingsFor(ingressdEnv(ctx.dataDir, { UPSTREAM_MODE: 'static' }), ctx.shared.caddy)).render();
    await ctx.caddyOnly.load(serialize(staticConfig));
    const caddy = await throughput(ctx, CADDY_ONLY_PORT_OFFSET);
    return figuresOf('9 upstream modes', ctx.n, [...modeFigures(ctx, 'dns', dns, caddy, floor), ...modeFigures(ctx, 'static', staticMode, caddy, floor)]);
  },
};

async function measureMode(ctx: SizeContext, mode: Mode, switchWrites: number): Promise<ModeResult> {
  const result = await throughput(ctx, 0);
  const pause = ctx.plan.dnsPause ? await dnsPause(ctx) : undefined;
  // In static mode each move rewrites the status of every ingress on the instance (N/4 files): 2 moves.
  const move = ctx.moves.get(mode) ?? (mode === 'static' && !ctx.plan.staticMoves ? undefined : await measureInstanceMove(ctx, mode === 'static' ? 2 : ctx.plan.moveReps));
  if (move !== undefined) ctx.moves.set(mode, move);
  return { throughput: result, pause, move, switchWrites };
}

/** `loadReps` runs each of: every request to h0, and requests spread uniformly over all N hosts. */
async function throughput(ctx: SizeContext, portOffset: number): Promise<Throughput> {
  const { plan } = ctx;
  const { backends, load } = ctx.shared;
  const targets = ctx.workload.targets.map((t): Target => ({ ...t, port: t.port + portOffset }));
  const run = (spread: 'first' | 'uniform'): Promise<Measured> =>
    ctx.quietly(`throughput ${spread} on :${MAIN_PORT + portOffset}`, async () => {
      const running = await load.begin(singleGroup(targets, plan.loadConnections, spread, { warmupMs: plan.loadWarmupMs, durationMs: plan.loadDurationMs }));
      const before = await backends.acceptedConnections(); // after the warm-up
      const result = await running.stop();
      const opened = (await backends.acceptedConnections()) - before;
      return { result, connectionsPer1k: result.requests === 0 ? Number.NaN : (opened * 1000) / result.requests };
    });
  const single: Measured[] = [];
  const uniform: Measured[] = [];
  for (let r = 0; r < plan.loadReps; r++) {
    single.push(await run('first'));
    uniform.push(await run('uniform'));
  }
  return {
    single: summarize(single.map((m) => m.result.rps)),
    uniform: summarize(uniform.map((m) => m.result.rps)),
    uniformP99: summarize(uniform.map((m) => m.result.p99Ms)),
    singleConnections: summarize(single.map((m) => m.connectionsPer1k)),
    uniformConnections: summarize(uniform.map((m) => m.connectionsPer1k)),
    failed: [...single, ...uniform].reduce((acc, m) => acc + m.result.failed, 0),
  };
}

/**
 * 4 keep-alive loops over random exact hosts and 4 over random pattern hosts: 1 s, then the DNS
 * process stopped for `dnsPauseMs`, then 2 s. Each group is reported on its own.
 */
async function dnsPause(ctx: SizeContext): Promise<LoadReport> {
  const { dns } = await daemonPids(ctx.dataDir);
  if (dns === undefined) throw new Error('no DNS process pid in dns.json');
  const loops = await ctx.shared.load.begin({
    groups: [
      { label: 'exact', targets: ctx.workload.exact, connections: 4, spread: 'uniform' },
      { label: 'pattern', targets: ctx.workload.patterns, connections: 4, spread: 'uniform' },
    ],
    warmupMs: 0,
    durationMs: 0,
  });
  const unregister = ctx.shared.cleanup.add(`resume the DNS process (pid ${dns})`, () => void signalPid(dns, 'SIGCONT'));
  try {
    await sleep(1000);
    signalPid(dns, 'SIGSTOP');
    await sleep(ctx.plan.dnsPauseMs);
  } finally {
    signalPid(dns, 'SIGCONT');
    unregister();
  }
  await sleep(2000);
  return loops.stop();
}

function modeFigures(ctx: SizeContext, mode: Mode, m: ModeResult, caddy: Throughput, floor: Summary): FigureInput[] {
  const t = m.throughput;
  const spread = t.uniform.median / t.single.median;
  const caddyRef = (label: string, value: Summary | number): ReturnType<typeof reference> => reference(`Caddy-only static, ${label}`, value);
  const pauseSeconds = (ctx.plan.dnsPauseMs / 1000).toFixed(0);
  return [
    ...(mode === 'static' ? [{ name: `[${mode}] Caddy writes, switch from dns`, unit: 'count' as const, value: m.switchWrites }] : []),
    { name: `[${mode}] req/s, one host`, unit: 'req/s', value: t.single, reference: caddyRef('one host', caddy.single) },
    { name: `[${mode}] req/s, uniform over N hosts`, unit: 'req/s', value: t.uniform, reference: caddyRef('uniform', caddy.uniform) },
    {
      name: `[${mode}] uniform / one host`,
      unit: 'x',
      value: spread,
      reference: caddyRef('same ratio', caddy.uniform.median / caddy.single.median),
      target: targetAt(ctx.n, 10_000, '≥ 0.85', spread >= 0.85),
    },
    { name: `[${mode}] p99, uniform`, unit: 'ms', value: t.uniformP99, reference: caddyRef('uniform p99', caddy.uniformP99) },
    { name: `[${mode}] upstream conns / 1k req, one host`, unit: 'count', value: t.singleConnections, reference: caddyRef('one host', caddy.singleConnections) },
    { name: `[${mode}] upstream conns / 1k req, uniform`, unit: 'count', value: t.uniformConnections, reference: caddyRef('uniform', caddy.uniformConnections) },
    { name: `[${mode}] failed, load runs`, unit: 'count', value: t.failed, reference: caddyRef('failed', caddy.failed) },
    ...(m.move === undefined ? [] : moveFigures(mode, m.move, floor)),
    ...(['exact', 'pattern'] as const).flatMap((group) => pauseFigures(mode, group, m.pause?.groups[group], pauseSeconds)),
  ];
}

function moveFigures(mode: Mode, move: MoveResult, floor: Summary): FigureInput[] {
  return [
    { name: `[${mode}] move → traffic moved`, unit: 'ms', value: summarize(move.timesMs), reference: reference('Caddy POST /load (floor)', floor) },
    { name: `[${mode}] move: Caddy writes`, unit: 'count', value: summarize(move.writes) },
    { name: `[${mode}] move: failed, untouched host`, unit: 'count', value: move.failed, note: `of ${move.requests.toLocaleString('en-US')}${errorsNote(move.errors)}` },
  ];
}

function pauseFigures(mode: Mode, group: 'exact' | 'pattern', r: LoadResult | undefined, seconds: string): FigureInput[] {
  if (r === undefined) return [];
  const what = `[${mode}] DNS stopped ${seconds} s, ${group} hosts`;
  return [
    { name: `${what}: longest stall`, unit: 'ms', value: r.longestGapMs, note: `no request completed; 4 loops, ${r.requests.toLocaleString('en-US')} requests, max ${r.maxMs.toFixed(0)} ms` },
    { name: `${what}: requests > 1 s`, unit: 'count', value: r.slowRequests },
    { name: `${what}: failed`, unit: 'count', value: r.failed, note: errorsNote(r.errors).replace(/^; /, '') || undefined },
  ];
}
