/**
 * The reconciler: level-triggered, it reads manifests from disk and Caddy's live config, never the
 * events that woke it. Two operations, one per kind of queue key:
 *
 * - `syncFile(file)`: re-read one manifest (parse + schema). Cheap; resolves true when the Caddy
 *   side must be reconciled again.
 * - `syncCaddy()`: evaluate the manifests (cross-file rules; only what changed is judged again),
 *   render the valid set, apply it to Caddy in at most one write (more only while isolating a
 *   rejected ingress) and publish instances to the DNS registry. Rejects when Caddy is unreachable,
 *   after marking statuses `Programmed=Unknown` (the caller retries with backoff).
 * - `syncStatuses()`: write every status file the last `syncCaddy` changed (`statusPending`).
 *
 * Callers guarantee `syncCaddy` never overlaps itself (the work queue's per-key rule); status
 * passes serialise themselves and may run while a `syncCaddy` is in flight.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stableStringify } from '../model/canonical.js';
import { isIngressdError } from '../model/errors.js';
import type { JsonObject } from '../model/json.js';
import type { Logger } from '../model/logger.js';
import type { Manifest } from '../model/manifest.js';
import type { Ingress, Instance } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import { IncrementalRenderer } from '../render/incremental.js';
import { parseManifest } from '../manifest/parse.js';
import { applyDesired } from './apply.js';
import type { CaddyClient } from './caddy-client.js';
import type { EvaluatedSet } from './evaluate.js';
import { IncrementalEvaluator } from './evaluate-incremental.js';
import { portsOf } from './ingress-ports.js';
import { Isolations } from './isolations.js';
import { LiveConfigCache } from './live-config.js';
import { isListenFree } from './port-probe.js';
import { NOT_ACCEPTED, programmedState, StatusSync, type StatusPass } from './status-sync.js';
import type { CertificateStatus, ProgramState, ResourceStatus } from './status-types.js';
import type { StatusWriter } from './status-writer.js';

export interface CertificateTarget {
  readonly hostname: string;
  readonly port: number;
}

export interface ReconcilerOptions {
  readonly manifestDir: string;
  readonly settings: RenderSettings;
  readonly caddy: CaddyClient;
  readonly statuses: StatusWriter;
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
}

export interface CaddySyncResult {
  readonly writes: number;
  /** `GET /config/` requests made: 0 when the config ingressd last wrote was trusted. */
  readonly reads: number;
  /** Owned sections that differed from Caddy's config (`servers/<name>`, `tls_policies`, ...). */
  readonly changed: readonly string[];
  readonly durationMs: number;
  readonly excluded: number;
  /** Status files may be out of date: call `syncStatuses` (the Caddy sync does not wait for 10,000 files). */
  readonly statusPending: boolean;
  /** True while some TLS hostname has no certificate yet (the caller looks again soon). */
  readonly certificatesPending: boolean;
  /** Milliseconds per stage: evaluate, render, read (GET /config/, or the ETag of ingressd's own write), diff, write. */
  readonly timings: Readonly<Record<'evaluateMs' | 'renderMs' | 'readMs' | 'diffMs' | 'writeMs', number>>;
}

interface StatusBasis {
  readonly evaluated: EvaluatedSet;
  /** Ingresses Caddy does not serve, with why. */
  readonly excluded: ReadonlyMap<string, ProgramState>;
  /** See `syncCaddy`: when it equals `#statusEpoch`, every status file is current. */
  readonly epoch: string;
  readonly now: number;
}

