/** How much each scenario repeats, for `--quick` and for the full run. */

export interface Plan {
  readonly quick: boolean;
  /** POST /load repetitions per layout (scenario 1 and the floor every other scenario compares with). */
  readonly floorReps: number;
  /** One-change repetitions; even, so the manifest ends as it started. */
  readonly changeReps: number;
  readonly burstReps: number;
  readonly burstFiles: number;
  /** At-rest measurement window with RESYNC_INTERVAL=1s. */
  readonly restWindowMs: number;
  /** Instance moves; even, so the instance ends where it started. */
  readonly moveReps: number;
  readonly routingRequests: number;
  /** Changes (and Caddy-only raw reloads) under traffic in scenario 8. */
  readonly disruptionChanges: number;
  readonly loadWarmupMs: number;
  readonly loadDurationMs: number;
  readonly loadConnections: number;
  /** Repetitions of each throughput run. */
  readonly loadReps: number;
  readonly dnsPauseMs: number;
}

export function planFor(quick: boolean): Plan {
  return quick
    ? {
        quick,
        floorReps: 5,
        changeReps: 4,
        burstReps: 1,
        burstFiles: 1000,
        restWindowMs: 3000,
        moveReps: 2,
        routingRequests: 1000,
        disruptionChanges: 20,
        loadWarmupMs: 300,
        loadDurationMs: 1000,
        loadConnections: 32,
        loadReps: 1,
        dnsPauseMs: 2000,
      }
    : {
        quick,
        floorReps: 7,
        changeReps: 8,
        burstReps: 2,
        burstFiles: 1000,
        restWindowMs: 8000,
        moveReps: 4,
        routingRequests: 2000,
        disruptionChanges: 100,
        loadWarmupMs: 1000,
        loadDurationMs: 5000,
        loadConnections: 32,
        loadReps: 2,
        dnsPauseMs: 2000,
      };
}
