/**
 * The reconciler: level-triggered, it reads manifests from disk and Caddy's live config, never the
 * events that woke it. Two operations, one per kind of queue key:
 *
 * - `syncFile(file)`: re-read one manifest (parse + schema). Cheap; resolves true when the Caddy
 *   side must be reconciled again.
 * - `syncCaddy()`: evaluate every manifest (cross-file rules), render the valid set, apply it to
 *   Caddy in at most one write (more only while isolating a rejected ingress), publish instances to
 *   the DNS registry and write every status file that changed. Rejects when Caddy is unreachable,
 *   after marking statuses `Programmed=Unknown` (the caller retries with backoff).
 *
 * Callers guarantee `syncCaddy` never overlaps itself (the work queue's per-key rule).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stableStringify } from '../model/canonical.js';
import { isIngressdError } from '../model/errors.js';
import { hashOf } from '../model/ids.js';
import type { JsonObject } from '../model/json.js';
import type { Logger } from '../model/logger.js';
import type { Manifest } from '../model/manifest.js';
import type { Ingress, Instance } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import { render } from '../render/index.js';
import { parseManifest } from '../sources/parse.js';
import { applyDesired } from './apply.js';
import type { CaddyClient } from './caddy-client.js';
import { evaluate, type EvaluatedSet } from './evaluate.js';
import { indexInstances, routesOf } from './routes-status.js';
import { acceptedSinceOf, buildStatus } from './status.js';
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
  readonly changes: number;
  readonly durationMs: number;
  readonly excluded: number;
  readonly statusWrites: number;
  /** True while some TLS hostname has no certificate yet (the caller looks again soon). */
  readonly certificatesPending: boolean;
  /** Milliseconds per stage: evaluate, render, read (GET /config/), diff, write, status. */
  readonly timings: Readonly<Record<'evaluateMs' | 'renderMs' | 'readMs' | 'diffMs' | 'writeMs' | 'statusMs', number>>;
}

interface Isolation {
  readonly generation: string;
  readonly state: ProgramState;
  readonly retryAtMs: number;
  readonly backoffMs: number;
}

const PROGRAMMED: ProgramState = { status: 'True', reason: 'Programmed', message: 'Caddy serves every rule of this ingress.' };
const NOT_ACCEPTED: ProgramState = { status: 'False', reason: 'NotAccepted', message: 'Not applied: the manifest is not accepted (see the Accepted condition).' };
const PENDING: ProgramState = { status: 'Unknown', reason: 'Pending', message: 'Waiting for the first reconcile with Caddy.' };
const MAX_ISOLATION_BACKOFF_MS = 600_000;

export class Reconciler {
  readonly #options: ReconcilerOptions;
  readonly #manifests = new Map<string, Manifest>();
  readonly #statuses = new Map<string, ResourceStatus>();
  readonly #statusKeys = new Map<string, string>();
  readonly #acceptedSince = new Map<string, number>();
  readonly #knownGood = new Map<string, string>();
  readonly #isolated = new Map<string, Isolation>();
  readonly #program = new Map<string, ProgramState>();
  #evaluated: EvaluatedSet | undefined;
  #savedConfig = '';
  #lastCertificates: ReadonlyMap<string, CertificateStatus> = new Map();

  constructor(options: ReconcilerOptions) {
    this.#options = options;
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
      text = await readFile(join(this.#options.manifestDir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
      return this.#forget(file);
    }
    const manifest = parseManifest(file, text);
    const before = this.#manifests.get(file);
    if (!this.#statuses.has(file)) {
      const onDisk = await this.#options.statuses.read(file);
      if (onDisk !== undefined && onDisk.file === file) {
        this.#statuses.set(file, onDisk);
        const since = acceptedSinceOf(onDisk);
        if (since !== undefined) this.#acceptedSince.set(file, since);
      }
    }
    this.#manifests.set(file, manifest);
    return before === undefined || before.generation !== manifest.generation || stableStringify(before.issues) !== stableStringify(manifest.issues);
  }

  async #forget(file: string): Promise<boolean> {
    const known = this.#manifests.delete(file);
    this.#statuses.delete(file);
    this.#statusKeys.delete(file);
    this.#acceptedSince.delete(file);
    this.#program.delete(file);
    await this.#options.statuses.remove(file);
    return known;
  }

