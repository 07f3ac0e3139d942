/**
 * Judging a candidate manifest as the reconciler would, writing it, and waiting (bounded) until the
 * reconciler has settled it: programmed, refused (then rolled back), or removed.
 */
import type { Issue } from '../model/issues.js';
import type { Manifest } from '../model/manifest.js';
import { desiredState } from '../reconciler/desired-state.js';
import { isBlockingIssue, type EvaluatedSet, type Evaluation } from '../reconciler/evaluate.js';
import type { ResourceStatus } from '../reconciler/status-types.js';
import { parseManifest } from '../manifest/parse.js';
import { removeManifest, writeManifest, type Located, type Mutex } from './store.js';
import { ApiError, issueError, type ControllerView } from './types.js';

export interface ApiContext {
  readonly controller: ControllerView;
  readonly syncs: SyncTracker;
  /** Serialises create/replace/delete. */
  readonly lock: Mutex;
  /** How long a request waits for the reconciler before answering 202. */
  readonly waitTimeoutMs: number;
  /** Aborted when the server closes: waits end at once. */
  readonly signal: AbortSignal;
}

/**
 * Remembers what the last successful Caddy reconcile evaluated, how many succeeded, and the last
 * failure. The reconciler sets its evaluation when a reconcile starts, so "the evaluation of the last
 * completed reconcile" must be captured at completion, from its `caddySynced` event.
 */
export class SyncTracker {
  #completed: EvaluatedSet | undefined;
  #count = 0;
  #lastError: Error | undefined;

