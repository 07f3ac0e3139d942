/** Messages between the benchmark and its load worker process (load-worker.ts). */
import type { Target } from './http-client.js';

/** Connections that share a target list; each group is measured on its own too. */
export interface LoadGroup {
  readonly label: string;
  readonly targets: readonly Target[];
  /** Concurrent keep-alive connections, each running requests back to back. */
  readonly connections: number;
  /** `uniform`: a random target per request; `first`: every request to targets[0]. */
  readonly spread: 'uniform' | 'first';
}

export interface LoadPlan {
  readonly groups: readonly LoadGroup[];
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

/** The whole run, and each group on its own. */
export interface LoadReport extends LoadResult {
  readonly groups: Readonly<Record<string, LoadResult>>;
}

/** A plan with one group. */
export function singleGroup(targets: readonly Target[], connections: number, spread: LoadGroup['spread'], timing: { readonly warmupMs: number; readonly durationMs: number }): LoadPlan {
  return { groups: [{ label: 'all', targets, connections, spread }], ...timing };
}

export type ToWorker = { readonly kind: 'run'; readonly plan: LoadPlan } | { readonly kind: 'stop' };
export type FromWorker = { readonly kind: 'started' } | { readonly kind: 'result'; readonly result: LoadReport } | { readonly kind: 'error'; readonly message: string };

export function isFromWorker(value: unknown): value is FromWorker {
  return typeof value === 'object' && value !== null && 'kind' in value && typeof value.kind === 'string';
}

export function isToWorker(value: unknown): value is ToWorker {
  return typeof value === 'object' && value !== null && 'kind' in value && (value.kind === 'run' || value.kind === 'stop');
}