  /** Brings Caddy, the DNS registry and every status file in line with the manifests. */
  async syncCaddy(signal?: AbortSignal): Promise<CaddySyncResult> {
    const started = performance.now();
    const { settings, logger } = this.#options;
    const now = this.#options.now();
    const evaluated = evaluate([...this.#manifests.values()], this.#acceptedSince, settings.tls);
    const evaluateMs = performance.now() - started;
    this.#evaluated = evaluated;
    for (const [file, evaluation] of evaluated.byFile) {
      if (!evaluation.accepted) this.#acceptedSince.delete(file);
      else if (!this.#acceptedSince.has(file)) this.#acceptedSince.set(file, now);
    }
    await this.#options.publishInstances(evaluated.instances);

    const generationOf = (id: string): string => this.#manifests.get(evaluated.fileById.get(id) ?? '')?.generation ?? '';
    const preExcluded = this.#currentIsolations(evaluated.ingresses, generationOf, now);
    let outcome;
    try {
      outcome = await applyDesired({
        client: this.#options.caddy,
        renderWithout: (excluded) =>
          render({ ingresses: evaluated.ingresses.filter((i) => !excluded.has(i.id)), instances: evaluated.instances }, settings).config,
        ingressIds: evaluated.ingresses.map((i) => i.id),
        ingressesOnPort: (port) => evaluated.ingresses.filter((i) => portsOf(i, settings.tls.httpPort).has(port)).map((i) => i.id),
        tlsIngressIds: evaluated.ingresses.filter((i) => i.rules.some((r) => r.tls)).map((i) => i.id),
        knownGood: new Set([...this.#knownGood].filter(([id, gen]) => generationOf(id) === gen).map(([id]) => id)),
        preExcluded,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (err) {
      if (isIngressdError(err, 'caddy_unavailable')) await this.markCaddyUnavailable(err.message);
      throw err;
    }
    this.#recordIsolations(outcome.excluded, generationOf, now);
    this.#knownGood.clear();
    for (const ingress of evaluated.ingresses) {
      if (!outcome.excluded.has(ingress.id)) this.#knownGood.set(ingress.id, generationOf(ingress.id));
    }
    this.#program.clear();
    for (const [file, evaluation] of evaluated.byFile) {
      const id = evaluation.manifest.resource?.id ?? '';
      this.#program.set(file, !evaluation.accepted ? NOT_ACCEPTED : (outcome.excluded.get(id) ?? programmedState(evaluation.manifest, settings)));
    }
    const savedText = stableStringify(outcome.applied);
    if (savedText !== this.#savedConfig) {
      await this.#options.saveAppliedConfig(outcome.applied);
      this.#savedConfig = savedText;
    }
    const certificatesPending = await this.#probeCertificates(evaluated.ingresses, outcome.excluded);
    const statusStarted = performance.now();
    const statusWrites = await this.#writeStatuses(now);
    const durationMs = performance.now() - started;
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    const timings = {
      evaluateMs: round(evaluateMs),
      renderMs: round(outcome.timings.renderMs),
      readMs: round(outcome.timings.readMs),
      diffMs: round(outcome.timings.diffMs),
      writeMs: round(outcome.timings.writeMs),
      statusMs: round(performance.now() - statusStarted),
    };
    const result: CaddySyncResult = {
      writes: outcome.writes,
      changes: outcome.patch.length,
      durationMs,
      excluded: outcome.excluded.size,
      statusWrites,
      certificatesPending,
      timings,
    };
    logger.info(outcome.writes > 0 ? 'reconciled: Caddy updated' : 'reconciled: Caddy already up to date', {
      ...result,
      durationMs: round(durationMs),
      ingresses: evaluated.ingresses.length,
      instances: evaluated.instances.length,
      rejected: [...evaluated.byFile.values()].filter((e) => !e.accepted).length,
    });
    for (const [id, state] of outcome.excluded) {
      if (!preExcluded.has(id)) logger.warn('Caddy rejected an ingress; it is left out', { file: evaluated.fileById.get(id), reason: state.reason, message: state.message });
    }
    return result;
  }

  /** Marks every accepted resource `Programmed=Unknown` (Caddy unreachable) and writes statuses. */
  async markCaddyUnavailable(message: string): Promise<void> {
    const state: ProgramState = { status: 'Unknown', reason: 'CaddyUnavailable', message: `Caddy's admin API is unreachable: ${message}` };
    for (const [file, evaluation] of this.#evaluated?.byFile ?? []) {
      if (evaluation.accepted && evaluation.manifest.resource?.kind === 'Ingress') this.#program.set(file, state);
    }
    await this.#writeStatuses(this.#options.now());
  }

  #currentIsolations(ingresses: readonly Ingress[], generationOf: (id: string) => string, now: number): Map<string, ProgramState> {
    const live = new Set(ingresses.map((i) => i.id));
    const out = new Map<string, ProgramState>();
    for (const [id, isolation] of this.#isolated) {
      if (!live.has(id) || generationOf(id) !== isolation.generation) this.#isolated.delete(id);
      else if (now < isolation.retryAtMs) out.set(id, isolation.state);
    }
    return out;
  }

  #recordIsolations(excluded: ReadonlyMap<string, ProgramState>, generationOf: (id: string) => string, now: number): void {
    const first = this.#options.isolationRetryMs ?? 30_000;
    for (const [id, state] of excluded) {
      const before = this.#isolated.get(id);
      if (before !== undefined && now < before.retryAtMs) continue;
      const backoffMs = before === undefined ? first : Math.min(before.backoffMs * 2, MAX_ISOLATION_BACKOFF_MS);
      this.#isolated.set(id, { generation: generationOf(id), state, retryAtMs: now + backoffMs, backoffMs });
    }
    for (const id of this.#isolated.keys()) if (!excluded.has(id)) this.#isolated.delete(id);
  }

  async #probeCertificates(ingresses: readonly Ingress[], excluded: ReadonlyMap<string, ProgramState>): Promise<boolean> {
    const probe = this.#options.probeCertificates;
    if (probe === undefined || this.#options.settings.tls.acme === undefined) return false;
    const targets = new Map<string, CertificateTarget>();
    for (const ingress of ingresses) {
      if (excluded.has(ingress.id)) continue;
      for (const rule of ingress.rules) if (rule.tls) targets.set(`${rule.match.hostname}:${rule.match.port}`, { hostname: rule.match.hostname, port: rule.match.port });
    }
    if (targets.size === 0) {
      this.#lastCertificates = new Map();
      return false;
    }
    this.#lastCertificates = await probe([...targets.values()]);
    return [...this.#lastCertificates.values()].some((c) => !c.served);
  }

  async #writeStatuses(now: number): Promise<number> {
    const evaluated = this.#evaluated;
    if (evaluated === undefined) return 0;
    const { settings } = this.#options;
    const instances = indexInstances(evaluated.instances);
    const instancesKey = hashOf(stableStringify(evaluated.instances));
    const nowText = new Date(now).toISOString();
    let written = 0;
    for (const [file, evaluation] of evaluated.byFile) {
      const resource = evaluation.manifest.resource;
      const program = this.#program.get(file) ?? (evaluation.accepted ? PENDING : NOT_ACCEPTED);
      const ingress = resource?.kind === 'Ingress' && evaluation.accepted ? resource : undefined;
      const certificates = ingress === undefined ? undefined : certificatesOf(ingress, this.#lastCertificates, settings);
      // Rebuilding 10,000 statuses on every resync is wasted work: skip when nothing they depend on changed.
      const key = `${evaluation.manifest.generation}|${evaluation.accepted}|${stableStringify(evaluation.issues)}|${stableStringify(program)}|${ingress === undefined ? '' : instancesKey}|${stableStringify(certificates ?? null)}`;
      if (this.#statusKeys.get(file) === key) continue;
      const status = buildStatus({
        evaluation,
        program,
        routes: ingress === undefined ? undefined : routesOf(ingress, instances, settings),
        certificates,
        previous: this.#statuses.get(file),
        now: nowText,
      });
      this.#statuses.set(file, status);
      this.#statusKeys.set(file, key);
      if (await this.#options.statuses.write(file, status)) written++;
    }
    return written;
  }
}

function programmedState(manifest: Manifest, settings: RenderSettings): ProgramState {
  const resource = manifest.resource;
  if (resource?.kind !== 'Instance') return PROGRAMMED;
  return settings.upstreamMode === 'static'
    ? { status: 'True', reason: 'Programmed', message: `Caddy dials ${resource.address} for this instance; the instance DNS answers ${resource.name}.${settings.dnsZone}.` }
    : { status: 'True', reason: 'Programmed', message: `The instance DNS answers ${resource.name}.${settings.dnsZone} and ${resource.id}.${settings.dnsZone} with ${resource.address}.` };
}

/** Every port an ingress listens on: its rules' ports plus the HTTP port its redirects occupy. */
export function portsOf(ingress: Ingress, httpPort: number): Set<number> {
  const ports = new Set<number>();
  for (const rule of ingress.rules) {
    ports.add(rule.match.port);
    if (rule.tls && rule.redirect_http) ports.add(httpPort);
  }
  return ports;
}

function certificatesOf(ingress: Ingress, probed: ReadonlyMap<string, CertificateStatus>, settings: RenderSettings): CertificateStatus[] | undefined {
  const tlsRules = ingress.rules.filter((r) => r.tls);
  if (tlsRules.length === 0 || settings.tls.acme === undefined) return undefined;
  return tlsRules.map(
    (rule) =>
      probed.get(`${rule.match.hostname}:${rule.match.port}`) ?? { hostname: rule.match.hostname, served: false, message: 'not checked yet' },
  );
}
