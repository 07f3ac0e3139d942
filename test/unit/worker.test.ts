/** The one place results become queue operations (reconciler/result.ts's table), one test per row. */
import { describe, expect, it } from '@jest/globals';
import { settle } from '../../src/controller/worker.js';
import { WorkQueue } from '../../src/controller/work-queue.js';
import { exponentialLimiter } from '../../src/controller/rate-limiter.js';
import { silentLogger } from '../../src/model/logger.js';
import { fileKey, type Key } from '../../src/reconciler/keys.js';
import { DONE, requeueAfter, retry, terminal } from '../../src/reconciler/result.js';
import { FakeClock } from '../helpers/fake-clock.js';

function setup() {
  const clock = new FakeClock();
  const queue = new WorkQueue<Key>({ clock, rateLimiter: exponentialLimiter<Key>({ baseMs: 5, maxMs: 1_000 }) });
  const key = fileKey('a.json');
  return { clock, queue, key };
}

describe('settle: what the queue does after a reconcile', () => {
  it('done: forgets the backoff and does not queue the key again', () => {
    const { clock, queue, key } = setup();
    settle(queue, key, DONE, silentLogger);
    clock.advance(60_000);
    expect(queue.isQueued(key) || queue.isWaiting(key)).toBe(false);
    settle(queue, key, retry(new Error('x')), silentLogger);
    expect(queue.retries(key)).toBe(1);
    settle(queue, key, DONE, silentLogger);
    expect(queue.retries(key)).toBe(0);
  });

  it('requeue: forgets the backoff and adds the key after exactly afterMs', () => {
    const { clock, queue, key } = setup();
    settle(queue, key, requeueAfter(250), silentLogger);
    expect(queue.isWaiting(key)).toBe(true);
    clock.advance(249);
    expect(queue.isQueued(key)).toBe(false);
    clock.advance(1);
    expect(queue.isQueued(key)).toBe(true);
    expect(queue.retries(key)).toBe(0);
  });

  it('retry: adds the key after a backoff that doubles with each failure', () => {
    const { clock, queue, key } = setup();
    settle(queue, key, retry(new Error('down')), silentLogger);
    clock.advance(4);
    expect(queue.isQueued(key)).toBe(false);
    clock.advance(1);
    expect(queue.isQueued(key)).toBe(true);
    expect(queue.retries(key)).toBe(1);
    settle(queue, key, retry(new Error('down')), silentLogger);
    expect(queue.retries(key)).toBe(2);
  });

  it('terminal: forgets the backoff and leaves the key alone until it is added again', () => {
    const { clock, queue, key } = setup();
    settle(queue, key, retry(new Error('x')), silentLogger);
    clock.advance(5);
    settle(queue, key, terminal(new Error('read-only file system')), silentLogger);
    expect(queue.retries(key)).toBe(0);
    clock.advance(60_000);
    expect(queue.isWaiting(key)).toBe(false);
  });
});
