/**
 * A worker: takes keys from the queue, reconciles each, and turns the result into what the queue
 * does next. This is the one place where results are handled (the table is in
 * reconciler/result.ts); a reconcile that throws is retried with backoff like a `retry` result.
 */
import type { Logger } from '../model/logger.js';
import { describeKey, type Key } from '../reconciler/keys.js';
import { retry, type Result } from '../reconciler/result.js';
import type { WorkQueue } from './work-queue.js';

export interface WorkerOptions {
  readonly queue: WorkQueue<Key>;
  readonly reconcile: (key: Key) => Promise<Result>;
  readonly logger: Logger;
}

/** Runs until the queue shuts down; never rejects. */
export async function runWorker({ queue, reconcile, logger }: WorkerOptions): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    let result: Result;
    try {
      result = await reconcile(key);
    } catch (err) {
      result = retry(err);
    }
    settle(queue, key, result, logger);
    queue.done(key);
  }
}

/** What the queue does with `key` after a reconcile ended in `result`. */
export function settle(queue: WorkQueue<Key>, key: Key, result: Result, logger: Logger): void {
  switch (result.kind) {
    case 'done':
      queue.forget(key);
      return;
    case 'requeue':
      queue.forget(key);
      queue.addAfter(key, result.afterMs);
      return;
    case 'retry':
      logger.warn('reconcile failed; retrying with backoff', { key: describeKey(key), retries: queue.retries(key), error: result.error.message });
      queue.addRateLimited(key);
      return;
    case 'terminal':
      logger.warn('reconcile failed; waiting until its input changes', { key: describeKey(key), error: result.error.message });
      queue.forget(key);
      return;
  }
}
