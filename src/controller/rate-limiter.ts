import { IngressdError } from '../model/errors.js';

/**
 * Per-key backoff, after client-go's workqueue rate limiters. `when` both answers and records:
 * each call counts as one more failure of `key`. Limiters wrap or combine other limiters
 * (`maxOf`) instead of growing flags.
 */
export interface RateLimiter<K = string> {
  /** How long to wait, in milliseconds, before retrying `key`; counts one more retry. */
  when(key: K): number;
  /** Clears `key`'s history: its next `when` starts again from the base delay. */
  forget(key: K): void;
  /** How many times `when` was called for `key` since it was last forgotten. */
  retries(key: K): number;
}

export interface ExponentialLimiterOptions {
  /** Delay of the first retry; each further retry doubles it. @default 5 */
  readonly baseMs?: number;
  /** Upper bound of the delay. @default 300_000 */
  readonly maxMs?: number;
}

/** `baseMs * 2^retries(key)`, capped at `maxMs`, per key. Throws `invalid_option` on bad options. */
export function exponentialLimiter<K = string>(options: ExponentialLimiterOptions = {}): RateLimiter<K> {
  const baseMs = options.baseMs ?? 5;
  const maxMs = options.maxMs ?? 300_000;
  if (!Number.isFinite(baseMs) || baseMs <= 0) {
    throw new IngressdError('invalid_option', `exponentialLimiter: baseMs must be a positive number of milliseconds, got ${baseMs}`);
  }
  if (!Number.isFinite(maxMs) || maxMs < baseMs) {
    throw new IngressdError('invalid_option', `exponentialLimiter: maxMs must be at least baseMs (${baseMs}), got ${maxMs}`);
  }
  const failures = new Map<K, number>();
  return {
    when(key: K): number {
      const exponent = failures.get(key) ?? 0;
      failures.set(key, exponent + 1);
      // 2 ** exponent overflows to Infinity for large exponents; Math.min caps that too.
      return Math.min(baseMs * 2 ** exponent, maxMs);
    },
    forget(key: K): void {
      failures.delete(key);
    },
    retries(key: K): number {
      return failures.get(key) ?? 0;
    },
  };
}

/**
 * The longest delay any of `limiters` asks for. Every limiter sees every `when` and `forget`;
 * `retries` is the largest count among them. Throws `invalid_option` when given none.
 */
export function maxOf<K = string>(...limiters: readonly RateLimiter<K>[]): RateLimiter<K> {
  if (limiters.length === 0) {
    throw new IngressdError('invalid_option', 'maxOf: needs at least one rate limiter, got none');
  }
  return {
    when(key: K): number {
      // Call every limiter (no short-circuit): each must record the retry.
      return Math.max(...limiters.map((limiter) => limiter.when(key)));
    },
    forget(key: K): void {
      for (const limiter of limiters) limiter.forget(key);
    },
    retries(key: K): number {
      return Math.max(...limiters.map((limiter) => limiter.retries(key)));
    },
  };
}
