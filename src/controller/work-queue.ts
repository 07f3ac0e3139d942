import { systemClock, type Clock, type TimerHandle } from '../platform/clock.js';
import { exponentialLimiter, type RateLimiter } from './rate-limiter.js';

export interface WorkQueueOptions<K> {
  /** Time source for delayed adds. @default systemClock */
  readonly clock?: Clock;
  /** Backoff used by `addRateLimited`. @default exponentialLimiter() (5 ms doubling, 5 min cap) */
  readonly rateLimiter?: RateLimiter<K>;
}

/**
 * A keyed work queue after client-go's workqueue: a FIFO of keys, a dirty set (keys waiting
 * to be processed) and a processing set (keys handed out by `get` and not yet `done`).
 *
 * - Adding a key that is already queued is a no-op: bursts collapse into one run.
 * - A key is never handed out twice at once: until `done(key)`, `get` will not return it.
 * - A key added while it is being processed runs exactly once more, after `done(key)`.
 * - Workers must call `done(key)` for every key `get` returned, whatever the outcome.
 * - After `shutDown()`, adds are ignored, queued and waiting keys are dropped, and `get`
 *   resolves `undefined`; keys in processing may still be `done`.
 *
 * Not thread-related: "at once" means between `get` and `done` across async workers.
 */
export class WorkQueue<K> {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter<K>;
  readonly #queue: K[] = [];
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  /** Keys waiting for a delayed add: when they become ready, and the timer that adds them. */
  readonly #waiting = new Map<K, { readonly readyAt: number; readonly timer: TimerHandle }>();
  readonly #getters: ((key: K | undefined) => void)[] = [];
  readonly #idlers: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions<K> = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#limiter = options.rateLimiter ?? exponentialLimiter<K>();
  }

  /** Marks `key` for processing. No-op when it is already queued or after shutdown. */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // re-queued by done()
    this.#queue.push(key);
    this.#dispatch();
  }

  /**
   * Adds `key` after `delayMs` (0 or less: now). If the key is already waiting, the earlier
   * ready time wins; a later one is ignored.
   */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const existing = this.#waiting.get(key);
    if (existing !== undefined) {
      if (existing.readyAt <= readyAt) return;
      this.#clock.clearTimeout(existing.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { readyAt, timer });
  }

  /** Adds `key` after the rate limiter's next delay for it (one more retry). */
  addRateLimited(key: K): void {
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Resets `key`'s backoff. Call on success; it does not remove the key from the queue. */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  /** How many rate-limited retries `key` has had since it was last forgotten. */
  retries(key: K): number {
    return this.#limiter.retries(key);
  }

  /** Resolves with the next ready key (now in processing), or `undefined` once shut down. */
  get(): Promise<K | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#getters.push(resolve);
      this.#dispatch();
    });
  }

  /** Ends processing of `key`; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#queue.push(key);
      this.#dispatch();
    }
    this.#checkIdle();
  }

  /** Keys queued and ready now (not counting waiting or processing keys). Do not gate work on it. */
  len(): number {
    return this.#queue.length;
  }

  /** True when `key` is among the `len()` keys queued and ready now. */
  isQueued(key: K): boolean {
    // Dirty but not processing: waiting in the FIFO (a dirty key in processing is queued again only at `done`).
    return this.#dirty.has(key) && !this.#processing.has(key);
  }

  /** True when `key` waits for a delayed add (`addAfter`, `addRateLimited`). */
  isWaiting(key: K): boolean {
    return this.#waiting.has(key);
  }

  /** Stops the queue: see the class comment. Idempotent. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) this.#clock.clearTimeout(timer);
    this.#waiting.clear();
    this.#queue.length = 0;
    this.#dirty.clear();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
    this.#checkIdle();
  }

  get isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Resolves when nothing is queued, waiting for a delayed add, or processing. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idlers.push(resolve);
      this.#checkIdle();
    });
  }

  #dispatch(): void {
    while (this.#getters.length > 0) {
      const key = this.#queue.shift();
      if (key === undefined) return;
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#getters.shift()?.(key);
    }
  }

  #checkIdle(): void {
    const isIdle = this.#queue.length === 0 && this.#waiting.size === 0 && this.#processing.size === 0;
    if (isIdle) for (const resolve of this.#idlers.splice(0)) resolve();
  }
}
