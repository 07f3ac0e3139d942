/**
 * Wires the live loop together: the instance DNS process, Caddy (adopted or started), the
 * directory watcher, the keyed work queue and the reconciler.
 *
 * Queue keys: `file:<path>` per manifest (parse, cheap), one `caddy` key for the apply step, so a
 * burst of file events marks `caddy` dirty many times but reconciles Caddy once, and one `statuses`
 * key that writes the status files after it, so they never hold the next change back. A trailing
 * debounce with a cap sits between file changes and the `caddy` key to collapse bursts further.
 *
 * Start-up order guarantees Caddy is never pushed a partial set: the initial scan parses every
 * manifest before the first `caddy` reconcile.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject } from '../model/json.js';
import type { Logger } from '../model/logger.js';
import { stableStringify } from '../model/canonical.js';
import { ensureDnsProcess, type DnsProcessHandle } from '../dns/supervisor.js';
import { writeRegistry } from '../dns/registry-file.js';
import { createCaddyClient, type CaddyClient } from '../reconciler/caddy-client.js';
import { Reconciler, type CaddySyncResult } from '../reconciler/reconciler.js';
import { createStatusWriter } from '../reconciler/status-writer.js';
import { writeFileAtomic } from '../platform/atomic-file.js';
import { watchManifests, type ManifestWatcher } from '../sources/watcher.js';
import { ensureCaddy, type CaddyDaemon } from './caddy-daemon.js';
import { CaddySupervisor } from './caddy-supervisor.js';
import { Rescanner } from '../sources/rescanner.js';
import { systemClock, type Clock } from './clock.js';
import { Debouncer } from './debounce.js';
import { withDnsPort, type Options } from './options.js';
import { exponentialLimiter } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';
import type { CertificateTarget } from '../reconciler/reconciler.js';
import type { CertificateStatus } from '../reconciler/status-types.js';

export const CADDY_KEY = 'caddy';
/** Writes the status files of the last Caddy sync (see `Reconciler.syncStatuses`). */
export const STATUS_KEY = 'statuses';
const STATUS_RETRY_MS = 50;
const STATUS_MAX_WAIT_MS = 2_000;
const CADDY_DEFER_MAX_MS = 1000;
const FILE_PREFIX = 'file:';

export interface ControllerHooks {
  /** Called after every `caddy` reconcile (metrics, API waiters). */
  readonly onCaddySync?: (result: CaddySyncResult | Error) => void;
  /** Certificate probe for TLS hostnames (issue: TLS status). */
  readonly probeCertificates?: (targets: readonly CertificateTarget[]) => Promise<ReadonlyMap<string, CertificateStatus>>;
}

export interface ControllerDeps {
  readonly logger: Logger;
  /** argv that starts `ingressd dns` (the detached DNS process). */
  readonly dnsCommand: readonly string[];
  readonly clock?: Clock;
  readonly hooks?: ControllerHooks;
}

export class Controller {
  readonly #deps: ControllerDeps;
  readonly #clock: Clock;
  readonly #queue: WorkQueue<string>;
  readonly #debounce: Debouncer;
  #options: Options;
  #dns: DnsProcessHandle | undefined;
  #caddy: CaddyDaemon | undefined;
  #client: CaddyClient | undefined;
  #reconciler: Reconciler | undefined;
  #watcher: ManifestWatcher | undefined;
  #rescanner: Rescanner | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #workers: Promise<void>[] = [];
  #ready = false;
  #supervisor: CaddySupervisor | undefined;
  #lastSyncAt: number | undefined;
  /** Workers reading a manifest right now, and when the Caddy reconcile first waited for them. */
  #parsing = 0;
  #stopped = false;
  #caddyDeferredSince: number | undefined;
  /** When the status files first waited behind other work (see `#syncStatuses`). */
  #statusWaitingSince: number | undefined;

  constructor(options: Options, deps: ControllerDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#queue = new WorkQueue<string>({ clock: this.#clock, rateLimiter: exponentialLimiter({ baseMs: 5, maxMs: 300_000 }) });
    // Collapse a burst of file events into one Caddy reconcile: 20 ms after the last event, at most 250 ms after the first.
    this.#debounce = new Debouncer(() => this.#queue.add(CADDY_KEY), { clock: this.#clock, settleMs: 20, maxWaitMs: 250 });
  }

