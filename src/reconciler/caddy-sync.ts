/**
 * The Caddy step of a reconcile, as named steps called in order by `sync`:
 * 1. `evaluate`: judge the manifests again when they changed (only what changed, where provable);
 *    when a cross-check is due, compare with the full pipeline and repair; publish the instances
 *    to the DNS registry when they changed;
 * 2. `apply`: make Caddy hold the desired config in at most one write (more only while isolating
 *    an ingress Caddy rejects), leaving out ingresses already isolated;
 * 3. `save`: keep the config Caddy holds on disk, so a restarted Caddy serves it at once;
 * 4. `probeCertificates`: what the TLS listeners serve;
 * 5. `recordStatuses`: what the status files will be rebuilt from (written by a pass of their own),
 *    with upstream health read from Caddy (one request, only while a rule has health checks).
 * Callers guarantee `sync` never overlaps itself (the work queue's per-key rule).
 */
import type { JsonObject } from '../model/json.js';
import type { Logger } from '../model/logger.js';
import type { Ingress, Instance } from '../model/resource.js';
import type { CaddyInfo } from '../model/caddy-version.js';
import { providerSecret, type RenderSettings } from '../model/settings.js';
import { stableStringify } from '../model/canonical.js';
import { applyDesired, type ApplyOutcome } from './apply.js';
import { scrubStates } from './caddy-errors.js';
import type { CaddyClient } from './caddy-client.js';
import type { ClaimsFn } from './claims.js';
import type { EvaluatedSet } from './evaluate.js';
import { IncrementalDesiredState, type CrossCheckReport } from './incremental-desired-state.js';
import { portsOf } from './ingress-ports.js';
import { Isolations } from './isolations.js';
import { UnsupportedRules } from './unsupported-rules.js';
import type { UpstreamHealth } from './upstream-health.js';
import { LiveConfigCache } from './live-config.js';
import type { ManifestStore } from './manifest-store.js';
import { isListenFree } from './port-probe.js';
import type { StatusPasses } from './status-passes.js';
import type { CertificateStatus, ProgramState } from './status-types.js';
import { logSync, roundMs, type CaddySyncResult } from './sync-log.js';
import { UpstreamHealthReader } from './upstream-health-reader.js';

export type { CaddySyncResult } from './sync-log.js';

export interface CertificateTarget {
  readonly hostname: string;
  readonly port: number;
}

export interface CaddySyncOptions {
  readonly settings: RenderSettings;
  readonly caddy: CaddyClient;
  readonly store: ManifestStore;
  readonly statuses: StatusPasses;
  /** Publishes the accepted instances to the instance DNS (atomically). */
  readonly publishInstances: (instances: readonly Instance[]) => Promise<void>;
  /** Persists the config Caddy holds, so a restarted Caddy starts from it. */
  readonly saveAppliedConfig: (config: JsonObject) => Promise<void>;
  /** TLS handshakes against the local listeners; absent → no certificate status. */
  readonly probeCertificates?: (targets: readonly CertificateTarget[]) => Promise<ReadonlyMap<string, CertificateStatus>>;
  readonly now: () => number;
  readonly logger: Logger;
  /** First delay before an ingress that Caddy rejected is tried again. @default 30_000 */
  readonly isolationRetryMs?: number;
  /** For the incremental evaluator only; see `IncrementalDesiredState`. @default claimsOf */
  readonly claims?: ClaimsFn;
  /** Whether a listen address Caddy does not hold yet is free. @default a bind probe (port-probe.ts) */
  readonly isListenFree?: (listen: string) => Promise<boolean>;
}

export class CaddySync {
  readonly #options: CaddySyncOptions;
  readonly #pipeline: IncrementalDesiredState;
  readonly #live: LiveConfigCache;
  readonly #isolations: Isolations;
  /**
   * What Caddy served when the status inputs last changed (ingresses not `excluded`, at the generations
   * `evaluated` holds). Read only to bisect a failed write: kept as is, not indexed per sync (≥100 ms at 100k).
   */
  #knownGood: { readonly evaluated: EvaluatedSet; readonly excluded: ReadonlyMap<string, ProgramState> } | undefined;
  #evaluated: EvaluatedSet | undefined;
  #evaluations = 0;
  #ingressIds: readonly string[] = [];
  #tlsIngressIds: readonly string[] = [];
  #published: string | undefined;
  #savedConfig = '';
  #certificates: ReadonlyMap<string, CertificateStatus> = new Map();
  #crossCheckRequested = false;
  readonly #unsupported: UnsupportedRules;
  readonly #health: UpstreamHealthReader;

  constructor(options: CaddySyncOptions) {
    this.#options = options;
    this.#pipeline = new IncrementalDesiredState(options.settings, options.claims === undefined ? {} : { claims: options.claims });
    this.#live = new LiveConfigCache(options.caddy, options.logger);
    this.#isolations = new Isolations(options.isolationRetryMs);
    this.#unsupported = new UnsupportedRules(options.logger);
    this.#health = new UpstreamHealthReader(options.caddy, options.logger);
  }

