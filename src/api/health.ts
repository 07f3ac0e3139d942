/**
 * `/healthz` (the process is alive) and `/readyz` (the first full sync with Caddy succeeded and
 * Caddy answers now). `/readyz`'s body also carries `warnings`: problems that do not stop serving
 * but that an operator must hear about (status files that cannot be written).
 */
import type { SyncTracker } from './settle.js';
import type { ControllerView, Reply } from './types.js';

/** `GET /healthz`: always 200 while the process serves requests. */
export function healthz(): Reply {
  return { status: 200, json: { status: 'ok' } };
}

/** Tracks since when Caddy has been unreachable, for the `/readyz` reason. */
export class Readiness {
  readonly #controller: ControllerView;
  readonly #syncs: SyncTracker;
  readonly #now: () => number;
  #unreachableSince: number | undefined;

  constructor(controller: ControllerView, syncs: SyncTracker, now: () => number = () => controller.clock.now()) {
    this.#controller = controller;
    this.#syncs = syncs;
    this.#now = now;
  }

  /** Notes the controller's view of Caddy; call on every reconcile and every probe. */
  observe(): void {
    if (this.#controller.caddyReachable) this.#unreachableSince = undefined;
    else this.#unreachableSince ??= this.#now();
  }

  /**
   * `GET /readyz`: 200 `{ready: true, node}` once the controller's first full sync succeeded and
   * Caddy is reachable; otherwise 503 `{ready: false, node, reason}`. Either has `warnings:
   * [message]` when there is something to warn about. `node` is NODE_NAME.
   */
  readyz(): Reply {
    const reply = this.#readiness();
    if (!('json' in reply)) return reply;
    const warning = this.#controller.statusWarning;
    const json = { ...(reply.json as Record<string, unknown>), node: this.#controller.options.node };
    return { ...reply, json: warning === undefined ? json : { ...json, warnings: [warning] } };
  }

  #readiness(): Reply {
    this.observe();
    if (!this.#controller.ready) {
      const last = this.#syncs.lastError;
      const reason = `waiting for the first sync with Caddy${last === undefined ? '' : ` (last attempt failed: ${last.message})`}`;
      return notReady(reason);
    }
    if (this.#unreachableSince !== undefined) {
      return notReady(`Caddy unreachable since ${new Date(this.#unreachableSince).toISOString()}`);
    }
    return { status: 200, json: { ready: true } };
  }
}

function notReady(reason: string): Reply {
  return { status: 503, json: { ready: false, reason }, headers: { 'retry-after': '1' } };
}
