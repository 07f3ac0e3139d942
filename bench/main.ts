/**
 * `npm run bench`: starts its own backends, load worker, Caddy-only instance and, per N, a real
 * `ingressd run` (which starts its Caddy and DNS process) on loopback ports 28000-29999, runs
 * each scenario, prints a table and writes the figures as JSON. Every process it started is
 * stopped on exit, on failure and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseBenchArgs, USAGE, type BenchArgs } from './harness/args.js';
import { startBackends } from './harness/backends.js';
import { ensurePortsFree } from './harness/ports-free.js';
import { snapshotBuild, type BuildSnapshot } from './harness/build-snapshot.js';
import { Cleanup } from './harness/cleanup.js';
import { SizeContext, type ColdStart, type Shared } from './harness/context.js';
import type { Figure } from './harness/figures.js';
import { LoadGenerator } from './harness/load-generator.js';
import { MachineMonitor, OwnProcesses } from './harness/machine.js';
import { planFor } from './harness/plan.js';
import { formatSummary, formatTable } from './harness/table.js';
import * as all from './scenarios/index.js';
import type { Scenario } from './scenarios/index.js';

const SCENARIOS: readonly Scenario[] = [
  all.floorScenario,
  all.oneChangeScenario,
  all.burstScenario,
  all.atRestScenario,
  all.instanceMoveScenario,
  all.routingScenario,
  all.footprintScenario,
  all.disruptionScenario,
  all.upstreamModesScenario,
];

interface Failure {
  readonly n: number;
  readonly scenario: string;
  readonly error: string;
}

/** How one scenario ran: its duration, the wait for a quiet machine, and others' CPU meanwhile. */
interface ScenarioRun {
  readonly scenario: string;
  readonly seconds: number;
  readonly waitedForQuietS: number;
  /** Share of the whole machine (0-1) used by processes that are not the benchmark's. */
  readonly othersCpuShare: number;
}

interface Results {
  readonly figures: Figure[];
  readonly failures: Failure[];
  readonly contexts: { n: number; cold: ColdStart; setupSeconds: number; runs: ScenarioRun[]; contaminated: SizeContext['contaminated'] }[];
}



