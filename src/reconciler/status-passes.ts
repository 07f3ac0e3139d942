/**
 * When status files are rebuilt, and one pass at a time. A Caddy sync records what statuses
 * derive from (the evaluation, what Caddy left out, the certificates); a status pass writes every
 * status that changed since, and may stop early to let other work run (a later pass resumes).
 * When nothing the statuses derive from changed (a resync at rest), there is nothing to rebuild
 * for 10,000 files.
 */
import { stableStringify } from '../model/canonical.js';
import type { Logger } from '../model/logger.js';
import type { RenderSettings } from '../model/settings.js';
import type { EvaluatedSet } from './evaluate.js';
import { NOT_ACCEPTED, programmedState, type StatusPass, type StatusSync } from './status-sync.js';
import type { CertificateStatus, ProgramState } from './status-types.js';
import { NO_HEALTH, type UpstreamHealth } from './upstream-health.js';

interface Basis {
  readonly evaluated: EvaluatedSet;
  /** Ingresses Caddy does not serve, with why. */
  readonly excluded: ReadonlyMap<string, ProgramState>;
  readonly certificates: ReadonlyMap<string, CertificateStatus>;
  /** Caddy's verdict per dialled upstream (rules with health checks). */
  readonly health: UpstreamHealth;
  /** Identifies the inputs: when it equals the last completed pass's, every status file is current. */
  readonly epoch: string;
  readonly now: number;
}

type OnRecord = (evaluated: EvaluatedSet, excluded: ReadonlyMap<string, ProgramState>, now: number) => void;

export class StatusPasses {
  readonly #sync: StatusSync;
  readonly #settings: RenderSettings;
  readonly #logger: Logger;
  readonly #program = new Map<string, ProgramState>();
  /** What the next pass builds from; set by `record` when the inputs changed. */
  #basis: Basis | undefined;
  #completedEpoch = '';
  #chain: Promise<unknown> = Promise.resolve();
  /** Bumped by `markCaddyUnavailable`: a pass that overlapped it must not claim to be current. */
  #invalidations = 0;
  #lastEvaluated: EvaluatedSet | undefined;
  /** The basis of the last complete pass, for `rewrite`. */
  #lastBasis: Basis | undefined;
  #lastCertificates: ReadonlyMap<string, CertificateStatus> = new Map();

  readonly #onRecord: OnRecord | undefined;

  /** `onRecord` hears every successful sync's outcome: what Caddy serves now (the last valid versions follow it). */
  constructor(sync: StatusSync, settings: RenderSettings, logger: Logger, onRecord?: OnRecord) {
    this.#onRecord = onRecord;
    this.#sync = sync;
    this.#settings = settings;
    this.#logger = logger;
  }

  /** True when a pass has statuses to write. */
  get isPending(): boolean {
    return this.#basis !== undefined;
  }

  /**
   * Records the inputs of a Caddy sync; true when they differ from what the status files (or the
   * pending pass) hold. `evaluations` counts evaluations so far: a new evaluation is new input, and
   * so is a change in `health`.
   */
  record(
    evaluated: EvaluatedSet,
    evaluations: number,
    excluded: ReadonlyMap<string, ProgramState>,
    certificates: ReadonlyMap<string, CertificateStatus>,
    now: number,
    health: UpstreamHealth = NO_HEALTH,
  ): boolean {
    this.#lastEvaluated = evaluated;
    this.#lastCertificates = certificates;
    this.#onRecord?.(evaluated, excluded, now);
    const left = [...excluded].map(([id, st]) => `${id}:${st.reason}:${st.message}`).sort().join(',');
    const healthKey = [...health].map(([dial, up]) => `${dial}=${up ? 1 : 0}`).sort().join(',');
    const epoch = `${evaluations}|${left}|${stableStringify([...certificates])}|${healthKey}`;
    if (epoch === this.#completedEpoch || epoch === this.#basis?.epoch) return false;
    this.#basis = { evaluated, excluded, certificates, health, epoch, now };
    return true;
  }

  /** Arms a pass over the last complete basis (status files lost on disk); true when a pass is pending. */
  rewrite(): boolean {
    this.#basis ??= this.#lastBasis;
    return this.#basis !== undefined;
  }

  /** Writes what changed since the last pass; stops early (`complete: false`) when `pause` says so. */
  write(pause?: () => boolean): Promise<StatusPass> {
    return this.#serialize(async () => {
      const basis = this.#basis;
      if (basis === undefined) return { written: 0, complete: true };
      this.#basis = undefined;
      const started = performance.now();
      const invalidations = this.#invalidations;
      this.#program.clear();
      for (const [file, evaluation] of basis.evaluated.byFile) {
        const id = evaluation.manifest.resource?.id ?? '';
        this.#program.set(file, !evaluation.accepted ? NOT_ACCEPTED : (basis.excluded.get(id) ?? programmedState(evaluation.manifest, this.#settings)));
      }
      let pass: StatusPass;
      try {
        pass = await this.#sync.write(basis.evaluated, this.#program, basis.certificates, basis.now, pause, basis.health);
      } catch (err) {
        this.#basis ??= basis; // tried again on the retry, unless a newer sync replaced it
        throw err;
      }
      if (!pass.complete) this.#basis ??= basis;
      else if (invalidations === this.#invalidations) {
        this.#completedEpoch = basis.epoch;
        this.#lastBasis = basis;
      }
      const statusMs = Math.round((performance.now() - started) * 10) / 10;
      this.#logger.info(pass.complete ? 'status files updated' : 'status files paused for other work', { statusWrites: pass.written, files: basis.evaluated.byFile.size, statusMs });
      return pass;
    });
  }

  /** Marks every accepted ingress `Programmed=Unknown` (Caddy unreachable) and writes the statuses. */
  markCaddyUnavailable(message: string, now: number): Promise<StatusPass> {
    return this.#serialize(async () => {
      const evaluated = this.#lastEvaluated;
      if (evaluated === undefined) return { written: 0, complete: true };
      const state: ProgramState = { status: 'Unknown', reason: 'CaddyUnavailable', message: `Caddy's admin API is unreachable: ${message}` };
      for (const [file, evaluation] of evaluated.byFile) {
        if (evaluation.accepted && evaluation.manifest.resource?.kind === 'Ingress') this.#program.set(file, state);
      }
      this.#completedEpoch = ''; // the next successful sync rebuilds every status
      this.#invalidations++;
      return this.#sync.write(evaluated, this.#program, this.#lastCertificates, now);
    });
  }

  /** Passes one after another: two interleaved passes could leave an older status on disk. */
  #serialize(pass: () => Promise<StatusPass>): Promise<StatusPass> {
    const run = this.#chain.then(pass);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}
