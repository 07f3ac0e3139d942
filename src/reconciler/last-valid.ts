/**
 * The last valid version keeps serving (FALLBACK=last-valid, the default). When a served
 * resource's file becomes invalid (unparsable JSON, schema or file-local rule errors: a typo, a
 * half-written file), its last accepted-and-served version stands in for it, so a bad commit or
 * template is never an outage. The file's status says so: `Accepted=False` with the current
 * errors, `Programmed=True` with reason `LastValidVersion`, `Ready=False`.
 *
 * - The stand-in is chosen per manifest, before evaluation (`withLastValid`), by `run` (the
 *   reconciler) and by `validate`, `render`, `diff` and `get` (`desiredState`'s `lastValid`), so
 *   every command sees the same set.
 * - A version is recorded only once a Caddy sync accepted and served it (`LastValid.record`);
 *   the record is forgotten when the file is deleted (deleting is an explicit intent to stop
 *   serving) and when the file's current version is valid but not accepted (it lost a conflict):
 *   conflicts are settled as without this rule, and a resource that loses one keeps nothing.
 * - A file that never had a valid version serves nothing, as without this rule.
 * Records of every served version are kept in memory (they share the store's manifest objects).
 * Only the records standing in for an invalid file are persisted (see last-valid-file.ts), so a
 * restarted ingressd serves the same routes while the file stays broken; persisting every served
 * version doubled the start-up reads and the memory at 100,000 manifests. A file that breaks while
 * ingressd is stopped therefore serves nothing after the start (its previous version was not kept).
 */
import type { Manifest } from '../model/manifest.js';
import type { TlsSettings } from '../model/settings.js';
import { isBlockingIssue, localIssuesOf, type EvaluatedSet, type Evaluation } from './evaluate.js';
import type { ProgramState } from './status-types.js';

export const FALLBACK_MODES = ['last-valid', 'none'] as const;
export type FallbackMode = (typeof FALLBACK_MODES)[number];

/** A version that was accepted and served. */
export interface LastValidEntry {
  /** The manifest as it was read then (never itself a stand-in). */
  readonly manifest: Manifest;
  /** When this version was first served. */
  readonly acceptedAt: number;
  /** Since when the file has been accepted (its conflict precedence, carried over a restart). */
  readonly since: number;
}

/** Where records are kept between runs (DATA_DIR/last-valid/); absent: in memory only. */
export interface LastValidPersistence {
  load(): ReadonlyMap<string, LastValidEntry>;
  save(entry: LastValidEntry): void;
  remove(file: string): void;
}

/**
 * Pure. `manifest` as read, or, when it is not valid on its own (no resource, or a blocking
 * file-local issue) and `entry` holds a served version of the same file, that version standing in
 * for it (`fallback` set, `generation` the current file's so the change is seen and reported).
 */
export function withLastValid(manifest: Manifest, entry: LastValidEntry | undefined, tls: TlsSettings): Manifest {
  if (entry === undefined || entry.manifest.file !== manifest.file) return manifest;
  const issues = localIssuesOf(manifest, tls);
  if (manifest.resource !== undefined && !issues.some(isBlockingIssue)) return manifest;
  return { ...entry.manifest, generation: manifest.generation, fallback: { issues, servedGeneration: entry.manifest.generation, acceptedAt: entry.acceptedAt, since: entry.since } };
}

/** The problems to report for an evaluated manifest: the current file's, also when a last valid version stands in. */
export function reportedIssues(evaluation: Evaluation): Evaluation['issues'] {
  return evaluation.manifest.fallback?.issues ?? evaluation.issues;
}

/** How many records `flush` writes or removes between two yields to other work. */
const FLUSH_BATCH = 100;

/**
 * The records of one run: the persisted stand-ins read once at start, then kept in step with what
 * Caddy serves. Recording happens in memory, on the sync's path; `flush` persists the stand-ins
 * that started and removes those that ended, off it (after the status pass).
 */
export class LastValid {
  readonly #entries: Map<string, LastValidEntry>;
  readonly #persistence: LastValidPersistence | undefined;
  /** Files whose record may have to be written or removed at the next flush. */
  readonly #unsaved = new Set<string>();
  /** Files whose recorded version stands in for them now (an invalid current file). */
  readonly #standingIn = new Set<string>();
  /** Files with a record on disk. */
  readonly #onDisk: Set<string>;
  /** Evaluations already recorded, with whether Caddy left them out: an unchanged one costs a lookup. */
  #seen = new WeakMap<Evaluation, boolean>();
  #lastSet: EvaluatedSet | undefined;
  #lastExcluded = '';
  /** Records read at start were checked against the files present (see `record`). */
  #pruned = false;

