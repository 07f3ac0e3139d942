/** Messages between the benchmark and its load worker process (load-worker.ts). */
import type { Target } from './http-client.js';

export interface LoadPlan {
  readonly targets: readonly Target[];
  /** Concurrent keep-alive connections, each running requests back to back. */
  readonly connections: number;
  /** `uniform`: a random target per request; `first`: every request to targets[0]. */
  readonly spread: 'uniform' | 'first';
  /** Requests in this first stretch are not counted. */
  readonly warmupMs: number;
  /** Measured stretch; 0 runs until a `stop` message. */
  readonly durationMs: number;
}

export interface LoadResult {
  /** Completed in the measured stretch, whatever the outcome. */
  readonly requests: number;
  readonly ok: number;
  /** errors + non-200 answers + answers from the wrong backend. */
  readonly failed: number;
  /** Connection-level errors by code (ECONNRESET, ...). */
  readonly errors: Readonly<Record<string, number>>;
  readonly non200: number;
  readonly wrongBackend: number;
  readonly elapsedMs: number;
  /** ok / elapsed seconds. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Longest stretch in which no request completed. */
  readonly longestGapMs: number;
  /** Requests that took over a second. */
  readonly slowRequests: number;
}

export type ToWorker = { readonly kind: 'run'; readonly plan: LoadPlan } | { readonly kind: 'stop' };
export type FromWorker = { readonly kind: 'started' } | { readonly kind: 'result'; readonly result: LoadResult } | { readonly kind: 'error'; readonly message: string };

export function isFromWorker(value: unknown): value is FromWorker {
  return typeof value === 'object' && value !== null && 'kind' in value && typeof value.kind === 'string';
}

export function isToWorker(value: unknown): value is ToWorker {
  return typeof value === 'object' && value !== null && 'kind' in value && (value.kind === 'run' || value.kind === 'stop');
}
