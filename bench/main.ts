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
import { askCaddy, describeCaddy } from '../src/controller/caddy-info.js';
import { benchCaddy } from './harness/caddy-only.js';
import { Cleanup } from './harness/cleanup.js';
import { SizeContext, type ColdStart, type Shared } from './harness/context.js';
import type { Figure } from './harness/figures.js';
import { LoadGenerator } from './harness/load-generator.js';
import { MachineMonitor, OwnProcesses } from './harness/machine.js';
import { omittedBy, planFor } from './harness/plan.js';
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
  all.websocketsScenario,
  all.pathsScenario,
  all.policiesScenario,
];

interface Failure {
  readonly n: number;
  readonly scenario: string;
  readonly error: string;
}

/** Others' share of the machine under which it counts as quiet. */
const QUIET_SHARE = 0.1;

/** How one scenario ran: its duration, the wait for a quiet machine, and others' CPU meanwhile. */
interface ScenarioRun {
  readonly scenario: string;
  readonly seconds: number;
  readonly waitedForQuietS: number;
  /** Others' share (0-1) in the last sample before it started; ≥ 0.1: it started on a busy machine. */
  readonly othersAtStart: number;
  /** --quick with its budget for waiting spent: not sampled, `othersAtStart` is the previous scenario's share. */
  readonly waitSkipped: boolean;
  /** Share of the whole machine (0-1) used by processes that are not the benchmark's. */
  readonly othersCpuShare: number;
}

interface Results {
  readonly figures: Figure[];
  readonly failures: Failure[];
  readonly contexts: { n: number; cold: ColdStart; setupSeconds: number; setupWaitedForQuietS: number; setupOthersAtStart: number; runs: ScenarioRun[]; contaminated: SizeContext['contaminated'] }[];
}