  /** The last evaluation (undefined before the first sync). */
  get evaluated(): EvaluatedSet | undefined {
    return this.#evaluated;
  }

  /** True when fast-path evaluations happened since the last cross-check. */
  get hasUncheckedChanges(): boolean {
    return this.#pipeline.uncheckedFastEvaluations > 0;
  }

  /** The next sync reads Caddy's config instead of trusting what ingressd last wrote (resyncs, Caddy back). */
  verifyLiveConfig(): void {
    this.#live.verifyNext();
  }

  /** The Caddy that loads the config now (another one than before: an upgrade). The next sync renders for it. */
  get caddy(): CaddyInfo {
    return this.#pipeline.settings.caddy;
  }

  useCaddy(caddy: CaddyInfo): void {
    this.#pipeline.useSettings({ ...this.#pipeline.settings, caddy });
    this.#live.verifyNext();
  }

  /** ERROR_PAGES_DIR's pages changed: the next sync renders them (the caller queues it). */
  useErrorPages(errorPages: NonNullable<RenderSettings['errorPages']>): void {
    this.#pipeline.useSettings({ ...this.#pipeline.settings, errorPages });
  }

  /** The next sync compares the incremental state with a full evaluation and render first. */
  requestCrossCheck(): void {
    this.#crossCheckRequested = true;
  }

  /** `routine`: a poll, not a change (see `logSync`). */
  async sync(signal?: AbortSignal, routine = false): Promise<CaddySyncResult> {
    const started = performance.now();
    const now = this.#options.now();
    const { evaluated, crossCheck } = await this.#evaluate(now);
    const evaluateMs = performance.now() - started;
    const outcome = await this.#apply(evaluated, now, signal);
    await this.#save(outcome.applied, outcome.writes);
    const certificatesPending = await this.#probeCertificates(evaluated.ingresses, outcome.excluded);
    const excluded = this.#unsupported.withExcluded(evaluated, this.#pipeline.settings, outcome.excluded);
    this.#recordStatuses(evaluated, excluded, now, await this.#health.read(evaluated, signal));
    const result: CaddySyncResult = {
      writes: outcome.writes,
      reads: outcome.reads,
      changed: outcome.changed,
      durationMs: performance.now() - started,
      excluded: excluded.size,
      statusPending: this.#options.statuses.isPending,
      certificatesPending,
      healthChecked: this.#health.isChecking,
      warnings: outcome.warnings,
      ...(crossCheck === undefined ? {} : { crossCheck }),
      timings: {
        evaluateMs: roundMs(evaluateMs),
        renderMs: roundMs(outcome.timings.renderMs),
        readMs: roundMs(outcome.timings.readMs),
        diffMs: roundMs(outcome.timings.diffMs),
        writeMs: roundMs(outcome.timings.writeMs),
      },
    };
    logSync(this.#options.logger, result, evaluated, outcome.excluded, outcome.preExcluded, routine);
    return result;
  }

  /** Step 1. Evaluates again only when a manifest changed (or a cross-check is due). */
  async #evaluate(now: number): Promise<{ evaluated: EvaluatedSet; crossCheck?: CrossCheckReport }> {
    const { store } = this.#options;
    const checking = this.#crossCheckRequested && this.hasUncheckedChanges;
    this.#crossCheckRequested = false;
    if (!store.isDirty && this.#evaluated !== undefined && !checking) return { evaluated: this.#evaluated };
    const changes = store.takeChanges();
    let evaluated: EvaluatedSet;
    let crossCheck: CrossCheckReport | undefined;
    try {
      evaluated = this.#pipeline.evaluate(store.manifests, changes.files, store.acceptedSince, changes.since);
      if (checking) {
        crossCheck = this.#crossCheck(evaluated, now);
        if (crossCheck.files.length > 0) evaluated = this.#pipeline.evaluate(store.manifests, new Set(), store.acceptedSince);
      }
    } catch (err) {
      this.#pipeline.reset();
      store.markDirty();
      throw err;
    }
    // A fast path changed only the verdicts of the files it was told about.
    store.recordAcceptance(evaluated, now, this.#pipeline.lastPath === 'fast' ? changes.files : undefined);
    this.#evaluated = evaluated;
    this.#evaluations++;
    this.#ingressIds = evaluated.ingresses.map((i) => i.id);
    this.#tlsIngressIds = evaluated.ingresses.filter((i) => i.rules.some((r) => r.tls)).map((i) => i.id);
    await this.#publish(evaluated.instances);
    return crossCheck === undefined ? { evaluated } : { evaluated, crossCheck };
  }

  /** The incremental state against the full pipeline; a mismatch is logged and the state rebuilt. */
  #crossCheck(evaluated: EvaluatedSet, now: number): CrossCheckReport {
    const { store, logger } = this.#options;
    const excluded = new Set(this.#preExcluded(evaluated, now).keys());
    const config = this.#pipeline.render(evaluated, excluded).config;
    const report = this.#pipeline.crossCheck(store.manifests, store.acceptedSince, evaluated, config, excluded);
    if (report.files.length > 0 || report.sections.length > 0) {
      logger.error('the incremental evaluation drifted from a full one; rebuilt it from scratch (please report this)', {
        files: report.files.slice(0, 20),
        differingFiles: report.files.length,
        sections: report.sections,
      });
    } else logger.debug('cross-check: the incremental state matches a full evaluation and render');
    return report;
  }

  /** Published when they changed: most evaluations follow an ingress change. */
  async #publish(instances: readonly Instance[]): Promise<void> {
    const key = instances.map((i) => `${i.id}\u0000${i.name}\u0000${i.address}`).join('\u0001');
    if (key === this.#published) return;
    try {
      await this.#options.publishInstances(instances);
    } catch (err) {
      this.#options.store.markDirty(); // publish again on the retry
      throw err;
    }
    this.#published = key;
  }

  #generationOf(evaluated: EvaluatedSet, id: string): string {
    return this.#options.store.get(evaluated.fileById.get(id) ?? '')?.generation ?? '';
  }

  #preExcluded(evaluated: EvaluatedSet, now: number): Map<string, ProgramState> {
    return this.#isolations.current((id) => evaluated.fileById.has(id), (id) => this.#generationOf(evaluated, id), now);
  }

