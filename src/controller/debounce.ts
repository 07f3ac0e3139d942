import { IngressdError } from '../model/errors.js';
import { systemClock, type Clock, type TimerHandle } from '../platform/clock.js';

export interface DebouncerOptions {
  /** Quiet time after the last `schedule()` before the callback runs. @default 100 */
  readonly settleMs?: number;
  /** Longest wait after the first `schedule()` of a burst, however busy it stays. @default 1_000 */
  readonly maxWaitMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/**
 * Trailing debounce with a cap: collapses a burst of `schedule()` calls into one callback,
 * `settleMs` after the last call but no later than `maxWaitMs` after the first one.
 * A call after the callback ran starts a new burst. The callback must not throw (it runs
 * from a timer); the controller's callback only marks a queue key dirty.
 */
export class Debouncer {
  readonly #callback: () => void;
  readonly #settleMs: number;
  readonly #maxWaitMs: number;
  readonly #clock: Clock;
  #burstStartedAt: number | undefined;
  #timer: TimerHandle | undefined;
  #settled: (() => void)[] = [];

  /** Throws `invalid_option` when `settleMs` is negative or `maxWaitMs` is below `settleMs`. */
  constructor(callback: () => void, options: DebouncerOptions = {}) {
    this.#callback = callback;
    this.#settleMs = options.settleMs ?? 100;
    this.#maxWaitMs = options.maxWaitMs ?? 1_000;
    this.#clock = options.clock ?? systemClock;
    if (!Number.isFinite(this.#settleMs) || this.#settleMs < 0) {
      throw new IngressdError('invalid_option', `Debouncer: settleMs must be a non-negative number of milliseconds, got ${this.#settleMs}`);
    }
    if (!Number.isFinite(this.#maxWaitMs) || this.#maxWaitMs < this.#settleMs) {
      throw new IngressdError('invalid_option', `Debouncer: maxWaitMs must be at least settleMs (${this.#settleMs}), got ${this.#maxWaitMs}`);
    }
  }

  /** Asks for the callback; see the class comment for when it runs. */
  schedule(): void {
    const now = this.#clock.now();
    this.#burstStartedAt ??= now;
    const fireAt = Math.min(now + this.#settleMs, this.#burstStartedAt + this.#maxWaitMs);
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#fire(), fireAt - now);
  }

  /** True between the first `schedule()` of a burst and the callback. */
  get isPending(): boolean {
    return this.#timer !== undefined;
  }

  /** Runs the callback now if a burst is pending; otherwise does nothing. */
  flush(): void {
    if (this.#timer !== undefined) this.#fire();
  }

  /** Resolves once no burst is pending: at once, or when the pending one runs or is cancelled. */
  whenSettled(): Promise<void> {
    if (this.#timer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#settled.push(resolve));
  }

  /** Drops a pending burst without running the callback. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#burstStartedAt = undefined;
    for (const resolve of this.#settled.splice(0)) resolve();
  }

  #fire(): void {
    this.cancel();
    this.#callback();
  }
}
