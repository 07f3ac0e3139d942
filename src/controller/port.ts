/**
 * The narrow port the layers above the controller (the HTTP API) drive it through: what they may
 * read, the one thing they may ask (look at a file now), and the events they wait on instead of
 * polling. The real `Controller` satisfies it.
 */
import type { RenderSettings } from '../model/settings.js';
import type { ApiWrites } from './options.js';
import type { Clock } from '../platform/clock.js';
import type { Emitter } from '../platform/emitter.js';
import type { Reconciler, ReconcilerEvents } from '../reconciler/reconciler.js';

/** What the port reads from the reconciler. */
export type ReconcilerView = Pick<Reconciler, 'files' | 'manifest' | 'status' | 'evaluated' | 'acceptedSince'>;

export interface ControllerPort {
  readonly options: {
    readonly manifestDir: string;
    readonly render: RenderSettings;
    /** NODE_NAME: named in `/readyz`, so `ingressd fleet` knows whom it asked. */
    readonly node: string;
    readonly api: { readonly writes: ApiWrites };
  };
  /** Throws until `start()` has built it. */
  readonly reconciler: ReconcilerView;
  readonly ready: boolean;
  readonly caddyReachable: boolean;
  /** Why status files are not written (a read-only manifest tree without STATUS_DIR), else undefined. */
  readonly statusWarning?: string | undefined;
  /** The clock every wait is measured on. */
  readonly clock: Clock;
  /** What the reconciler did; waiters re-check their condition on each event. */
  readonly events: Pick<Emitter<ReconcilerEvents>, 'on'>;
  /** Reconciles one manifest now, without waiting for the watcher (after the API wrote it). */
  enqueueFile(file: string): void;
}