  /** Follows the controller's events from now on. */
  constructor(controller: Pick<ControllerView, 'events'>) {
    controller.events.on('caddySynced', ({ evaluated }) => {
      this.#completed = evaluated;
      this.#count++;
      this.#lastError = undefined;
    });
    controller.events.on('caddySyncFailed', (error) => (this.#lastError = error));
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** The evaluation of the last successful reconcile. */
  get completed(): EvaluatedSet | undefined {
    return this.#completed;
  }

  /** Successful reconciles so far: a mark for `completedWithoutSince`. */
  get count(): number {
    return this.#count;
  }

  /** True once a reconcile that finished after `mark` no longer saw `file` (so Caddy no longer serves it). */
  completedWithoutSince(file: string, mark: number): boolean {
    return this.#count > mark && this.#completed !== undefined && !this.#completed.byFile.has(file);
  }
}

/**
 * How the reconciler would judge `candidate` against the manifests it knows now (the candidate
 * replaces any manifest of the same file), through the same pipeline and with the reconciler's
 * own precedence, so the candidate loses conflicts to resources accepted earlier, exactly as in a
 * reconcile.
 */
export function judge(controller: ControllerView, candidate: Manifest): Evaluation {
  const reconciler = controller.reconciler;
  const manifests: Manifest[] = [];
  for (const file of reconciler.files()) {
    const manifest = reconciler.manifest(file);
    if (manifest !== undefined && file !== candidate.file) manifests.push(manifest);
  }
  const desired = desiredState({ manifests: [...manifests, candidate], acceptedSince: reconciler.acceptedSince(), settings: controller.options.render });
  const evaluation = desired.evaluated.byFile.get(candidate.file);
  if (evaluation === undefined) throw new Error(`evaluation lost ${candidate.file}`);
  return evaluation;
}

export function firstBlocking(issues: readonly Issue[]): Issue | undefined {
  return issues.find(isBlockingIssue);
}

/** Why a settled status means the request failed, or undefined when it succeeded. */
export function refusalOf(status: ResourceStatus): ApiError | undefined {
  const accepted = status.conditions.find((c) => c.type === 'Accepted');
  if (accepted?.status === 'False') {
    const blocking = firstBlocking(status.errors);
    return blocking === undefined ? new ApiError('invalid_request', accepted.message) : issueError(blocking);
  }
  const programmed = status.conditions.find((c) => c.type === 'Programmed');
  if (programmed?.status !== 'False') return undefined;
  switch (programmed.reason) {
    case 'PortInUse':
      return new ApiError('port_in_use', programmed.message);
    case 'ConfigRejected':
    case 'CaddyModuleMissing':
    case 'SharedStorageMissing':
      return new ApiError('config_validation_failed', programmed.message);
    default:
      return undefined;
  }
}

export interface Applied {
  /** False when the wait timed out (answer 202 with the status so far). */
  readonly settled: boolean;
  readonly status: ResourceStatus | undefined;
}

/**
 * Writes `text` to `at`, queues it and waits until its status describes this generation with a
 * definite Programmed condition. When the reconciler refuses it (not accepted, port in use, config
 * rejected), restores the previous content (`previousText`, or removes the file), waits for that
 * to be applied too, and throws the refusal.
 */
export async function applyManifest(ctx: ApiContext, at: Located, text: string, previousText: string | undefined): Promise<Applied> {
  const generation = parseManifest(at.file, text).generation;
  await writeManifest(at, text);
  ctx.controller.enqueueFile(at.file);
  const status = await waitUntil(ctx, () => settledStatus(ctx, at.file, generation));
  if (status === undefined) return { settled: false, status: ctx.controller.reconciler.status(at.file) };
  const refusal = refusalOf(status);
  if (refusal === undefined) return { settled: true, status };
  if (previousText === undefined) await deleteManifest(ctx, at);
  else {
    const previous = parseManifest(at.file, previousText).generation;
    await writeManifest(at, previousText);
    ctx.controller.enqueueFile(at.file);
    await waitUntil(ctx, () => settledStatus(ctx, at.file, previous));
  }
  throw refusal;
}

/**
 * Removes a manifest and waits until a reconcile that started after the removal finished (Caddy no
 * longer serves it) and its status is gone; false on timeout.
 */
export async function deleteManifest(ctx: ApiContext, at: Located): Promise<boolean> {
  const reconciler = ctx.controller.reconciler;
  // Removing a file while a reconcile writes statuses can leave its status behind; start between reconciles.
  await waitUntil(ctx, () => (reconciler.evaluated() === ctx.syncs.completed ? true : undefined), QUIESCE_MS);
  const mark = ctx.syncs.count;
  await removeManifest(at);
  ctx.controller.enqueueFile(at.file);
  const gone = await waitUntil(ctx, () =>
    reconciler.manifest(at.file) === undefined && reconciler.status(at.file) === undefined && ctx.syncs.completedWithoutSince(at.file, mark) ? true : undefined,
  );
  return gone === true;
}

/** The status of `file` once a finished reconcile programmed (or refused) this generation. */
function settledStatus(ctx: ApiContext, file: string, generation: string): ResourceStatus | undefined {
  const status = ctx.controller.reconciler.status(file);
  if (status?.observedGeneration !== generation) return undefined;
  // The status is set mid-reconcile; wait for that reconcile to finish (its other writes included).
  if (ctx.syncs.completed?.byFile.get(file)?.manifest.generation !== generation) return undefined;
  const programmed = status.conditions.find((c) => c.type === 'Programmed');
  return programmed === undefined || programmed.status === 'Unknown' ? undefined : status;
}

const QUIESCE_MS = 2_000;
const EVENTS = ['manifestRead', 'caddySynced', 'caddySyncFailed', 'statusesWritten'] as const;

/**
 * Resolves with `check`'s first value other than undefined: now, or when an event of the
 * reconciler makes it so; with undefined when `timeoutMs` passes on the controller's clock or
 * the server closes.
 */
function waitUntil<T>(ctx: ApiContext, check: () => T | undefined, timeoutMs = ctx.waitTimeoutMs): Promise<T | undefined> {
  const first = check();
  if (first !== undefined || ctx.signal.aborted) return Promise.resolve(first);
  const { clock, events } = ctx.controller;
  return new Promise((resolve) => {
    const finish = (value: T | undefined): void => {
      for (const off of offs) off();
      clock.clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const recheck = (): void => {
      const value = check();
      if (value !== undefined) finish(value);
    };
    const onAbort = (): void => finish(undefined);
    const offs = EVENTS.map((event) => events.on(event, recheck));
    const timer = clock.setTimeout(() => finish(undefined), timeoutMs);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}
