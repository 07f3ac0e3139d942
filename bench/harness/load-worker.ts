/**
 * Child process: the load generator. Runs one plan at a time over node:http keep-alive agents
 * (one agent and one socket per connection) and reports a LoadReport. Exits with its parent.
 */
import { Agent } from 'node:http';
import { get, isAnsweredBy, type Target } from './http-client.js';
import { isToWorker, type FromWorker, type LoadGroup, type LoadPlan, type LoadReport, type LoadResult } from './load-protocol.js';
import { percentileOfSorted } from './stats.js';

class Recorder {
  readonly latencies: number[] = [];
  readonly errors: Record<string, number> = {};
  non200 = 0;
  wrongBackend = 0;
  ok = 0;
  slow = 0;
  longestGapMs = 0;
  #last: number;

  constructor(readonly startedAt: number) {
    this.#last = startedAt;
  }

  record(started: number, outcome: 'ok' | 'non200' | 'wrong' | string): void {
    const now = performance.now();
    const latency = now - started;
    this.latencies.push(latency);
    if (latency > 1000) this.slow++;
    this.longestGapMs = Math.max(this.longestGapMs, now - this.#last);
    this.#last = now;
    if (outcome === 'ok') this.ok++;
    else if (outcome === 'non200') this.non200++;
    else if (outcome === 'wrong') this.wrongBackend++;
    else this.errors[outcome] = (this.errors[outcome] ?? 0) + 1;
  }

  result(endedAt: number): LoadResult {
    const sorted = this.latencies.sort((a, b) => a - b);
    const elapsedMs = endedAt - this.startedAt;
    const errorCount = Object.values(this.errors).reduce((a, b) => a + b, 0);
    return {
      requests: sorted.length,
      ok: this.ok,
      failed: errorCount + this.non200 + this.wrongBackend,
      errors: this.errors,
      non200: this.non200,
      wrongBackend: this.wrongBackend,
      elapsedMs,
      rps: (this.ok * 1000) / elapsedMs,
      p50Ms: percentileOfSorted(sorted, 50),
      p99Ms: percentileOfSorted(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      longestGapMs: Math.max(this.longestGapMs, endedAt - this.#last),
      slowRequests: this.slow,
    };
  }
}

let stopRequested = false;

/** The recorders a finished request reports to (its group's and the overall one), once measuring started. */
interface Recorders {
  readonly all: Recorder;
  readonly byGroup: ReadonlyMap<string, Recorder>;
}

async function connectionLoop(group: LoadGroup, recorders: () => Recorders | undefined, until: () => boolean): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const pick = (): Target => group.targets[group.spread === 'first' ? 0 : Math.floor(Math.random() * group.targets.length)]!;
  while (!until()) {
    const target = pick();
    const started = performance.now();
    let outcome: string;
    try {
      const answer = await get(target.port, target.host, agent, 10_000, '/', target.headers);
      outcome = isAnsweredBy(answer, target) ? 'ok' : answer.status !== 200 ? 'non200' : 'wrong';
    } catch (err) {
      outcome = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : 'error');
    }
    // A request started during the warm-up is not counted.
    const r = recorders();
    if (r !== undefined && started >= r.all.startedAt) {
      r.all.record(started, outcome);
      r.byGroup.get(group.label)?.record(started, outcome);
    }
  }
  agent.destroy();
}

async function run(plan: LoadPlan): Promise<LoadReport> {
  stopRequested = false;
  const measureFrom = performance.now() + plan.warmupMs;
  const measureTo = plan.durationMs > 0 ? measureFrom + plan.durationMs : Number.POSITIVE_INFINITY;
  const makeRecorders = (now: number): Recorders => ({ all: new Recorder(now), byGroup: new Map(plan.groups.map((g) => [g.label, new Recorder(now)])) });
  let recorders: Recorders | undefined;
  const begin = (): void => {
    recorders = makeRecorders(performance.now());
    send({ kind: 'started' });
  };
  const startTimer = setTimeout(begin, plan.warmupMs);
  const until = (): boolean => stopRequested || performance.now() >= measureTo;
  await Promise.all(plan.groups.flatMap((g) => Array.from({ length: g.connections }, () => connectionLoop(g, () => recorders, until))));
  clearTimeout(startTimer);
  const ended = Math.min(performance.now(), measureTo);
  const final = recorders ?? makeRecorders(measureFrom);
  return { ...final.all.result(ended), groups: Object.fromEntries([...final.byGroup].map(([label, r]) => [label, r.result(ended)])) };
}

function send(message: FromWorker): void {
  process.send?.(message);
}

process.on('disconnect', () => process.exit(0));
process.on('message', (message: unknown) => {
  if (!isToWorker(message)) return;
  if (message.kind === 'stop') {
    stopRequested = true;
    return;
  }
  run(message.plan).then(
    (result) => send({ kind: 'result', result }),
    (err: unknown) => send({ kind: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
});
