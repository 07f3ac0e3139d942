/**
 * Wires the live loop together: the runtime (instance DNS process and Caddy, started or adopted),
 * the directory watcher and rescanner, the keyed work queue with its workers, and the reconciler.
 *
 * Keys (reconciler/keys.ts): one per manifest (parse, cheap), one `caddy` key for the apply step,
 * so a burst of file events marks `caddy` dirty many times but reconciles Caddy once, a `statuses`
 * key that writes the status files after it, so they never hold the next change back, and a
 * `crossCheck` key. A trailing debounce with a cap sits between manifest changes and the `caddy`
 * key to collapse bursts further. Every timer runs on the injected clock.
 *
 * Start-up order guarantees Caddy is never pushed a partial set: the initial scan parses every
 * manifest before the first `caddy` reconcile.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../model/logger.js';
import { repeat, systemClock, type Clock } from '../platform/clock.js';
import { Emitter } from '../platform/emitter.js';
import type { ClaimsFn } from '../reconciler/claims.js';
import type { CaddyClient } from '../reconciler/caddy-client.js';
import { CADDY_KEY, CROSS_CHECK_KEY, fileKey, STATUSES_KEY, type Key } from '../reconciler/keys.js';
import { LastValid } from '../reconciler/last-valid.js';
import { lastValidDir, lastValidFiles } from '../reconciler/last-valid-file.js';
import type { Result } from '../reconciler/result.js';
import { Reconciler, type CertificateTarget, type ReconcilerEvents } from '../reconciler/reconciler.js';
import type { CertificateStatus } from '../reconciler/status-types.js';
import { createStatusWriter, type StatusWriter } from '../reconciler/status-writer.js';
import { createManifestReader } from '../sources/manifest-reader.js';
import { ReferenceIndex } from '../sources/referenced-files.js';
import { Rescanner } from '../sources/rescanner.js';
import { watchManifests, type ManifestWatcher, type WatcherOptions } from '../sources/watcher.js';
import { infoOf, logCaddy } from './caddy-info.js';
import { ErrorPagesFollower, followCaddy } from './follow-settings.js';
import { CaddySupervisor } from './caddy-supervisor.js';
import { Debouncer } from './debounce.js';
import type { Options } from './options.js';
import { exponentialLimiter } from './rate-limiter.js';
import { startRuntime, type Runtime } from './runtime.js';
import { runWorker } from './worker.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerDeps {
  readonly logger: Logger;
  /** argv that starts `ingressd dns` (the detached DNS process). */
  readonly dnsCommand: readonly string[];
  /** @default systemClock */
  readonly clock?: Clock;
  /** Certificate probe for TLS hostnames; absent → no certificate status. */
  readonly probeCertificates?: (targets: readonly CertificateTarget[]) => Promise<ReadonlyMap<string, CertificateStatus>>;
  /** Starts or adopts the DNS process and Caddy. @default startRuntime (the real processes) */
  readonly startRuntime?: (options: Options, dnsCommand: readonly string[], logger: Logger) => Promise<Runtime>;
  /** Watches the manifest directory. @default watchManifests */
  readonly watch?: (options: WatcherOptions) => Promise<ManifestWatcher>;
  /** For the incremental evaluator only (tests). @default claimsOf */
  readonly claims?: ClaimsFn;
  /** Whether a listen address Caddy does not hold yet is free (tests). @default a bind probe */
  readonly isListenFree?: (listen: string) => Promise<boolean>;
}

const WORKERS = 4;
const SUPERVISE_EVERY_MS = 1_000;
/** How often the cross-check key is offered (a no-op unless incremental changes await a check). */
const CROSS_CHECK_TICK_MS = 5_000;

export class Controller {
  /** The reconciler's events, forwarded: subscribe before `start()` to see the first sync. */
  readonly events = new Emitter<ReconcilerEvents>();
  readonly #deps: ControllerDeps;
  readonly #clock: Clock;
  readonly #queue: WorkQueue<Key>;
  readonly #debounce: Debouncer;
  #options: Options;
  #runtime: Runtime | undefined;
  #reconciler: Reconciler | undefined;
  #watcher: ManifestWatcher | undefined;
  #rescanner: Rescanner | undefined;
  readonly #references = new ReferenceIndex(); // which manifests name which files beside them (see referenced-files.ts)
  readonly #errorPages: ErrorPagesFollower;
  #statusWriter: StatusWriter | undefined;
  #supervisor: CaddySupervisor | undefined;
  readonly #stopTimers: (() => void)[] = [];
  #workers: Promise<void>[] = [];
  #ready = false;
  readonly #readyWaiters: (() => void)[] = [];
  #lastSyncAt: number | undefined;
  /** File keys being reconciled right now. */
  #reading = 0;
  #stopped = false;

