/**
 * The reconciler: level-triggered. A key names what to look at again; the reconciler reads the
 * current files and Caddy's live config, never the event that woke it. `reconcile(key)` resolves
 * with a `Result` (see result.ts for what the queue does with it):
 *
 * | key          | does                                                          | result |
 * |--------------|---------------------------------------------------------------|--------|
 * | `file`       | re-reads one manifest (parse + schema); a change asks for the Caddy key | done; retry when the file cannot be read |
 * | `caddy`      | while manifests are still arriving, waits for them (at most 1 s); then evaluates, applies in at most one write, publishes instances (`CaddySync`) and asks for the statuses key | done; requeue after 2 s while a certificate is pending, else after 10 s while a rule has health checks (to follow Caddy's health verdicts: its gauge's period); retry when Caddy is unreachable (statuses then say `Programmed=Unknown`) |
 * | `statuses`   | writes the status files the last Caddy sync changed, stepping aside (at most 2 s in all) while other work waits | done; requeue after 50 ms when it stepped aside |
 * | `crossCheck` | when incremental changes were made and have been quiet for a while (and the last check is old enough), has the next Caddy sync compare the incremental state with the full pipeline and repair it | done (the controller adds this key on a timer) |
 *
 * Callers guarantee a key is never reconciled twice at once (the work queue's rule). Events tell
 * waiters (the HTTP API, metrics, readiness) what happened, so nobody polls.
 */
import type { Logger } from '../model/logger.js';
import type { Manifest } from '../model/manifest.js';
import type { Instance } from '../model/resource.js';
import type { JsonObject } from '../model/json.js';
import type { CaddyInfo } from '../model/caddy-version.js';
import type { RenderSettings } from '../model/settings.js';
import type { Clock } from '../platform/clock.js';
import { Emitter } from '../platform/emitter.js';
import type { CaddyClient } from './caddy-client.js';
import { isCaddyUnavailable } from './caddy-errors.js';
import { CaddySync, type CaddySyncResult, type CertificateTarget } from './caddy-sync.js';
import type { ClaimsFn } from './claims.js';
import type { LastValid } from './last-valid.js';
import type { EvaluatedSet } from './evaluate.js';
import { CADDY_KEY, STATUSES_KEY, type Key } from './keys.js';
import { ManifestStore } from './manifest-store.js';
import { asError, DONE, requeueAfter, retry, type Result } from './result.js';
import { StatusPasses } from './status-passes.js';
import { StatusSync, type StatusPass } from './status-sync.js';
import type { CertificateStatus, ResourceStatus } from './status-types.js';
import type { StatusWriter } from './status-writer.js';

export type { CaddySyncResult, CertificateTarget } from './caddy-sync.js';

export interface ReconcilerOptions {
  readonly settings: RenderSettings;
  readonly caddy: CaddyClient;
  readonly statuses: StatusWriter;
  /** Reads and parses one manifest file now; undefined when it is gone. Throws when it cannot be read. */
  readonly readManifest: (file: string) => Manifest | undefined;
  /** Publishes the accepted instances to the instance DNS (atomically). */
  readonly publishInstances: (instances: readonly Instance[]) => Promise<void>;
  /** Persists the config Caddy holds, so a restarted Caddy starts from it. */
  readonly saveAppliedConfig: (config: JsonObject) => Promise<void>;
  /** TLS handshakes against the local listeners; absent → no certificate status. */
  readonly probeCertificates?: (targets: readonly CertificateTarget[]) => Promise<ReadonlyMap<string, CertificateStatus>>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Asks for another key (the controller debounces the Caddy key after manifest changes). */
  readonly enqueue: (key: Key) => void;
  /** True while manifests were seen changing and are not read yet (settling, queued or being read). */
  readonly filesPending: () => boolean;
  /** True while other work waits: a status pass steps aside for it. */
  readonly othersWaiting: () => boolean;
  /** First delay before an ingress that Caddy rejected is tried again. @default 30_000 */
  readonly isolationRetryMs?: number;
  /** Quiet time after the last incremental change before the cross-check. @default 5_000 */
  readonly crossCheckQuietMs?: number;
  /** Least time between two cross-checks. @default 60_000 */
  readonly crossCheckIntervalMs?: number;
  /** For the incremental evaluator only (tests). @default claimsOf */
  readonly claims?: ClaimsFn;
  /** Whether a listen address Caddy does not hold yet is free. @default a bind probe */
  readonly isListenFree?: (listen: string) => Promise<boolean>;
  /** The last valid versions (FALLBACK=last-valid). @default none: an invalid file serves nothing */
  readonly lastValid?: LastValid;
  /** This node's name (NODE_NAME), written into every status file. @default none */
  readonly node?: string;
}