function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Scenarios named by `--only` (numbers or names), in the issue's order; all when empty. */
function selectScenarios(only: readonly string[]): Scenario[] {
  if (only.length === 0) return [...SCENARIOS];
  for (const key of only) {
    if (!SCENARIOS.some((s) => String(s.id) === key || s.name === key)) throw new Error(`--only: unknown scenario "${key}"; use 1-9 or ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  return SCENARIOS.filter((s) => only.includes(String(s.id)) || only.includes(s.name));
}

async function runSize(n: number, scenarios: readonly Scenario[], shared: Shared, args: BenchArgs, results: Results): Promise<void> {
  await shared.monitor.waitForQuiet();
  await ensurePortsFree(false);
  const setupStarted = performance.now();
  progress(`N=${n.toLocaleString('en-US')}: generating manifests, starting Caddy-only and ingressd (cold)...`);
  const ctx = await SizeContext.create(n, shared);
  const runs: ScenarioRun[] = [];
  results.contexts.push({ n, cold: ctx.cold, setupSeconds: (performance.now() - setupStarted) / 1000, runs, contaminated: ctx.contaminated });
  let failed = false;
  let lastShare = 1;
  for (const scenario of scenarios) {
    // Sample the machine again only when others were busy during the previous scenario.
    const quiet = lastShare < 0.1 ? { waitedS: 0, share: lastShare } : await shared.monitor.waitForQuiet();
    const before = shared.monitor.snapshot();
    const started = performance.now();
    try {
      const figures = await scenario.run(ctx);
      results.figures.push(...figures);
      for (const f of figures) progress(`  ${f.scenario} | ${f.name}: ${formatSummary(f.value, f.unit)}${f.target?.pass === false ? '  (MISSED)' : ''}`);
    } catch (err) {
      failed = true;
      const error = err instanceof Error ? err.message : String(err);
      results.failures.push({ n, scenario: `${scenario.id} ${scenario.name}`, error });
      progress(`  ${scenario.id} ${scenario.name} FAILED: ${error}`);
    }
    const run = { scenario: `${scenario.id} ${scenario.name}`, seconds: (performance.now() - started) / 1000, waitedForQuietS: quiet.waitedS, othersCpuShare: MachineMonitor.foreignShare(before, shared.monitor.snapshot()) };
    runs.push(run);
    lastShare = run.othersCpuShare;
    progress(`  (${run.scenario}: ${run.seconds.toFixed(1)} s; others used ${(run.othersCpuShare * 100).toFixed(0)}% of the machine; waited ${run.waitedForQuietS.toFixed(0)} s for quiet)`);
  }
  await ctx.dispose(args.keep || failed);
  if (args.keep || failed) progress(`  kept ${ctx.root}`);
}

function formatRuns(results: Results): string {
  const lines = ['N | scenario | seconds | waited for quiet (s) | others\' CPU (% of machine)'];
  for (const c of results.contexts) {
    lines.push(`${c.n} | setup | ${c.setupSeconds.toFixed(1)} | | `);
    for (const r of c.runs) lines.push(`${c.n} | ${r.scenario} | ${r.seconds.toFixed(1)} | ${r.waitedForQuietS.toFixed(0)} | ${(r.othersCpuShare * 100).toFixed(0)}%`);
  }
  return lines.join('\n');
}

function caddyVersion(): string {
  try {
    return execFileSync('caddy', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function missedTargets(figures: readonly Figure[]): string[] {
  return figures
    .filter((f) => f.target?.pass === false)
    .map((f) => `${f.scenario} @ N=${f.n.toLocaleString('en-US')}: ${f.name.trim()} = ${formatSummary(f.value, f.unit)}; target ${f.target?.text ?? ''}${f.reference === undefined ? '' : `; ${f.reference.label} ${formatSummary(f.reference.value, f.unit)}`}`);
}

async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  let scenarios: Scenario[];
  try {
    args = parseBenchArgs(argv);
    scenarios = selectScenarios(args.only);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const plan = planFor(args.quick);
  const sizes = args.sizes ?? (args.quick ? [100, 1000] : [100, 1000, 10_000]);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  const out = resolve(args.out ?? join('bench-results', `bench-${stamp}.json`));
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const results: Results = { figures: [], failures: [], contexts: [] };
  const began = performance.now();
  let build: BuildSnapshot | undefined;
  try {
    build = await snapshotBuild(stamp, cleanup);
    progress(`measuring ingressd at ${build.commit}${build.srcChanges > 0 ? ` + ${build.srcChanges} uncommitted src files` : ''} (built ${build.builtAt}), frozen in ${build.cli}`);
    const own = new OwnProcesses();
    const monitor = new MachineMonitor(() => own.list());
    await ensurePortsFree(true);
    const backends = await startBackends(cleanup);
    own.add(backends.pid);
    const load = LoadGenerator.start(cleanup);
    own.add(load.pid);
    for (const n of sizes) await runSize(n, scenarios, { cli: build.cli, cleanup, backends, load, plan, own, monitor }, args, results);
    await load.stop();
    await backends.stop();
  } catch (err) {
    results.failures.push({ n: 0, scenario: 'setup', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    progress(`bench: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await cleanup.runAll();
  }
  const durationS = (performance.now() - began) / 1000;
  const missed = missedTargets(results.figures);
  const report = {
    startedAt: startedAt.toISOString(),
    durationSeconds: durationS,
    quick: args.quick,
    sizes,
    scenarios: scenarios.map((s) => `${s.id} ${s.name}`),
    machine: { cpus: cpus().length, node: process.version, caddy: caddyVersion() },
    build: build === undefined ? null : { commit: build.commit, uncommittedSrcFiles: build.srcChanges, builtAt: build.builtAt },
    plan,
    contexts: results.contexts,
    figures: results.figures,
    missed,
    failures: results.failures,
  };
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${formatTable(results.figures)}\n\n${formatRuns(results)}\n\n`);
  const contaminated = results.contexts.flatMap((c) => c.contaminated.map((m) => `N=${c.n}: ${m.label} (others used ${(m.othersCpuShare * 100).toFixed(0)}% of the machine)`));
  if (contaminated.length > 0) process.stdout.write(`disturbed on every attempt (read these figures with care):\n  - ${contaminated.join('\n  - ')}\n`);
  process.stdout.write(`targets missed: ${missed.length === 0 ? 'none' : `\n  - ${missed.join('\n  - ')}`}\n`);
  if (results.failures.length > 0) process.stdout.write(`scenarios that failed:\n  - ${results.failures.map((f) => `N=${f.n} ${f.scenario}: ${f.error}`).join('\n  - ')}\n`);
  if (build !== undefined) process.stdout.write(`measured build: ${build.commit}${build.srcChanges > 0 ? ` + ${build.srcChanges} uncommitted src files` : ''}, built ${build.builtAt}\n`);
  process.stdout.write(`total ${durationS.toFixed(0)} s; figures written to ${out}\n`);
  return results.failures.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