  constructor(options: Options, deps: ControllerDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#errorPages = new ErrorPagesFollower(options.errorPagesDir, deps.logger);
    this.#clock = deps.clock ?? systemClock;
    this.#queue = new WorkQueue<Key>({ clock: this.#clock, rateLimiter: exponentialLimiter<Key>({ baseMs: 5, maxMs: 300_000 }) });
    // Collapse a burst of manifest changes into one Caddy reconcile: 20 ms after the last, at most 250 ms after the first.
    this.#debounce = new Debouncer(() => this.#queue.add(CADDY_KEY), { clock: this.#clock, settleMs: 20, maxWaitMs: 250 });
    this.events.on('caddySynced', () => {
      this.#lastSyncAt = this.#clock.now();
      this.#supervisor?.markReachable();
      if (this.#ready) return;
      this.#ready = true;
      for (const resolve of this.#readyWaiters.splice(0)) resolve();
    });
  }

  get options(): Options {
    return this.#options;
  }
  get reconciler(): Reconciler {
    if (this.#reconciler === undefined) throw new Error('controller not started');
    return this.#reconciler;
  }
  get caddyClient(): CaddyClient {
    if (this.#runtime === undefined) throw new Error('controller not started');
    return this.#runtime.caddyClient;
  }
  get clock(): Clock {
    return this.#clock;
  }
  /** True once the first full sync with Caddy succeeded. */
  get ready(): boolean {
    return this.#ready;
  }
  get caddyReachable(): boolean {
    return this.#supervisor?.reachable ?? true;
  }
  get lastSyncAt(): number | undefined {
    return this.#lastSyncAt;
  }
  /** Why status files are not written (a read-only manifest tree without STATUS_DIR), else undefined. */
  get statusWarning(): string | undefined {
    return this.#statusWriter?.unwritable();
  }
  get queueDepth(): number {
    return this.#queue.len();
  }

  /**
   * Starts the runtime, the watcher and the workers. Resolves once the loop runs; `whenReady()`
   * resolves after the first full sync (Caddy may need retries to get there).
   */
  async start(): Promise<void> {
    const { logger } = this.#deps;
    const runtime = await (this.#deps.startRuntime ?? startRuntime)(this.#options, this.#deps.dnsCommand, logger);
    this.#runtime = runtime;
    const caddy = await runtime.caddyIdentity.learn();
    logCaddy(logger, 'rendering for this Caddy', caddy);
    this.#options = { ...runtime.options, render: { ...runtime.options.render, caddy: infoOf(caddy), errorPages: this.#errorPages.read().pages } };
    const options = this.#options;
    const reconciler = this.#createReconciler(runtime);
    await mkdir(options.manifestDir, { recursive: true });
    this.#watcher = await (this.#deps.watch ?? watchManifests)({
      dir: options.manifestDir,
      onPath: (file) => this.#queue.add(fileKey(file)),
      onRescan: () => void this.resync(true),
      referencedBy: (file) => this.#references.referencedBy(file),
      logger,
    });
    this.#rescanner = new Rescanner({
      dir: options.manifestDir,
      logger,
      syncFile: (file) => reconciler.reconcile(fileKey(file)),
      enqueueFile: (file, retry) => (retry ? this.#queue.addRateLimited(fileKey(file)) : this.#queue.add(fileKey(file))),
      enqueueCaddy: () => {
        // A resync looks at what Caddy really holds, not at what ingressd last wrote there.
        reconciler.verifyLiveConfig();
        this.#queue.add(CADDY_KEY);
      },
      knownFiles: () => reconciler.files(),
      referencingFiles: () => this.#references.referencing(),
    });
    const watcher = this.#watcher;
    // A failed initial scan leaves no watcher behind.
    await this.#rescanner.initial().catch((err: unknown) => watcher.close().then(() => Promise.reject(err)));
    if (this.#stopped) {
      // stop() ran while we were starting: do not leave a watcher or workers behind.
      await this.#watcher.close();
      return;
    }
    for (let i = 0; i < WORKERS; i++) this.#workers.push(runWorker({ queue: this.#queue, reconcile: (key) => this.#reconcile(key), logger }));
    this.#queue.add(CADDY_KEY);
    this.#supervise(runtime, reconciler);
    this.#stopTimers.push(repeat(this.#clock, options.resyncIntervalMs, () => void this.resync()));
    this.#stopTimers.push(repeat(this.#clock, CROSS_CHECK_TICK_MS, () => this.#queue.add(CROSS_CHECK_KEY)));
  }

  /** Resolves after the first full sync succeeded (the queue retries a failing one with backoff). */
  whenReady(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Queues one manifest now, without waiting for the watcher (the HTTP API calls this after writing a file). */
  enqueueFile(file: string): void {
    this.#queue.add(fileKey(file));
  }

  /** Rescans the directory (missed events) and checks Caddy for drift; `full` also stat()s every file. */
  async resync(full = false): Promise<void> {
    if (this.#runtime !== undefined && this.#reconciler !== undefined) await this.#followSettings(this.#runtime, this.#reconciler);
    await this.#rescanner?.rescan(full);
  }

  /** The render settings that change while running (follow-settings.ts): the next sync renders for them. */
  async #followSettings(runtime: Runtime, reconciler: Reconciler): Promise<void> {
    if (await followCaddy(runtime.caddyIdentity, reconciler, this.#deps.logger)) this.#queue.add(CADDY_KEY);
    const errorPages = this.#errorPages.read();
    if (errorPages.changed) {
      reconciler.useErrorPages(errorPages.pages);
      this.#queue.add(CADDY_KEY);
    }
  }

  /** Resolves when nothing is queued, waiting in the debounce or running. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#queue.idle();
      if (!this.#debounce.isPending) return;
      await this.#debounce.whenSettled();
    }
  }

  /** Finishes the reconciles in flight, stops watching; stops Caddy and the DNS process only when asked to. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const stop of this.#stopTimers.splice(0)) stop();
    await this.#watcher?.close();
    this.#queue.shutDown();
    await Promise.all(this.#workers);
    // After the workers: one finishing a file could otherwise arm the debounce again.
    this.#debounce.cancel();
    if (this.#options.caddy.stopOnShutdown && this.#runtime !== undefined) {
      await this.#runtime.caddy.stop();
      await this.#runtime.dns()?.stop();
    }
  }

  #createReconciler(runtime: Runtime): Reconciler {
    const { logger } = this.#deps;
    this.#statusWriter = createStatusWriter(this.#options.statusDir, { mirrored: this.#options.statusDirSet, logger });
    const reconciler = new Reconciler({
      settings: this.#options.render,
      caddy: runtime.caddyClient,
      statuses: this.#statusWriter,
      readManifest: createManifestReader(this.#options.manifestDir, logger, this.#references),
      publishInstances: (instances) => runtime.publishInstances(instances),
      saveAppliedConfig: (config) => runtime.saveAppliedConfig(config),
      ...(this.#deps.probeCertificates === undefined ? {} : { probeCertificates: this.#deps.probeCertificates }),
      clock: this.#clock,
      logger,
      node: this.#options.node,
      enqueue: (key) => (key.kind === 'caddy' ? this.#debounce.schedule() : this.#queue.add(key)),
      filesPending: () => this.#filesPending(),
      othersWaiting: () => this.#queue.len() > 0 || this.#filesPending() || this.#debounce.isPending || this.#queue.isWaiting(CADDY_KEY),
      ...(this.#deps.claims === undefined ? {} : { claims: this.#deps.claims }),
      ...(this.#deps.isListenFree === undefined ? {} : { isListenFree: this.#deps.isListenFree }),
      ...(this.#options.fallback === 'none' ? {} : { lastValid: new LastValid(lastValidFiles(lastValidDir(this.#options.dataDir), logger)) }),
    });
    const forward = <E extends keyof ReconcilerEvents>(event: E): void => void reconciler.events.on(event, (payload) => this.events.emit(event, payload));
    for (const event of ['manifestRead', 'caddySynced', 'caddySyncFailed', 'statusesWritten'] as const) forward(event);
    this.#reconciler = reconciler;
    return reconciler;
  }

  async #reconcile(key: Key): Promise<Result> {
    if (key.kind !== 'file') return this.reconciler.reconcile(key);
    this.#reading++;
    try {
      return await this.reconciler.reconcile(key);
    } finally {
      this.#reading--;
    }
  }

  /** Manifests seen changing and not read yet: settling in the watcher, queued, or being read. */
  #filesPending(): boolean {
    const others = [STATUSES_KEY, CROSS_CHECK_KEY, CADDY_KEY].filter((key) => this.#queue.isQueued(key)).length;
    return this.#queue.len() - others > 0 || this.#reading > 0 || (this.#watcher?.settling() ?? 0) > 0;
  }

  #supervise(runtime: Runtime, reconciler: Reconciler): void {
    const supervisor = new CaddySupervisor({
      client: runtime.caddyClient,
      caddy: runtime.caddy,
      clock: this.#clock,
      logger: this.#deps.logger,
      dns: () => runtime.dns(),
      restartDns: () => runtime.restartDns(),
      onUnreachable: () => reconciler.markCaddyUnavailable('no answer from the admin API'),
      // A Caddy that comes back may be another one (restarted into an upgraded binary).
      onBack: () => void this.#followSettings(runtime, reconciler).finally(() => {
        reconciler.verifyLiveConfig();
        this.#queue.add(CADDY_KEY);
      }),
    });
    this.#supervisor = supervisor;
    this.#stopTimers.push(repeat(this.#clock, SUPERVISE_EVERY_MS, () => void supervisor.check()));
  }
}