export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #manifests = new Map<string, Manifest>();
  readonly #statuses: StatusSync;
  readonly #isolations: Isolations;
  readonly #acceptedSince = new Map<string, number>();
  /** Ingress id → generation of the ingresses Caddy serves as they are now. */
  readonly #knownGood = new Map<string, string>();
  readonly #program = new Map<string, ProgramState>();
  /** Set when a manifest changed since the last evaluation; resyncs at rest skip evaluate and render. */
  #dirty = true;
  /** Manifests added, replaced or removed since the last evaluation (what the evaluator re-judges). */
  #changedFiles = new Set<string>();
  readonly #evaluator = new IncrementalEvaluator();
  #evaluated: EvaluatedSet | undefined;
  /** Re-renders only what changed since its last call, and keeps the rest of the config as the same objects. */
  readonly #renderer: IncrementalRenderer;
  readonly #live: LiveConfigCache;
  #savedConfig = '';
  /** The instances last published to the DNS registry (undefined: none yet). */
  #publishedInstances: string | undefined;
  /** Evaluations made so far, and what the statuses were last built from (see `syncCaddy`). */
  #evaluations = 0;
  #ingressIds: readonly string[] = [];
  #tlsIngressIds: readonly string[] = [];
  #statusEpoch = '';
  /** What the next status pass builds from, set by a Caddy sync that changed it. */
  #statusBasis: StatusBasis | undefined;
  #statusChain: Promise<unknown> = Promise.resolve();
  /** Bumped by `markCaddyUnavailable`: a status pass that overlapped it must not claim to be current. */
  #invalidations = 0;
  #certificates: ReadonlyMap<string, CertificateStatus> = new Map();

  constructor(options: ReconcilerOptions) {
    this.#options = options;
    this.#statuses = new StatusSync(options.statuses, options.settings, (file) => this.#manifests.has(file));
    this.#isolations = new Isolations(options.isolationRetryMs);
    this.#renderer = new IncrementalRenderer(options.settings);
    this.#live = new LiveConfigCache(options.caddy, options.logger);
  }

  /**
   * The next `syncCaddy` reads Caddy's config instead of trusting what ingressd last wrote: for
   * resyncs (drift made behind ingressd's back) and after Caddy restarted.
   */
  verifyLiveConfig(): void {
    this.#live.verifyNext();
  }

  /** Manifest files currently known, sorted. */
  files(): string[] {
    return [...this.#manifests.keys()].sort();
  }

  manifest(file: string): Manifest | undefined {
    return this.#manifests.get(file);
  }

  /** The status last built for a manifest (what its status file holds). */
  status(file: string): ResourceStatus | undefined {
    return this.#statuses.get(file);
  }

  /** The last evaluation of the whole set (undefined before the first `syncCaddy`). */
  evaluated(): EvaluatedSet | undefined {
    return this.#evaluated;
  }

  /** Re-reads one manifest. Resolves true when the set changed and Caddy must be reconciled. */
  async syncFile(file: string): Promise<boolean> {
    let text: string;
    try {
      // Synchronous: a manifest is a small local file, and 10,000 of them read through the thread
      // pool take seconds at start-up where reading them in place takes a fraction of one.
      text = readFileSync(join(this.#options.manifestDir, file), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EISDIR') throw err;
      return this.#forget(file);
    }
    const manifest = parseManifest(file, text);
    const before = this.#manifests.get(file);
    const since = await this.#statuses.adopt(file);
    if (since !== undefined) this.#acceptedSince.set(file, since);
    this.#manifests.set(file, manifest);
    const changed = before === undefined || before.generation !== manifest.generation || stableStringify(before.issues) !== stableStringify(manifest.issues);
    if (changed) this.#markChanged(file);
    return changed;
  }

  async #forget(file: string): Promise<boolean> {
    const known = this.#manifests.delete(file);
    this.#acceptedSince.delete(file);
    this.#program.delete(file);
    await this.#statuses.forget(file);
    if (known) this.#markChanged(file);
    return known;
  }

  #markChanged(file: string): void {
    this.#dirty = true;
    this.#changedFiles.add(file);
  }

  /** Evaluates the manifests again when they changed; otherwise returns the last evaluation. */
  async #evaluate(now: number): Promise<EvaluatedSet> {
    if (!this.#dirty && this.#evaluated !== undefined) return this.#evaluated;
    // Cleared before evaluating: a manifest that changes meanwhile marks the set dirty again.
    this.#dirty = false;
    const changed = this.#changedFiles;
    this.#changedFiles = new Set();
    let evaluated: EvaluatedSet;
    try {
      evaluated = this.#evaluator.evaluate(this.#manifests, changed, this.#acceptedSince, this.#options.settings.tls);
    } catch (err) {
      this.#evaluator.reset();
      throw err;
    }
    for (const [file, evaluation] of evaluated.byFile) {
      if (!evaluation.accepted) this.#acceptedSince.delete(file);
      else if (!this.#acceptedSince.has(file)) this.#acceptedSince.set(file, now);
    }
    this.#evaluated = evaluated;
    this.#evaluations++;
    this.#ingressIds = evaluated.ingresses.map((i) => i.id);
    this.#tlsIngressIds = evaluated.ingresses.filter((i) => i.rules.some((r) => r.tls)).map((i) => i.id);
    // Published when they changed: most evaluations follow an ingress change.
    const published = evaluated.instances.map((i) => `${i.id}\u0000${i.name}\u0000${i.address}`).join('\u0001');
    if (published !== this.#publishedInstances) {
      try {
        await this.#options.publishInstances(evaluated.instances);
      } catch (err) {
        this.#dirty = true; // publish again on the retry
        throw err;
      }
      this.#publishedInstances = published;
    }
    return evaluated;
  }

  #render(evaluated: EvaluatedSet, excluded: ReadonlySet<string>): JsonObject {
    const ingresses = excluded.size === 0 ? evaluated.ingresses : evaluated.ingresses.filter((i) => !excluded.has(i.id));
    return this.#renderer.render({ ingresses, instances: evaluated.instances });
  }

  /** Brings Caddy, the DNS registry and every status file in line with the manifests. */
  async syncCaddy(signal?: AbortSignal): Promise<CaddySyncResult> {
    const started = performance.now();
    const { settings, logger } = this.#options;
    const now = this.#options.now();
    const evaluated = await this.#evaluate(now);
    const evaluateMs = performance.now() - started;

    const generationOf = (id: string): string => this.#manifests.get(evaluated.fileById.get(id) ?? '')?.generation ?? '';
    const preExcluded = this.#isolations.current((id) => evaluated.fileById.has(id), generationOf, now);
    let outcome;
    try {
      outcome = await applyDesired({
        client: this.#options.caddy,
        live: this.#live,
        renderWithout: (excluded) => this.#render(evaluated, excluded),
        ingressIds: this.#ingressIds,
        ingressesOnPort: (port) => evaluated.ingresses.filter((i) => portsOf(i, settings).has(port)).map((i) => i.id),
        tlsIngressIds: this.#tlsIngressIds,
        knownGood: () => new Set([...this.#knownGood].filter(([id, gen]) => generationOf(id) === gen).map(([id]) => id)),
        preExcluded,
        isListenFree,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (err) {
      if (isIngressdError(err, 'caddy_unavailable')) await this.markCaddyUnavailable(err.message);
      throw err;
    }
    // Caddy's error text can quote config values: the DNS provider token must not reach a status file.
    outcome = { ...outcome, excluded: scrubStates(outcome.excluded, settings.tls.acme?.dnsProvider?.apiToken) };
    this.#isolations.record(outcome.excluded, generationOf, now);
    // Saved when Caddy changed (or nothing was saved yet): at rest, the file already holds it.
    if (outcome.writes > 0 || this.#savedConfig === '') {
      const savedText = stableStringify(outcome.applied);
      if (savedText !== this.#savedConfig) {
        await this.#options.saveAppliedConfig(outcome.applied);
        this.#savedConfig = savedText;
      }
    }
    const certificatesPending = await this.#probeCertificates(evaluated.ingresses, outcome.excluded);
    // Statuses depend on the evaluation, what was left out and the certificates: when none of these
    // changed (a resync at rest), there is nothing to rebuild for 10,000 files.
    const epoch = `${this.#evaluations}|${[...outcome.excluded].map(([id, st]) => `${id}:${st.reason}:${st.message}`).sort().join(',')}|${stableStringify([...this.#certificates])}`;
    if (epoch !== this.#statusEpoch && epoch !== this.#statusBasis?.epoch) {
      this.#knownGood.clear();
      for (const ingress of evaluated.ingresses) {
        if (!outcome.excluded.has(ingress.id)) this.#knownGood.set(ingress.id, generationOf(ingress.id));
      }
      this.#statusBasis = { evaluated, excluded: outcome.excluded, epoch, now };
    }
    const durationMs = performance.now() - started;
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    const result: CaddySyncResult = {
      writes: outcome.writes,
      reads: outcome.reads,
      changed: outcome.changed,
      durationMs,
      excluded: outcome.excluded.size,
      statusPending: this.#statusBasis !== undefined,
      certificatesPending,
      timings: {
        evaluateMs: round(evaluateMs),
        renderMs: round(outcome.timings.renderMs),
        readMs: round(outcome.timings.readMs),
        diffMs: round(outcome.timings.diffMs),
        writeMs: round(outcome.timings.writeMs),
      },
    };
    logger.info(outcome.writes > 0 ? 'reconciled: Caddy updated' : 'reconciled: Caddy already up to date', {
      ...result,
      durationMs: round(durationMs),
      ingresses: evaluated.ingresses.length,
      instances: evaluated.instances.length,
      rejected: [...evaluated.byFile.values()].filter((e) => !e.accepted).length,
    });
    // One line per cause, not per ingress: a busy port can take thousands of ingresses out.
    const causes = new Map<string, string[]>();
    for (const [id, state] of outcome.excluded) {
      if (preExcluded.has(id)) continue;
      const key = `${state.reason}\u0000${state.message}`;
      causes.set(key, [...(causes.get(key) ?? []), evaluated.fileById.get(id) ?? id]);
    }
    for (const [key, files] of causes) {
      const [reason, detail] = key.split('\u0000');
      logger.warn('Caddy cannot serve these ingresses; they are left out, everything else is applied', {
        reason,
        detail,
        count: files.length,
        files: files.sort().slice(0, 10),
      });
    }
    return result;
  }

  /**
   * Writes every status file that the last Caddy sync changed. Separate from `syncCaddy` so that
   * thousands of status files never delay the next change reaching Caddy: the pass stops early when
   * `pause` says other work is waiting (`complete: false`; call again later to finish). Passes run
   * one at a time, each from the latest Caddy sync.
   */
  syncStatuses(pause?: () => boolean): Promise<StatusPass> {
    return this.#serializeStatuses(async () => {
      const basis = this.#statusBasis;
      if (basis === undefined) return { written: 0, complete: true };
      this.#statusBasis = undefined;
      const started = performance.now();
      const invalidations = this.#invalidations;
      const settings = this.#options.settings;
      this.#program.clear();
      for (const [file, evaluation] of basis.evaluated.byFile) {
        const id = evaluation.manifest.resource?.id ?? '';
        this.#program.set(file, !evaluation.accepted ? NOT_ACCEPTED : (basis.excluded.get(id) ?? programmedState(evaluation.manifest, settings)));
      }
      let pass: StatusPass;
      try {
        pass = await this.#statuses.write(basis.evaluated, this.#program, this.#certificates, basis.now, pause);
      } catch (err) {
        this.#statusBasis ??= basis; // tried again on the retry, unless a newer sync replaced it
        throw err;
      }
      if (!pass.complete) this.#statusBasis ??= basis;
      // A pass that overlapped `markCaddyUnavailable` must not claim to be current.
      else if (invalidations === this.#invalidations) this.#statusEpoch = basis.epoch;
      const statusMs = Math.round((performance.now() - started) * 10) / 10;
      this.#options.logger.info(pass.complete ? 'status files updated' : 'status files paused for other work', { statusWrites: pass.written, files: basis.evaluated.byFile.size, statusMs });
      return pass;
    });
  }

  /** Marks every accepted ingress `Programmed=Unknown` (Caddy unreachable) and writes statuses. */
  async markCaddyUnavailable(message: string): Promise<void> {
    await this.#serializeStatuses(async () => {
      const evaluated = this.#evaluated;
      if (evaluated === undefined) return { written: 0, complete: true };
      const state: ProgramState = { status: 'Unknown', reason: 'CaddyUnavailable', message: `Caddy's admin API is unreachable: ${message}` };
      for (const [file, evaluation] of evaluated.byFile) {
        if (evaluation.accepted && evaluation.manifest.resource?.kind === 'Ingress') this.#program.set(file, state);
      }
      this.#statusEpoch = ''; // the next successful reconcile rebuilds every status
      this.#invalidations++;
      return this.#statuses.write(evaluated, this.#program, this.#certificates, this.#options.now());
    });
  }

  /** Status passes one after another: two interleaved passes could leave an older status on disk. */
  #serializeStatuses(pass: () => Promise<StatusPass>): Promise<StatusPass> {
    const run = this.#statusChain.then(pass);
    this.#statusChain = run.catch(() => undefined);
    return run;
  }

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
}

function scrubStates(states: ReadonlyMap<string, ProgramState>, secret: string | undefined): ReadonlyMap<string, ProgramState> {
  if (secret === undefined || secret.length === 0) return states;
  return new Map([...states].map(([id, state]) => [id, { ...state, message: state.message.split(secret).join('<redacted>') }]));
}