/** What happened, for waiters. */
export interface ReconcilerEvents {
  /** A manifest was read (or found gone) by a `file` reconcile. */
  readonly manifestRead: { readonly file: string; readonly changed: boolean };
  /** A Caddy sync succeeded; `evaluated` is what it applied. */
  readonly caddySynced: { readonly result: CaddySyncResult; readonly evaluated: EvaluatedSet };
  readonly caddySyncFailed: Error;
  readonly statusesWritten: StatusPass;
}

/** Longest a Caddy sync waits for manifests still arriving, and the step it waits in. */
const CADDY_DEFER_MAX_MS = 1_000;
const CADDY_DEFER_STEP_MS = 10;
const CERTIFICATE_POLL_MS = 2_000;
/** Caddy refreshes `caddy_reverse_proxy_upstreams_healthy` every 10 s (upstream-health.ts): reading more often sees nothing new. */
const HEALTH_POLL_MS = 10_000;
const STATUS_RETRY_MS = 50;
const STATUS_MAX_WAIT_MS = 2_000;

export class Reconciler {
  readonly events = new Emitter<ReconcilerEvents>();
  readonly #options: ReconcilerOptions;
  readonly #store = new ManifestStore();
  readonly #statusSync: StatusSync;
  readonly #statuses: StatusPasses;
  readonly #caddy: CaddySync;
  #caddyDeferredSince: number | undefined;
  /** The next Caddy sync is a poll (see `logSync`): the last one asked to be run again to watch health or a certificate. */
  #polling = false;
  #statusWaitingSince: number | undefined;
  #lastIncrementalSyncAt = 0;
  #lastCrossCheckAt = 0;

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#statusSync = new StatusSync(options.statuses, options.settings, (file) => this.#store.has(file), {
      ...(options.node === undefined ? {} : { node: options.node }),
      logger: options.logger,
    });
    this.#statuses = new StatusPasses(this.#statusSync, options.settings, options.logger, (evaluated, excluded, now) =>
      options.lastValid?.record(evaluated, excluded, this.#store.acceptedSince, now),
    );
    this.#caddy = new CaddySync({
      settings: options.settings,
      caddy: options.caddy,
      store: this.#store,
      statuses: this.#statuses,
      publishInstances: options.publishInstances,
      saveAppliedConfig: options.saveAppliedConfig,
      ...(options.probeCertificates === undefined ? {} : { probeCertificates: options.probeCertificates }),
      now: () => options.clock.now(),
      logger: options.logger,
      ...(options.isolationRetryMs === undefined ? {} : { isolationRetryMs: options.isolationRetryMs }),
      ...(options.claims === undefined ? {} : { claims: options.claims }),
      ...(options.isListenFree === undefined ? {} : { isListenFree: options.isListenFree }),
    });
  }

  reconcile(key: Key, signal?: AbortSignal): Promise<Result> {
    switch (key.kind) {
      case 'file':
        return this.#syncFile(key.file);
      case 'caddy':
        return this.#syncCaddy(signal);
      case 'statuses':
        return this.#syncStatuses();
      case 'crossCheck':
        return Promise.resolve(this.#scheduleCrossCheck());
    }
  }

  /** Manifest files known now, sorted. */
  files(): string[] {
    return this.#store.files();
  }

  manifest(file: string): Manifest | undefined {
    return this.#store.get(file);
  }

  /** The status last built for a manifest (what its status file holds). */
  status(file: string): ResourceStatus | undefined {
    return this.#statusSync.get(file);
  }

  /** The last evaluation of the whole set (undefined before the first Caddy sync). */
  evaluated(): EvaluatedSet | undefined {
    return this.#caddy.evaluated;
  }

  /** Conflict precedence as it stands: when each manifest was first accepted. */
  acceptedSince(): ReadonlyMap<string, number> {
    return this.#store.acceptedSince;
  }

  /** The next Caddy sync reads Caddy's config instead of trusting what ingressd last wrote. */
  verifyLiveConfig(): void {
    this.#caddy.verifyLiveConfig();
  }

  /** The Caddy that loads the config; the next Caddy sync renders for another one (the caller queues it). */
  get caddy(): CaddyInfo {
    return this.#caddy.caddy;
  }

  useCaddy(caddy: CaddyInfo): void {
    this.#caddy.useCaddy(caddy);
  }

  /** Renders ERROR_PAGES_DIR's new pages from the next Caddy sync (the caller queues it). */
  useErrorPages(errorPages: NonNullable<RenderSettings['errorPages']>): void {
    this.#caddy.useErrorPages(errorPages);
  }

  /** Marks every accepted ingress `Programmed=Unknown` (Caddy unreachable) and writes statuses. */
  async markCaddyUnavailable(message: string): Promise<void> {
    await this.#statuses.markCaddyUnavailable(message, this.#options.clock.now());
  }

  async #syncFile(file: string): Promise<Result> {
    let manifest: Manifest | undefined;
    try {
      manifest = this.#options.readManifest(file);
    } catch (err) {
      return retry(err);
    }
    let changed: boolean;
    if (manifest === undefined) {
      changed = this.#store.delete(file);
      this.#options.lastValid?.forget(file);
      await this.#statusSync.forget(file);
    } else {
      manifest = this.#options.lastValid?.apply(manifest, this.#options.settings.tls) ?? manifest;
      // A stand-in's status says Accepted=False: its precedence comes from its record.
      const since = (await this.#statusSync.adopt(file)) ?? (this.#store.acceptedSince.has(file) ? undefined : manifest.fallback?.since);
      changed = this.#store.set(manifest, since);
      // Unchanged, but its status file is gone (its directory was swapped): write it again.
      if (!changed && this.#statusSync.lost(file) && this.#statuses.rewrite()) this.#options.enqueue(STATUSES_KEY);
    }
    if (changed) this.#options.enqueue(CADDY_KEY);
    this.events.emit('manifestRead', { file, changed });
    return DONE;
  }

  async #syncCaddy(signal: AbortSignal | undefined): Promise<Result> {
    const now = this.#options.clock.now();
    if (this.#options.filesPending()) {
      // A burst of files: waiting a little for the rest makes it one write. Level-triggered, so
      // waiting only ever saves writes, never costs correctness.
      this.#caddyDeferredSince ??= now;
      if (now - this.#caddyDeferredSince < CADDY_DEFER_MAX_MS) return requeueAfter(CADDY_DEFER_STEP_MS);
    }
    this.#caddyDeferredSince = undefined;
    let result: CaddySyncResult;
    try {
      const routine = this.#polling;
      this.#polling = false;
      result = await this.#caddy.sync(signal, routine);
    } catch (err) {
      const error = asError(err);
      if (isCaddyUnavailable(error)) await this.markCaddyUnavailable(error.message);
      this.events.emit('caddySyncFailed', error);
      return retry(error);
    }
    const evaluated = this.#caddy.evaluated;
    if (evaluated !== undefined) this.events.emit('caddySynced', { result, evaluated });
    if (result.statusPending) this.#options.enqueue(STATUSES_KEY);
    if (this.#caddy.hasUncheckedChanges) this.#lastIncrementalSyncAt = now;
    this.#polling = result.certificatesPending || result.healthChecked;
    if (result.certificatesPending) return requeueAfter(CERTIFICATE_POLL_MS);
    return result.healthChecked ? requeueAfter(HEALTH_POLL_MS) : DONE;
  }

  async #syncStatuses(): Promise<Result> {
    const now = this.#options.clock.now();
    this.#statusWaitingSince ??= now;
    const mayPause = now - this.#statusWaitingSince < STATUS_MAX_WAIT_MS;
    const pass = await this.#statuses.write(() => mayPause && this.#options.othersWaiting());
    // Off the sync's path, like the statuses: a failure is retried with the next pass.
    await this.#options.lastValid?.flush().catch((err: unknown) => this.#options.logger.warn('could not save the last valid versions', { error: String(err) }));
    this.events.emit('statusesWritten', pass);
    if (!pass.complete) return requeueAfter(STATUS_RETRY_MS);
    this.#statusWaitingSince = undefined;
    return DONE;
  }

  /**
   * Only fast-path evaluations can drift; they are checked once quiet, at most once per interval.
   * Not due yet: nothing to do until the key comes again (no requeue, so the queue goes idle).
   */
  #scheduleCrossCheck(): Result {
    if (!this.#caddy.hasUncheckedChanges) return DONE;
    const now = this.#options.clock.now();
    const quietAt = this.#lastIncrementalSyncAt + (this.#options.crossCheckQuietMs ?? 5_000);
    const allowedAt = this.#lastCrossCheckAt + (this.#options.crossCheckIntervalMs ?? 60_000);
    if (now < Math.max(quietAt, allowedAt)) return DONE;
    this.#lastCrossCheckAt = now;
    this.#caddy.requestCrossCheck();
    this.#options.enqueue(CADDY_KEY);
    return DONE;
  }
}
