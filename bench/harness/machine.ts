/**
 * How busy the machine is with work that is not the benchmark's: CPU ticks from /proc/stat minus
 * the ticks of the processes the benchmark started. Other sessions share these 2 cores, so every
 * scenario records the share of the machine others used while it ran, and waits for a quiet
 * machine before it starts.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

interface Snapshot {
  readonly total: number;
  readonly busy: number;
  readonly own: number;
}

/** Sum of utime + stime (+ children's) ticks of `pids`; gone processes count 0. */
function ticksOf(pids: Iterable<number>): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // gone: its ticks left with it
    }
  }
  return ticks;
}

/** Bounds on waiting for a quiet machine (`--quick`): per wait, and in all over the run. */
export interface QuietLimits {
  readonly maxWaitMs: number;
  /** null: unbounded. */
  readonly budgetMs: number | null;
}

export class MachineMonitor {
  readonly #pids: () => Iterable<number>;
  readonly #limits: QuietLimits;
  #waitedMs = 0;

  /** `pids` lists the benchmark's own processes at the moment of asking. */
  constructor(pids: () => Iterable<number>, limits: QuietLimits = { maxWaitMs: Number.POSITIVE_INFINITY, budgetMs: null }) {
    this.#pids = pids;
    this.#limits = limits;
  }

  /** Seconds spent in `waitForQuiet` so far. */
  get waitedS(): number {
    return this.#waitedMs / 1000;
  }

  /** False once the run's budget for waiting is spent: callers then proceed without sampling. */
  get canWait(): boolean {
    return this.#limits.budgetMs === null || this.#waitedMs < this.#limits.budgetMs;
  }

  snapshot(): Snapshot {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
    const total = cpu.reduce((a, b) => a + b, 0);
    return { total, busy: total - idle, own: ticksOf(this.#pids()) };
  }

  /** Share of the whole machine (0-1) used by other processes between two snapshots. */
  static foreignShare(from: Snapshot, to: Snapshot): number {
    const total = to.total - from.total;
    if (total <= 0) return 0;
    return Math.max(0, (to.busy - from.busy - (to.own - from.own)) / total);
  }

  /**
   * Waits until other processes use under `maxShare` of the machine over a 0.5 s sample, at most
   * `timeoutMs` (and at most the limits given to the constructor; one sample is always taken).
   * Resolves with the seconds waited and the last share seen: `share >= maxShare` means it gave
   * up and the machine was still busy.
   */
  async waitForQuiet(maxShare = 0.1, timeoutMs = 180_000): Promise<{ readonly waitedS: number; readonly share: number }> {
    const { maxWaitMs, budgetMs } = this.#limits;
    const limitMs = Math.min(timeoutMs, maxWaitMs, budgetMs === null ? Number.POSITIVE_INFINITY : Math.max(0, budgetMs - this.#waitedMs));
    const started = performance.now();
    for (;;) {
      const a = this.snapshot();
      await sleep(500);
      const share = MachineMonitor.foreignShare(a, this.snapshot());
      const waited = performance.now() - started;
      if (share < maxShare || waited >= limitMs) {
        this.#waitedMs += waited;
        return { waitedS: waited / 1000, share };
      }
    }
  }
}

/** The pids of every process the benchmark started and that is running now. */
export class OwnProcesses {
  readonly #pids = new Set<number>([process.pid]);

  add(pid: number | undefined): void {
    if (pid !== undefined) this.#pids.add(pid);
  }

  delete(pid: number | undefined): void {
    if (pid !== undefined) this.#pids.delete(pid);
  }

  list(): number[] {
    return [...this.#pids];
  }
}