  get options(): Options {
    return this.#options;
  }
  get reconciler(): Reconciler {
    if (this.#reconciler === undefined) throw new Error('controller not started');
    return this.#reconciler;
  }
  get caddyClient(): CaddyClient {
    if (this.#client === undefined) throw new Error('controller not started');
    return this.#client;
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
  get queueDepth(): number {
    return this.#queue.len();
  }

  /**
   * Starts the DNS process, Caddy, the watcher and the workers. Resolves once the loop runs;
   * `whenReady()` resolves after the first full sync (Caddy may need retries to get there).
   */
  async start(): Promise<void> {
    const { logger } = this.#deps;
    const options = this.#options;
    await mkdir(join(options.dataDir, 'caddy'), { recursive: true, mode: 0o700 });
    this.#dns = await ensureDnsProcess({
      dataDir: options.dataDir,
      address: options.dns.address,
      port: options.dns.port,
      zone: options.dns.zone,
      command: this.#deps.dnsCommand,
    });
    logger.info(this.#dns.adopted ? 'adopted the running instance DNS' : 'started the instance DNS', { pid: this.#dns.pid, port: this.#dns.port });
    this.#options = withDnsPort(options, this.#dns.port);

    this.#client = createCaddyClient({ adminAddress: options.caddy.adminAddress, adminPort: options.caddy.adminPort });
    this.#caddy = await ensureCaddy(
      { binary: options.caddy.binary, adminAddress: options.caddy.adminAddress, adminPort: options.caddy.adminPort, dataDir: options.dataDir, logger },
      this.#client,
    );
    logger.info(this.#caddy.origin === 'started' ? 'started Caddy' : 'adopted the running Caddy', { origin: this.#caddy.origin, pid: this.#caddy.pid, admin: this.#client.adminUrl });

    const registryPath = this.#dns.registryPath;
    const zone = this.#options.dns.zone;
    this.#reconciler = new Reconciler({
      manifestDir: options.manifestDir,
      settings: this.#options.render,
      caddy: this.#client,
      statuses: createStatusWriter(options.manifestDir),
      publishInstances: async (instances) => {
        await writeRegistry(registryPath, zone, instances.map((i) => ({ name: i.name, id: i.id, address: i.address })));
      },
      saveAppliedConfig: (config: JsonObject) => writeFileAtomic(join(options.dataDir, 'caddy', 'config.json'), stableStringify(config), { mode: 0o600 }),
      ...(this.#deps.hooks?.probeCertificates === undefined ? {} : { probeCertificates: this.#deps.hooks.probeCertificates }),
      now: () => this.#clock.now(),
      logger,
    });

    await mkdir(options.manifestDir, { recursive: true });
    this.#watcher = await watchManifests({
      dir: options.manifestDir,
      onPath: (file) => this.#queue.add(FILE_PREFIX + file),
      onRescan: () => void this.resync(true),
      logger,
    });
    this.#rescanner = new Rescanner({
      dir: options.manifestDir,
      logger,
      syncFile: (file) => this.reconciler.syncFile(file),
      enqueueFile: (file, retry) => (retry ? this.#queue.addRateLimited(FILE_PREFIX + file) : this.#queue.add(FILE_PREFIX + file)),
      enqueueCaddy: () => {
        // A resync looks at what Caddy really holds, not at what ingressd last wrote there.
        this.reconciler.verifyLiveConfig();
        this.#queue.add(CADDY_KEY);
      },
      knownFiles: () => this.reconciler.files(),
    });
    try {
      await this.#rescanner.initial();
    } catch (err) {
      await this.#watcher.close();
      throw err;
    }
    if (this.#stopped) {
      // stop() ran while we were starting: do not leave a watcher or workers behind.
      await this.#watcher.close();
      return;
    }

    for (let i = 0; i < 4; i++) this.#workers.push(this.#work());
    this.#queue.add(CADDY_KEY);
    this.#timers.push(setInterval(() => void this.resync(), options.resyncIntervalMs));
    this.#supervisor = new CaddySupervisor({
      client: this.#client,
      caddy: this.#caddy,
      clock: this.#clock,
      logger,
      dns: () => this.#dns,
      restartDns: () => this.#restartDns(),
      onUnreachable: () => this.reconciler.markCaddyUnavailable('no answer from the admin API'),
      onBack: () => {
        this.reconciler.verifyLiveConfig();
        this.#queue.add(CADDY_KEY);
      },
    });
    const supervisor = this.#supervisor;
    this.#timers.push(setInterval(() => void supervisor.check(), 1000));
    for (const t of this.#timers) t.unref();
  }

  /** Resolves after the first full sync succeeded (the queue retries a failing one with backoff). */
  async whenReady(): Promise<void> {
    while (!this.#ready) await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }

  /** Queues one manifest now, without waiting for the watcher (the HTTP API calls this after writing a file). */
  enqueueFile(file: string): void {
    this.#queue.add(FILE_PREFIX + file);
  }

  /** Rescans the directory (missed events) and checks Caddy for drift; `full` also stat()s every file. */
  async resync(full = false): Promise<void> {
    await this.#rescanner?.rescan(full);
  }

  /** Resolves when nothing is queued, waiting in the debounce or running. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#queue.idle();
      if (!this.#debounce.isPending) return;
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Finishes the reconcile in flight, stops watching; stops Caddy and the DNS process only when asked to. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#watcher?.close();
    this.#queue.shutDown();
    await Promise.all(this.#workers);
    // After the workers: one finishing a file could otherwise arm the debounce again.
    this.#debounce.cancel();
    if (this.#options.caddy.stopOnShutdown) {
      await this.#caddy?.stop();
      await this.#dns?.stop();
    }
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      try {
        if (key === CADDY_KEY) {
          if (!this.#deferCaddy()) await this.#syncCaddy();
        } else if (key === STATUS_KEY) {
          await this.#syncStatuses();
        } else {
          this.#parsing++;
          try {
            if (await this.reconciler.syncFile(key.slice(FILE_PREFIX.length))) this.#debounce.schedule();
          } finally {
            this.#parsing--;
          }
          this.#queue.forget(key);
        }
      } catch (err) {
        this.#deps.logger.warn('reconcile failed; retrying with backoff', { key, error: err instanceof Error ? err.message : String(err) });
        this.#queue.addRateLimited(key);
        if (key === CADDY_KEY) this.#deps.hooks?.onCaddySync?.(err instanceof Error ? err : new Error(String(err)));
      } finally {
        this.#queue.done(key);
      }
    }
  }

  /**
   * While manifests are still arriving or being read (a burst of files: settling in the watcher,
   * queued or being parsed), the Caddy reconcile waits for them, a little at a time and at most
   * CADDY_DEFER_MAX_MS in all, so the burst becomes one write.
   * Level-triggered, so waiting is only ever a matter of fewer writes, never of correctness.
   */
  #deferCaddy(): boolean {
    if (!this.#filesPending()) return false;
    const now = this.#clock.now();
    this.#caddyDeferredSince ??= now;
    if (now - this.#caddyDeferredSince >= CADDY_DEFER_MAX_MS) return false;
    this.#queue.addAfter(CADDY_KEY, 10);
    return true;
  }

  /** Manifests seen changing and not read yet: settling in the watcher, queued, or being read. */
  #filesPending(): boolean {
    const queued = this.#queue.len() - (this.#queue.isQueued(STATUS_KEY) ? 1 : 0);
    return queued > 0 || this.#parsing > 0 || (this.#watcher?.settling() ?? 0) > 0;
  }

  async #syncCaddy(): Promise<void> {
    this.#caddyDeferredSince = undefined;
    const result = await this.reconciler.syncCaddy();
    this.#queue.forget(CADDY_KEY);
    this.#ready = true;
    this.#supervisor?.markReachable();
    this.#lastSyncAt = this.#clock.now();
    if (result.statusPending) this.#queue.add(STATUS_KEY);
    if (result.certificatesPending) this.#queue.addAfter(CADDY_KEY, 2000);
    this.#deps.hooks?.onCaddySync?.(result);
  }

  /**
   * Status files, after Caddy: the pass steps aside (and comes back STATUS_RETRY_MS later) while
   * manifests or a Caddy sync are waiting, for at most STATUS_MAX_WAIT_MS, so a stream of changes
   * cannot keep statuses stale for long.
   */
  async #syncStatuses(): Promise<void> {
    const now = this.#clock.now();
    this.#statusWaitingSince ??= now;
    const mayPause = now - this.#statusWaitingSince < STATUS_MAX_WAIT_MS;
    const othersWaiting = (): boolean => mayPause && (this.#queue.len() > 0 || this.#filesPending() || this.#debounce.isPending || this.#caddyDeferredSince !== undefined);
    const pass = await this.reconciler.syncStatuses(othersWaiting);
    this.#queue.forget(STATUS_KEY);
    if (pass.complete) this.#statusWaitingSince = undefined;
    else this.#queue.addAfter(STATUS_KEY, STATUS_RETRY_MS);
  }

  async #restartDns(): Promise<void> {
    const options = this.#options;
    try {
      this.#dns = await ensureDnsProcess({ dataDir: options.dataDir, address: options.dns.address, port: options.dns.port, zone: options.dns.zone, command: this.#deps.dnsCommand });
      this.#deps.logger.warn('the instance DNS process had exited; started it again', { pid: this.#dns.pid });
    } catch (err) {
      this.#deps.logger.error('could not restart the instance DNS', { error: String(err) });
    }
  }
}
