import { describe, expect, it } from '@jest/globals';
import { WorkQueue } from '../../src/controller/work-queue.js';
import { exponentialLimiter } from '../../src/controller/rate-limiter.js';
import { FakeClock, flushPromises } from '../helpers/fake-clock.js';

type Key = 'a' | 'b' | 'c' | 'caddy';

function setup(): { clock: FakeClock; queue: WorkQueue<Key> } {
  const clock = new FakeClock();
  const queue = new WorkQueue<Key>({ clock, rateLimiter: exponentialLimiter<Key>({ baseMs: 10, maxMs: 1_000 }) });
  return { clock, queue };
}

/** Resolves a promise's state without waiting for it: 'pending' or the value. */
async function peek<T>(promise: Promise<T>): Promise<T | 'pending'> {
  let state: T | 'pending' = 'pending';
  void promise.then((value) => { state = value; });
  await flushPromises();
  return state;
}

describe('WorkQueue', () => {
  it('hands out keys in the order they were added', async () => {
    const { queue } = setup();
    queue.add('b');
    queue.add('a');
    queue.add('c');
    expect(await queue.get()).toBe('b');
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('c');
  });

  it('ignores adding a key that is already queued', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.len()).toBe(0);
  });

  it('collapses a burst of adds of one key into one run', async () => {
    const { queue } = setup();
    for (let i = 0; i < 1_000; i++) queue.add('caddy');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('caddy');
    queue.done('caddy');
    expect(queue.len()).toBe(0);
  });

  it('never hands out a key that is being processed', async () => {
    const { queue } = setup();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    expect(await peek(queue.get())).toBe('pending');
  });

  it('runs a key once more when it is added during processing', async () => {
    const { queue } = setup();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.add('a');
    queue.done('a');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('does not run a key again after done when it was not added during processing', async () => {
    const { queue } = setup();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
    expect(await peek(queue.get())).toBe('pending');
  });

  it('resolves a waiting get when a key is added', async () => {
    const { queue } = setup();
    const next = queue.get();
    expect(await peek(next)).toBe('pending');
    queue.add('b');
    expect(await next).toBe('b');
  });

  it('serves waiting gets in the order they were made', async () => {
    const { queue } = setup();
    const first = queue.get();
    const second = queue.get();
    queue.add('a');
    queue.add('b');
    expect(await first).toBe('a');
    expect(await second).toBe('b');
  });

  it('adds a key after the delay given to addAfter', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 100);
    expect(queue.len()).toBe(0);
    clock.advance(99);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
  });

  it('adds at once when addAfter is given zero or a negative delay', () => {
    const { queue } = setup();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    expect(queue.len()).toBe(2);
  });

  it('keeps the earliest ready time when a waiting key is added again with addAfter', () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 100);
    queue.addAfter('a', 500);
    clock.advance(100);
    expect(queue.len()).toBe(1);

    queue.addAfter('b', 500);
    queue.addAfter('b', 50);
    clock.advance(50);
    expect(queue.len()).toBe(2);
    clock.advance(1_000);
    expect(queue.len()).toBe(2);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('delays addRateLimited exponentially per key until the key is forgotten', () => {
    const { clock, queue } = setup();
    queue.addRateLimited('a'); // 10 ms
    clock.advance(10);
    expect(queue.len()).toBe(1);
    void queue.get();
    queue.done('a');

    queue.addRateLimited('a'); // 20 ms
    clock.advance(19);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(queue.retries('a')).toBe(2);
    expect(queue.retries('b')).toBe(0);

    queue.forget('a');
    expect(queue.retries('a')).toBe(0);
    void queue.get();
    queue.done('a');
    queue.addRateLimited('a'); // back to 10 ms
    clock.advance(10);
    expect(queue.len()).toBe(1);
  });

  it('resolves idle at once when nothing is queued, waiting or processing', async () => {
    const { queue } = setup();
    expect(await peek(queue.idle())).toBeUndefined();
  });

  it('resolves idle only after the last processing key is done', async () => {
    const { queue } = setup();
    queue.add('a');
    const idle = queue.idle();
    expect(await peek(idle)).toBe('pending');
    expect(await queue.get()).toBe('a');
    expect(await peek(idle)).toBe('pending');
    queue.done('a');
    expect(await peek(idle)).toBeUndefined();
  });

  it('does not resolve idle while a key added during processing still has to run', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.add('a');
    const idle = queue.idle();
    queue.done('a');
    expect(await peek(idle)).toBe('pending');
    await queue.get();
    queue.done('a');
    expect(await peek(idle)).toBeUndefined();
  });

  it('does not resolve idle while a key waits for a delayed add', async () => {
    const { clock, queue } = setup();
    queue.addAfter('a', 1_000);
    const idle = queue.idle();
    expect(await peek(idle)).toBe('pending');
    clock.advance(1_000);
    await queue.get();
    queue.done('a');
    expect(await peek(idle)).toBeUndefined();
  });

  it('resolves pending gets with undefined on shutdown and ignores later adds', async () => {
    const { queue } = setup();
    const pending = queue.get();
    queue.shutDown();
    expect(await pending).toBeUndefined();
    queue.add('a');
    queue.addAfter('b', 10);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(queue.isShuttingDown).toBe(true);
  });

  it('drops queued and waiting keys on shutdown and cancels their timers', async () => {
    const { clock, queue } = setup();
    queue.add('a');
    queue.addAfter('b', 100);
    queue.shutDown();
    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(await peek(queue.idle())).toBeUndefined();
  });

  it('lets a key in processing finish after shutdown before idle resolves', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.shutDown();
    const idle = queue.idle();
    expect(await peek(idle)).toBe('pending');
    queue.done('a');
    expect(await peek(idle)).toBeUndefined();
    expect(queue.len()).toBe(0);
  });

  it('ignores done for a key that is not being processed', () => {
    const { queue } = setup();
    queue.add('a');
    queue.done('a');
    expect(queue.len()).toBe(1);
  });
});
