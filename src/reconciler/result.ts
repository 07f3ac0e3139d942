/**
 * What one reconcile of a key asks of the queue. The only way to say "later" for the key itself;
 * other keys are asked for through the reconciler's `enqueue` port. Handled in one place, the
 * controller's worker:
 *
 * | result      | queue                                                   |
 * |-------------|---------------------------------------------------------|
 * | `done`      | forget the key's backoff                                |
 * | `requeue`   | forget the backoff, add the key again after `afterMs`   |
 * | `retry`     | add the key again after its next backoff delay          |
 * | `terminal`  | forget the backoff; nothing until the key is added again (its input changes) |
 *
 * A reconcile that throws is treated as `retry` with that error.
 */
export type Result =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeue'; readonly afterMs: number }
  | { readonly kind: 'retry'; readonly error: Error }
  | { readonly kind: 'terminal'; readonly error: Error };

export const DONE: Result = Object.freeze({ kind: 'done' });

export function requeueAfter(afterMs: number): Result {
  return { kind: 'requeue', afterMs };
}

export function retry(error: unknown): Result {
  return { kind: 'retry', error: asError(error) };
}

export function terminal(error: unknown): Result {
  return { kind: 'terminal', error: asError(error) };
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
