/**
 * Ingresses Caddy rejected, remembered so they are not tried on every reconcile (each try is a
 * failing Caddy reload). An isolated ingress is tried again when its manifest changes, or after a
 * per-ingress backoff (30 s doubling to 10 min), in case the cause (a busy port) went away.
 */
import type { ProgramState } from './status-types.js';

interface Isolation {
  readonly generation: string;
  readonly state: ProgramState;
  readonly retryAtMs: number;
  readonly backoffMs: number;
}

const MAX_BACKOFF_MS = 600_000;

export class Isolations {
  readonly #firstRetryMs: number;
  readonly #byId = new Map<string, Isolation>();

  constructor(firstRetryMs = 30_000) {
    this.#firstRetryMs = firstRetryMs;
  }

  /**
   * The ingresses to leave out now, with why. Forgets isolations of ingresses that are gone or
   * whose manifest changed.
   */
  current(isLive: (id: string) => boolean, generationOf: (id: string) => string, nowMs: number): Map<string, ProgramState> {
    const out = new Map<string, ProgramState>();
    for (const [id, isolation] of this.#byId) {
      if (!isLive(id) || generationOf(id) !== isolation.generation) this.#byId.delete(id);
      else if (nowMs < isolation.retryAtMs) out.set(id, isolation.state);
    }
    return out;
  }

  /** Records the outcome of an apply: `excluded` are isolated now, everything else is not. */
  record(excluded: ReadonlyMap<string, ProgramState>, generationOf: (id: string) => string, nowMs: number): void {
    for (const [id, state] of excluded) {
      const before = this.#byId.get(id);
      if (before !== undefined && nowMs < before.retryAtMs) continue;
      const backoffMs = before === undefined ? this.#firstRetryMs : Math.min(before.backoffMs * 2, MAX_BACKOFF_MS);
      this.#byId.set(id, { generation: generationOf(id), state, retryAtMs: nowMs + backoffMs, backoffMs });
    }
    for (const id of this.#byId.keys()) if (!excluded.has(id)) this.#byId.delete(id);
  }
}
