import { describe, expect, it } from '@jest/globals';
import { Debouncer } from '../../src/controller/debounce.js';
import { FakeClock } from '../helpers/fake-clock.js';

function setup(settleMs = 100, maxWaitMs = 1_000): { clock: FakeClock; debouncer: Debouncer; calls: number[] } {
  const clock = new FakeClock(0);
  const calls: number[] = [];
  const debouncer = new Debouncer(() => calls.push(clock.now()), { settleMs, maxWaitMs, clock });
  return { clock, debouncer, calls };
}

describe('Debouncer', () => {
  it('runs the callback settleMs after a single schedule', () => {
    const { clock, debouncer, calls } = setup();
    debouncer.schedule();
    clock.advance(99);
    expect(calls).toEqual([]);
    clock.advance(1);
    expect(calls).toEqual([100]);
  });

  it('runs the callback once, settleMs after the last call of a burst', () => {
    const { clock, debouncer, calls } = setup();
    for (let i = 0; i < 5; i++) {
      debouncer.schedule();
      clock.advance(50);
    }
    // last schedule at t=200
    clock.advance(1_000);
    expect(calls).toEqual([300]);
  });

  it('runs no later than maxWaitMs after the first call of a burst that never settles', () => {
    const { clock, debouncer, calls } = setup(100, 300);
    for (let t = 0; t < 1_000; t += 50) {
      debouncer.schedule();
      clock.advance(50);
    }
    // Each fire ends a burst; the schedule() at the same instant opens the next one.
    expect(calls).toEqual([300, 600, 900]);
  });

  it('starts a new burst after the callback ran', () => {
    const { clock, debouncer, calls } = setup(100, 300);
    debouncer.schedule();
    clock.advance(100);
    clock.advance(500);
    debouncer.schedule();
    clock.advance(100);
    expect(calls).toEqual([100, 700]);
  });

  it('reports a pending burst until the callback runs', () => {
    const { clock, debouncer } = setup();
    expect(debouncer.isPending).toBe(false);
    debouncer.schedule();
    expect(debouncer.isPending).toBe(true);
    clock.advance(100);
    expect(debouncer.isPending).toBe(false);
  });

  it('does not run the callback after cancel', () => {
    const { clock, debouncer, calls } = setup();
    debouncer.schedule();
    debouncer.cancel();
    clock.advance(10_000);
    expect(calls).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs a pending callback at once on flush, and nothing when none is pending', () => {
    const { clock, debouncer, calls } = setup();
    debouncer.flush();
    expect(calls).toEqual([]);
    debouncer.schedule();
    clock.advance(10);
    debouncer.flush();
    expect(calls).toEqual([10]);
    clock.advance(1_000);
    expect(calls).toEqual([10]);
  });

  it('keeps a single timer however many calls a burst has', () => {
    const { clock, debouncer } = setup();
    for (let i = 0; i < 100; i++) debouncer.schedule();
    expect(clock.pendingTimers()).toBe(1);
  });

  it.each([
    [{ settleMs: -1 }],
    [{ settleMs: 500, maxWaitMs: 100 }],
    [{ maxWaitMs: Number.NaN }],
  ])('rejects invalid options %j with invalid_option', (options) => {
    expect(() => new Debouncer(() => undefined, options)).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });
});
