/**
 * Reads upstream health from Caddy once per Caddy sync (one `GET /metrics`, whatever the number of
 * ingresses), and only while some accepted ingress has a rule with health checks: without one, no
 * request at all. The mapping is upstream-health.ts.
 */
import type { Logger } from '../model/logger.js';
import type { CaddyClient } from './caddy-client.js';
import type { EvaluatedSet } from './evaluate.js';
import { isHealthChecked, NO_HEALTH, parseUpstreamHealth, type UpstreamHealth } from './upstream-health.js';

export class UpstreamHealthReader {
  readonly #client: CaddyClient;
  readonly #logger: Logger;
  /** The evaluation `#checked` was computed for: a sync at rest reuses it. */
  #evaluated: EvaluatedSet | undefined;
  #checked = false;
  #failing = false;

  constructor(client: CaddyClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  /** True when the last `read` found an accepted rule with health checks (and so asked Caddy). */
  get isChecking(): boolean {
    return this.#checked;
  }

  /**
   * Caddy's verdict per dialled upstream. Never rejects: when `/metrics` cannot be read, every
   * target's health is unknown (`NO_HEALTH`) and one warning is logged until a read succeeds.
   * Rejects only with `signal.reason` when the caller aborts.
   */
  async read(evaluated: EvaluatedSet, signal?: AbortSignal): Promise<UpstreamHealth> {
    if (evaluated !== this.#evaluated) {
      this.#evaluated = evaluated;
      this.#checked = evaluated.ingresses.some((i) => i.rules.some(isHealthChecked));
    }
    if (!this.#checked) return NO_HEALTH;
    try {
      const health = parseUpstreamHealth(await this.#client.metrics(signal));
      this.#failing = false;
      return health;
    } catch (err) {
      if (signal?.aborted) throw err;
      if (!this.#failing) this.#logger.warn('could not read upstream health from Caddy\'s /metrics; targets show health "unknown"', { error: err instanceof Error ? err.message : String(err) });
      this.#failing = true;
      return NO_HEALTH;
    }
  }
}
