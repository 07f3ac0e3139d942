/**
 * Watches Caddy's admin API (and the instance DNS process) once a second. A Caddy that stops
 * answering makes ingressd's statuses `Programmed=Unknown`; one that ingressd started and that died
 * is restarted, with exponential backoff (1 s to 60 s) while restarts fail; either way, once Caddy
 * answers again the caller re-applies. A DNS process that died is started again on the same port.
 */
import { isIngressdError } from '../model/errors.js';
import type { Logger } from '../model/logger.js';
import type { DnsProcessHandle } from '../dns/supervisor.js';
import type { CaddyClient } from '../reconciler/caddy-client.js';
import type { CaddyDaemon } from './caddy-daemon.js';
import type { Clock } from '../platform/clock.js';

export interface CaddySupervisorOptions {
  readonly client: CaddyClient;
  readonly caddy: Pick<CaddyDaemon, 'managed' | 'isProcessAlive' | 'restart'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The DNS process as it is now, and how to start it again. */
  readonly dns: () => Pick<DnsProcessHandle, 'isAlive'> | undefined;
  readonly restartDns: () => Promise<void>;
  /** Caddy stopped answering: mark what it serves as unknown. */
  readonly onUnreachable: () => Promise<void>;
  /** Caddy answers again (or was restarted): reconcile it. */
  readonly onBack: () => void;
}

const MAX_RESTART_DELAY_MS = 60_000;

export class CaddySupervisor {
  readonly #options: CaddySupervisorOptions;
  #reachable = true;
  #busy = false;
  #restartFailures = 0;
  #nextRestartAtMs = 0;

  constructor(options: CaddySupervisorOptions) {
    this.#options = options;
  }

  get reachable(): boolean {
    return this.#reachable;
  }

  /** Called after a successful reconcile: Caddy evidently answers. */
  markReachable(): void {
    this.#reachable = true;
  }

  /** One supervision round; rounds never overlap (a round still running makes the next a no-op). */
  async check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const dns = this.#options.dns();
      if (dns !== undefined && !dns.isAlive()) await this.#options.restartDns();
      await this.#checkCaddy();
    } finally {
      this.#busy = false;
    }
  }

  async #checkCaddy(): Promise<void> {
    const { client, caddy, clock, logger } = this.#options;
    if (await client.ping(1000)) {
      if (!this.#reachable) {
        logger.info('Caddy is reachable again; re-applying');
        this.#reachable = true;
        this.#options.onBack();
      }
      return;
    }
    if (this.#reachable) {
      this.#reachable = false;
      logger.warn('Caddy admin API is unreachable', { admin: client.adminUrl, managed: caddy.managed });
      await this.#options.onUnreachable().catch(() => undefined);
    }
    if (!caddy.managed || caddy.isProcessAlive() || clock.now() < this.#nextRestartAtMs) return;
    try {
      logger.warn('the Caddy started by ingressd exited; restarting it', { attempt: this.#restartFailures + 1 });
      await caddy.restart();
      this.#restartFailures = 0;
      this.#reachable = true;
      this.#options.onBack();
    } catch (err) {
      this.#restartFailures++;
      const delayMs = Math.min(1000 * 2 ** this.#restartFailures, MAX_RESTART_DELAY_MS);
      this.#nextRestartAtMs = clock.now() + delayMs;
      logger.error('could not restart Caddy; trying again later', { error: isIngressdError(err) ? err.message : String(err), retryInMs: delayMs });
    }
  }
}