  /** Step 2. Rejects when Caddy is unreachable (the caller marks statuses and retries). */
  async #apply(evaluated: EvaluatedSet, now: number, signal: AbortSignal | undefined): Promise<ApplyOutcome & { readonly preExcluded: ReadonlyMap<string, ProgramState>; readonly warnings: number }> {
    const { settings } = this.#options;
    const generationOf = (id: string): string => this.#generationOf(evaluated, id);
    const preExcluded = this.#preExcluded(evaluated, now);
    let warnings = 0;
    const outcome = await applyDesired({
      client: this.#options.caddy,
      live: this.#live,
      renderWithout: (excluded) => {
        const rendered = this.#pipeline.render(evaluated, excluded);
        warnings = rendered.warnings.length;
        return rendered.config;
      },
      ingressIds: this.#ingressIds,
      ingressesOnPort: (port) => evaluated.ingresses.filter((i) => portsOf(i, settings).has(port)).map((i) => i.id),
      tlsIngressIds: this.#tlsIngressIds,
      knownGood: () => this.#knownGoodIds(generationOf),
      preExcluded,
      isListenFree: this.#options.isListenFree ?? isListenFree,
      ...(signal === undefined ? {} : { signal }),
    });
    // Caddy's error text can quote config values: the DNS provider token must not reach a status file.
    const excluded = scrubStates(outcome.excluded, providerSecret(settings.tls.acme?.dnsProvider));
    this.#isolations.record(excluded, generationOf, now);
    return { ...outcome, excluded, preExcluded, warnings };
  }

  /** Step 3. Saved when Caddy changed (or nothing was saved yet): at rest, the file already holds it. */
  async #save(applied: JsonObject, writes: number): Promise<void> {
    if (writes === 0 && this.#savedConfig !== '') return;
    const text = stableStringify(applied);
    if (text === this.#savedConfig) return;
    await this.#options.saveAppliedConfig(applied);
    this.#savedConfig = text;
  }

  /** Step 4. True while some TLS hostname has no certificate yet. */
  async #probeCertificates(ingresses: readonly Ingress[], excluded: ReadonlyMap<string, ProgramState>): Promise<boolean> {
    const probe = this.#options.probeCertificates;
    if (probe === undefined || this.#options.settings.tls.acme === undefined) return false;
    const targets = new Map<string, CertificateTarget>();
    for (const ingress of ingresses) {
      if (excluded.has(ingress.id)) continue;
      for (const rule of ingress.rules) if (rule.tls) targets.set(`${rule.match.hostname}:${rule.match.port}`, { hostname: rule.match.hostname, port: rule.match.port });
    }
    this.#certificates = targets.size === 0 ? new Map() : await probe([...targets.values()]);
    return [...this.#certificates.values()].some((c) => !c.served);
  }

  /** The ingresses of `#knownGood` whose generation is still the one Caddy served then. */
  #knownGoodIds(generationOf: (id: string) => string): Set<string> {
    const ids = new Set<string>();
    const known = this.#knownGood;
    if (known === undefined) return ids;
    for (const ingress of known.evaluated.ingresses) {
      if (known.excluded.has(ingress.id)) continue;
      const then = known.evaluated.byFile.get(known.evaluated.fileById.get(ingress.id) ?? '')?.manifest.generation;
      if (then !== undefined && generationOf(ingress.id) === then) ids.add(ingress.id);
    }
    return ids;
  }

  /** Step 5. When the status inputs changed, Caddy now serves exactly the accepted, not excluded ingresses. */
  #recordStatuses(evaluated: EvaluatedSet, excluded: ReadonlyMap<string, ProgramState>, now: number, health: UpstreamHealth): void {
    if (!this.#options.statuses.record(evaluated, this.#evaluations, excluded, this.#certificates, now, health)) return;
    this.#knownGood = { evaluated, excluded };
  }
}
