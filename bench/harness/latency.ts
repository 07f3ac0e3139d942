/**
 * Routing latency of a few targets through one Caddy: sequential keep-alive requests, p50 and
 * p99, taken in interleaved rounds. Shared by scenario 6 (hosts) and scenario 11 (hosts × paths).
 */
import { sequentialLatencies, type Target } from './http-client.js';
import { percentile } from './stats.js';

export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

const ROUNDS = 8;
const WARMUP_REQUESTS = 100;

/**
 * `requests` sequential keep-alive requests per target, in ROUNDS interleaved rounds (t0, t1, ...,
 * t0, t1, ...) so drift over time (GC, a cold cache) hits every target alike; after 100 unrecorded
 * requests to each. One latency per target, in the order given.
 */
export async function interleavedLatencies(targets: readonly Target[], requests: number): Promise<Latency[]> {
  const samples: number[][] = targets.map(() => []);
  for (const t of targets) await sequentialLatencies(t, WARMUP_REQUESTS);
  const perRound = Math.ceil(requests / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < targets.length; i++) samples[i]!.push(...(await sequentialLatencies(targets[i]!, perRound)));
  }
  return samples.map((xs) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) }));
}
