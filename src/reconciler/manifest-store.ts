/**
 * The manifests the reconciler knows, which changed since the last evaluation, and since when
 * each has been accepted (conflict precedence: see `precedence.ts`). No I/O: the sources read
 * files, the reconciler records what they found here.
 */
import { stableStringify } from '../model/canonical.js';
import type { Manifest } from '../model/manifest.js';
import type { EvaluatedSet } from './evaluate.js';

export class ManifestStore {
  readonly #manifests = new Map<string, Manifest>();
  readonly #acceptedSince = new Map<string, number>();
  #changed = new Set<string>();
  /** Set by any change; cleared by `takeChanges`. A resync at rest skips evaluation and render. */
  #dirty = true;

  get manifests(): ReadonlyMap<string, Manifest> {
    return this.#manifests;
  }

  /** Per file, when it was first accepted (ms since the epoch). */
  get acceptedSince(): ReadonlyMap<string, number> {
    return this.#acceptedSince;
  }

  /** True when something changed since the last `takeChanges` (or nothing was evaluated yet). */
  get isDirty(): boolean {
    return this.#dirty;
  }

  get(file: string): Manifest | undefined {
    return this.#manifests.get(file);
  }

  has(file: string): boolean {
    return this.#manifests.has(file);
  }

  /** Known files, sorted. */
  files(): string[] {
    return [...this.#manifests.keys()].sort();
  }

  /**
   * Records the manifest just read for its file; true when it differs from the one known (a new
   * file, another spec, or other file-local issues). `since` (from its status file, first sight
   * only) seeds its precedence.
   */
  set(manifest: Manifest, since: number | undefined): boolean {
    const { file } = manifest;
    const before = this.#manifests.get(file);
    if (since !== undefined) this.#acceptedSince.set(file, since);
    this.#manifests.set(file, manifest);
    const changed = before === undefined || before.generation !== manifest.generation || stableStringify(before.issues) !== stableStringify(manifest.issues);
    if (changed) this.#markChanged(file);
    return changed;
  }

  /** Forgets a file that is gone; true when it was known. */
  delete(file: string): boolean {
    const known = this.#manifests.delete(file);
    this.#acceptedSince.delete(file);
    if (known) this.#markChanged(file);
    return known;
  }

  /** The files changed since the last call, and clears the dirty mark (a change meanwhile sets it again). */
  takeChanges(): ReadonlySet<string> {
    const changed = this.#changed;
    this.#changed = new Set();
    this.#dirty = false;
    return changed;
  }

  /** Asks for another evaluation although no file changed (a step after it failed). */
  markDirty(): void {
    this.#dirty = true;
  }

  /** After an evaluation at `nowMs`: newly accepted files hold their claims from now; refused ones lose precedence. */
  recordAcceptance(evaluated: EvaluatedSet, nowMs: number): void {
    for (const [file, evaluation] of evaluated.byFile) {
      if (!evaluation.accepted) this.#acceptedSince.delete(file);
      else if (!this.#acceptedSince.has(file)) this.#acceptedSince.set(file, nowMs);
    }
  }

  #markChanged(file: string): void {
    this.#dirty = true;
    this.#changed.add(file);
  }
}
