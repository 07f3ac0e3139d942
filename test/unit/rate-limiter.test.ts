import { describe, expect, it } from '@jest/globals';
import { exponentialLimiter, maxOf, type RateLimiter } from '../../src/controller/rate-limiter.js';
import { isIngressdError } from '../../src/model/errors.js';

function fixedLimiter(delayMs: number): RateLimiter & { readonly forgotten: string[] } {
  const counts = new Map<string, number>();
  const forgotten: string[] = [];
  return {
    forgotten,
    when: (key) => {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return delayMs;
    },
    forget: (key) => {
      counts.delete(key);
      forgotten.push(key);
    },
    retries: (key) => counts.get(key) ?? 0,
  };
}

describe('exponentialLimiter', () => {
  it('starts at baseMs and doubles on each retry of a key', () => {
    const limiter = exponentialLimiter({ baseMs: 5, maxMs: 1_000 });
    expect([1, 2, 3, 4, 5].map(() => limiter.when('k'))).toEqual([5, 10, 20, 40, 80]);
  });

  it('never waits longer than maxMs', () => {
    const limiter = exponentialLimiter({ baseMs: 5, maxMs: 30 });
    expect([1, 2, 3, 4, 5].map(() => limiter.when('k'))).toEqual([5, 10, 20, 30, 30]);
  });

  it('stays at maxMs after very many retries instead of overflowing', () => {
    const limiter = exponentialLimiter({ baseMs: 5, maxMs: 300_000 });
    let last = 0;
    for (let i = 0; i < 5_000; i++) last = limiter.when('k');
    expect(last).toBe(300_000);
  });

  it('defaults to 5 ms doubling up to 5 minutes', () => {
    const limiter = exponentialLimiter();
    expect(limiter.when('k')).toBe(5);
    for (let i = 0; i < 100; i++) limiter.when('k');
    expect(limiter.when('k')).toBe(300_000);
  });

  it('keeps a separate history per key', () => {
    const limiter = exponentialLimiter({ baseMs: 10 });
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(10);
    expect(limiter.retries('a')).toBe(2);
    expect(limiter.retries('b')).toBe(1);
  });

  it('counts retries and starts again from baseMs after forget', () => {
    const limiter = exponentialLimiter({ baseMs: 10 });
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.retries('a')).toBe(0);
    expect(limiter.when('a')).toBe(10);
  });

  it.each([
    [{ baseMs: 0 }],
    [{ baseMs: -1 }],
    [{ baseMs: Number.NaN }],
    [{ baseMs: 100, maxMs: 50 }],
  ])('rejects invalid options %j with invalid_option', (options) => {
    expect(() => exponentialLimiter(options)).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });
});

describe('maxOf', () => {
  it('waits for the longest delay among its limiters', () => {
    const limiter = maxOf(exponentialLimiter({ baseMs: 10 }), fixedLimiter(25));
    expect([1, 2, 3, 4].map(() => limiter.when('k'))).toEqual([25, 25, 40, 80]);
  });

  it('records each retry in every limiter and reports the largest count', () => {
    const fast = exponentialLimiter({ baseMs: 1 });
    const fixed = fixedLimiter(100);
    const limiter = maxOf(fast, fixed);
    limiter.when('k');
    limiter.when('k');
    expect(fast.retries('k')).toBe(2);
    expect(fixed.retries('k')).toBe(2);
    fixed.when('k');
    expect(limiter.retries('k')).toBe(3);
  });

  it('forgets a key in every limiter', () => {
    const fast = exponentialLimiter({ baseMs: 1 });
    const fixed = fixedLimiter(100);
    const limiter = maxOf(fast, fixed);
    limiter.when('k');
    limiter.forget('k');
    expect(fast.retries('k')).toBe(0);
    expect(fixed.forgotten).toEqual(['k']);
    expect(limiter.retries('k')).toBe(0);
  });

  it('rejects an empty list with invalid_option', () => {
    let caught: unknown;
    try {
      maxOf();
    } catch (err) {
      caught = err;
    }
    expect(isIngressdError(caught, 'invalid_option')).toBe(true);
  });
});
