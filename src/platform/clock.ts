/**
 * Time as the queue, limiters and debouncer see it. Injected so tests drive a fake clock
 * (`test/helpers/fake-clock.ts`) instead of sleeping.
 */

declare const timerHandleBrand: unique symbol;

/** Opaque handle from `Clock.setTimeout`; only the clock that issued it can clear it. */
export interface TimerHandle {
  readonly [timerHandleBrand]: true;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once, `ms` milliseconds from now (0 or less: on a later turn of the event loop). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a pending timer; clearing a timer that already ran is a no-op. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now()` and Node's timers. Timers keep the process alive. */
export const systemClock: Clock = Object.freeze({
  now: (): number => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle =>
    globalThis.setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimeout: (handle: TimerHandle): void => {
    globalThis.clearTimeout(handle as unknown as NodeJS.Timeout);
  },
});

/**
 * Runs `fn` every `intervalMs` on `clock` (first after one interval) until the returned function
 * is called. A run that is still going when the next is due is not awaited: `fn` decides whether
 * to overlap (it returns nothing the timer waits for).
 */
export function repeat(clock: Clock, intervalMs: number, fn: () => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const schedule = (): void => {
    handle = clock.setTimeout(() => {
      if (stopped) return;
      schedule();
      fn();
    }, intervalMs);
  };
  schedule();
  return () => {
    stopped = true;
    if (handle !== undefined) clock.clearTimeout(handle);
  };
}