  constructor(persistence?: LastValidPersistence) {
    this.#persistence = persistence;
    this.#entries = new Map(persistence?.load() ?? []);
    this.#onDisk = new Set(this.#entries.keys());
  }

  get entries(): ReadonlyMap<string, LastValidEntry> {
    return this.#entries;
  }

  /** `withLastValid` with this run's records. */
  apply(manifest: Manifest, tls: TlsSettings): Manifest {
    return withLastValid(manifest, this.#entries.get(manifest.file), tls);
  }

  /**
   * The file is gone, or lost a conflict: its record goes too, on disk at once (a file created
   * later at the same path, broken, must not bring the old version back, even after a restart).
   */
  forget(file: string): void {
    this.#entries.delete(file);
    this.#standingIn.delete(file);
    this.#unsaved.delete(file);
    if (!this.#onDisk.has(file)) return;
    try {
      this.#persistence?.remove(file);
      this.#onDisk.delete(file);
    } catch {
      // DATA_DIR refused it: the next flush tries again (and reports the failure).
      this.#unsaved.add(file);
    }
  }

  /**
   * After a successful Caddy sync: records each accepted resource Caddy serves (not `excluded`, by
   * resource id) at its generation, with its precedence from `acceptedSince`, and forgets the
   * files whose current version lost a conflict.
   */
  record(evaluated: EvaluatedSet, excluded: ReadonlyMap<string, ProgramState>, acceptedSince: ReadonlyMap<string, number>, now: number): void {
    // The first sync sees every file there is: a record whose file was deleted while ingressd was
    // stopped goes, so a broken file created later at that path cannot bring it back.
    if (!this.#pruned) {
      this.#pruned = true;
      for (const file of [...this.#entries.keys()]) if (!evaluated.byFile.has(file)) this.forget(file);
    }
    // A sync at rest hands back the same evaluated set: nothing to look at (100,000 lookups saved).
    const excludedKey = [...excluded.keys()].sort().join(',');
    if (evaluated === this.#lastSet && excludedKey === this.#lastExcluded) return;
    this.#lastSet = evaluated;
    this.#lastExcluded = excludedKey;
    for (const [file, evaluation] of evaluated.byFile) {
      const { manifest } = evaluation;
      const left = manifest.resource !== undefined && excluded.has(manifest.resource.id);
      if (this.#seen.get(evaluation) === left) continue;
      this.#seen.set(evaluation, left);
      const known = this.#entries.get(file);
      if (evaluation.accepted) {
        if (manifest.fallback !== undefined) {
          this.#standingIn.add(file);
          if (!this.#onDisk.has(file)) this.#unsaved.add(file);
          continue;
        }
        if (manifest.resource === undefined || left) continue;
        // Valid again: a record on disk has nothing left to stand in for.
        if (this.#standingIn.delete(file) || this.#onDisk.has(file)) this.#unsaved.add(file);
        if (known?.manifest.generation === manifest.generation) continue;
        this.#entries.set(file, { manifest, acceptedAt: now, since: acceptedSince.get(file) ?? known?.since ?? now });
      } else if (known !== undefined) {
        // Refused although valid on its own (an invalid one would stand in, with `fallback` set),
        // or refused while standing in: a conflict, which this rule never overrides.
        this.forget(file);
      }
    }
  }

  /** True when a record waits to be written or removed. */
  get hasUnsaved(): boolean {
    return this.#unsaved.size > 0;
  }

  /**
   * Writes the records that now stand in and removes those that no longer do, yielding to other
   * work every FLUSH_BATCH files. A failed write is logged by the caller and tried again at the
   * next flush.
   */
  async flush(): Promise<void> {
    const persistence = this.#persistence;
    if (persistence === undefined) {
      this.#unsaved.clear();
      return;
    }
    let done = 0;
    for (const file of [...this.#unsaved]) {
      if (done > 0 && done % FLUSH_BATCH === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const entry = this.#entries.get(file);
      if (entry !== undefined && this.#standingIn.has(file)) {
        persistence.save(entry);
        this.#onDisk.add(file);
      } else if (this.#onDisk.has(file)) {
        persistence.remove(file);
        this.#onDisk.delete(file);
      }
      this.#unsaved.delete(file);
      done++;
    }
  }
}