function progress(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Scenarios named by `--only` (numbers or names), in the issue's order; all when empty. */
function selectScenarios(only: readonly string[]): Scenario[] {
  if (only.length === 0) return [...SCENARIOS];
  for (const key of only) {
    if (!SCENARIOS.some((s) => String(s.id) === key || s.name === key)) throw new Error(`--only: unknown scenario "${key}"; use 1-12 or ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  return SCENARIOS.filter((s) => only.includes(String(s.id)) || only.includes(s.name));
}

async function runSize(n: number, scenarios: readonly Scenario[], shared: Shared, args: BenchArgs, results: Results): Promise<void> {
  const setupQuiet = await shared.monitor.waitForQuiet(QUIET_SHARE);
  await ensurePortsFree(false);
  const setupStarted = performance.now();
  progress(`N=${n.toLocaleString('en-US')}: generating manifests, starting Caddy-only and ingressd (cold)...`);
  const ctx = await SizeContext.create(n, shared);
  const runs: ScenarioRun[] = [];
  results.contexts.push({
    n,
    cold: ctx.cold,
    setupSeconds: (performance.now() - setupStarted) / 1000,
    setupWaitedForQuietS: setupQuiet.waitedS,
    setupOthersAtStart: setupQuiet.share,
    runs,
    contaminated: ctx.contaminated,
  });
  let failed = false;
  let lastShare = setupQuiet.share;
  let first = true;
  for (const scenario of scenarios) {
    // Sample the machine before the first scenario, then only when others were busy during the
    // previous one; with --quick only while the budget for waiting lasts (past it, the last share
    // seen is recorded).
    const sample = (first || lastShare >= QUIET_SHARE) && shared.monitor.canWait;
    first = false;
    const quiet = sample ? await shared.monitor.waitForQuiet(QUIET_SHARE) : { waitedS: 0, share: lastShare };
    const waitSkipped = !sample && lastShare >= QUIET_SHARE;
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
    const run = {
      scenario: `${scenario.id} ${scenario.name}`,
      seconds: (performance.now() - started) / 1000,
      waitedForQuietS: quiet.waitedS,
      othersAtStart: quiet.share,
      waitSkipped,
      othersCpuShare: MachineMonitor.foreignShare(before, shared.monitor.snapshot()),
    };
    runs.push(run);
    lastShare = run.othersCpuShare;
    progress(`  (${run.scenario}: ${run.seconds.toFixed(1)} s; others used ${(run.othersCpuShare * 100).toFixed(0)}% of the machine; waited ${run.waitedForQuietS.toFixed(0)} s for quiet${busyText(run.othersAtStart, run.waitSkipped)})`);
  }
  await ctx.dispose(args.keep || failed);
  if (args.keep || failed) progress(`  kept ${ctx.root}`);
}

/** Why a scenario started on a busy machine: the wait gave up, or (--quick) its budget was spent. Empty when quiet. */
function busyText(othersAtStart: number, waitSkipped: boolean): string {
  if (othersAtStart < QUIET_SHARE) return '';
  const share = `${(othersAtStart * 100).toFixed(0)}%`;
  return waitSkipped ? `; started busy, wait budget spent: others at ${share} in the previous scenario` : `; started busy, gave up: others at ${share}`;
}

function formatRuns(results: Results, totalWaitedS: number): string {
  const lines = ['N | scenario | seconds | waited for quiet (s) | others\' CPU (% of machine)'];
  for (const c of results.contexts) {
    lines.push(`${c.n} | setup | ${c.setupSeconds.toFixed(1)} | ${c.setupWaitedForQuietS.toFixed(0)}${busyText(c.setupOthersAtStart, false)} | `);
    for (const r of c.runs) lines.push(`${c.n} | ${r.scenario} | ${r.seconds.toFixed(1)} | ${r.waitedForQuietS.toFixed(0)}${busyText(r.othersAtStart, r.waitSkipped)} | ${(r.othersCpuShare * 100).toFixed(0)}%`);
  }
  lines.push(`all | waiting for a quiet machine (also before re-measurements) | ${totalWaitedS.toFixed(0)} | |`);
  return lines.join('\n');
}

function caddyVersion(): string {
  try {
    return `${execFileSync(benchCaddy(), ['version'], { encoding: 'utf8' }).trim()} (${benchCaddy()})`;
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
  const own = new OwnProcesses();
  const caddy = await askCaddy(benchCaddy());
  const monitor = new MachineMonitor(() => own.list(), { maxWaitMs: plan.quietWaitMaxMs, budgetMs: plan.quietWaitBudgetMs });
  try {
    build = await snapshotBuild(stamp, cleanup);
    progress(`Caddy under test (both sides): ${describeCaddy(caddy)} at ${benchCaddy()}`);
    progress(`measuring ingressd at ${build.commit}${build.srcChanges > 0 ? ` + ${build.srcChanges} uncommitted src files` : ''} (built ${build.builtAt}), frozen in ${build.cli}`);
    await ensurePortsFree(true);
    const backends = await startBackends(cleanup);
    own.add(backends.pid);
    const load = LoadGenerator.start(cleanup);
    own.add(load.pid);
    for (const n of sizes) await runSize(n, scenarios, { cli: build.cli, cleanup, backends, load, plan, own, monitor, caddy }, args, results);
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
  const omitted = omittedBy(plan, scenarios.map((s) => s.id));
  const waitedForQuietS = monitor.waitedS;
  const report = {
    startedAt: startedAt.toISOString(),
    durationSeconds: durationS,
    quick: args.quick,
    sizes,
    scenarios: scenarios.map((s) => `${s.id} ${s.name}`),
    machine: { cpus: cpus().length, node: process.version, caddy: caddyVersion() },
    build: build === undefined ? null : { commit: build.commit, uncommittedSrcFiles: build.srcChanges, builtAt: build.builtAt },
    plan,
    /** What this run did not measure that the full run does (empty for the full run). */
    omitted,
    waitedForQuietS,
    contexts: results.contexts,
    figures: results.figures,
    missed,
    failures: results.failures,
  };
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${formatTable(results.figures)}\n\n`);
  if (plan.quick) {
    const bound = plan.quietWaitBudgetMs === null ? '' : `; waits for a quiet machine at most ${plan.quietWaitMaxMs / 1000} s each and ${plan.quietWaitBudgetMs / 1000} s in all, then it runs on a busy machine ("started busy" below)`;
    process.stdout.write(`--quick: fewer repetitions (×runs above), shorter windows${bound}.${omitted.length === 0 ? '' : ` Not measured:\n  - ${omitted.join('\n  - ')}`}\n\n`);
  }
  process.stdout.write(`${formatRuns(results, waitedForQuietS)}\n\n`);
  const contaminated = results.contexts.flatMap((c) => c.contaminated.map((m) => `N=${c.n}: ${m.label} (others used ${(m.othersCpuShare * 100).toFixed(0)}% of the machine)`));
  if (contaminated.length > 0) process.stdout.write(`disturbed on every attempt (read these figures with care):\n  - ${contaminated.join('\n  - ')}\n`);
  process.stdout.write(`targets missed: ${missed.length === 0 ? 'none' : `\n  - ${missed.join('\n  - ')}`}\n`);
  if (results.failures.length > 0) process.stdout.write(`scenarios that failed:\n  - ${results.failures.map((f) => `N=${f.n} ${f.scenario}: ${f.error}`).join('\n  - ')}\n`);
  if (build !== undefined) process.stdout.write(`measured build: ${build.commit}${build.srcChanges > 0 ? ` + ${build.srcChanges} uncommitted src files` : ''}, built ${build.builtAt}\n`);
  process.stdout.write(`total ${durationS.toFixed(0)} s; figures written to ${out}\n`);
  return results.failures.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
