/** How much each scenario repeats, for `--quick` and for the full run, and what `--quick` leaves out. */

export interface Plan {
  readonly quick: boolean;
  /** POST /load repetitions per layout (scenario 1 and the floor every other scenario compares with). */
  readonly floorReps: number;
  /** One-change repetitions of the end-to-end figure; even, so the manifest ends as it started. */
  readonly changeReps: number;
  /**
   * One-change repetitions paired with a floor load (the target row); even. Single reloads on the
   * 2-core VM vary by ±40%, so the median of 24 pairs still moved by ±0.1× between full runs.
   */
  readonly pairedChangeReps: number;
  readonly burstReps: number;
  readonly burstFiles: number;
  /** At-rest measurement window with RESYNC_INTERVAL=1s. */
  readonly restWindowMs: number;
  /** Instance moves; even, so the instance ends where it started. */
  readonly moveReps: number;
  readonly routingRequests: number;
  /** Changes (and Caddy-only raw reloads) under traffic in scenario 8. */
  readonly disruptionChanges: number;
  /** Scenario 8 also runs the paced variant (each change waited for before the next; no target). */
  readonly pacedDisruption: boolean;
  readonly loadWarmupMs: number;
  readonly loadDurationMs: number;
  readonly loadConnections: number;
  /** Repetitions of each throughput run. */
  readonly loadReps: number;
  /** Scenario 9 moves an instance in UPSTREAM_MODE=static too (dns mode: always, or scenario 5's moves). */
  readonly staticMoves: boolean;
  /** Scenario 9 stops the DNS process for `dnsPauseMs` under traffic, in each mode (no target). */
  readonly dnsPause: boolean;
  readonly dnsPauseMs: number;
  /** Longest wait for a quiet machine (others < 10%) before a scenario or a re-measurement. */
  readonly quietWaitMaxMs: number;
  /** Total of all those waits over the run; null: unbounded. Past it the bench proceeds at once (busy share still recorded). */
  readonly quietWaitBudgetMs: number | null;
  /** Scenario 10: unrelated ingress changes (one Caddy write each) made with and without open WebSockets. */
  readonly streamWrites: number;
  /** How often an idempotent measurement is taken again when others used over 15% of the machine meanwhile. */
  readonly remeasureRetries: number;
}

export function planFor(quick: boolean): Plan {
  return quick
    ? {
        quick,
        floorReps: 5,
        changeReps: 8,
        pairedChangeReps: 8,
        burstReps: 1,
        burstFiles: 1000,
        restWindowMs: 3000,
        moveReps: 2,
        routingRequests: 480,
        disruptionChanges: 100,
        pacedDisruption: false,
        loadWarmupMs: 300,
        loadDurationMs: 1000,
        loadConnections: 32,
        loadReps: 1,
        staticMoves: false,
        dnsPause: false,
        dnsPauseMs: 2000,
        quietWaitMaxMs: 5000,
        quietWaitBudgetMs: 15_000,
        remeasureRetries: 1,
        streamWrites: 100,
      }
    : {
        quick,
        floorReps: 7,
        changeReps: 12,
        pairedChangeReps: 60,
        burstReps: 2,
        burstFiles: 1000,
        restWindowMs: 8000,
        moveReps: 4,
        routingRequests: 2000,
        disruptionChanges: 100,
        pacedDisruption: true,
        loadWarmupMs: 1000,
        loadDurationMs: 5000,
        loadConnections: 32,
        loadReps: 2,
        staticMoves: true,
        dnsPause: true,
        dnsPauseMs: 2000,
        quietWaitMaxMs: 180_000,
        quietWaitBudgetMs: null,
        remeasureRetries: 2,
        streamWrites: 500,
      };
}

/** What this plan does not measure that the full run does, for the scenarios (by number) that run. */
export function omittedBy(plan: Plan, scenarios: readonly number[]): string[] {
  const out: { readonly scenario: number; readonly text: string }[] = [];
  if (!plan.pacedDisruption) out.push({ scenario: 8, text: '8 disruption: the paced variant (each change waited for before the next; informational, no target)' });
  if (!plan.staticMoves) out.push({ scenario: 9, text: '9 upstream modes: instance moves in static mode (informational, no target)' });
  if (!plan.dnsPause) out.push({ scenario: 9, text: '9 upstream modes: the DNS process stopped under traffic, in either mode (informational, no target)' });
  return out.filter((o) => scenarios.includes(o.scenario)).map((o) => o.text);
}
