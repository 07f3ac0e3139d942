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
  /** acceptedSince entries changed since `takeChanges`, with their values before (undefined: absent). */
  #sinceChanges = new Map<string, number | undefined>();
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
    if (since !== undefined) this.#setSince(file, since);
    this.#manifests.set(file, manifest);
    const changed = before === undefined || before.generation !== manifest.generation || stableStringify(before.issues) !== stableStringify(manifest.issues);
    if (changed) this.#markChanged(file);
    return changed;
  }

  /** Forgets a file that is gone; true when it was known. */
  delete(file: string): boolean {
    const known = this.#manifests.delete(file);
    this.#setSince(file, undefined);
    if (known) this.#markChanged(file);
    return known;
  }

  /**
   * The files changed since the last call, and the acceptedSince entries that moved meanwhile
   * (with their values before); clears the dirty mark (a change meanwhile sets it again).
   */
  takeChanges(): { readonly files: ReadonlySet<string>; readonly since: ReadonlyMap<string, number | undefined> } {
    const files = this.#changed;
    const since = this.#sinceChanges;
    this.#changed = new Set();
    this.#sinceChanges = new Map();
    this.#dirty = false;
    return { files, since };
  }

  /** Asks for another evaluation although no file changed (a step after it failed). */
  markDirty(): void {
    this.#dirty = true;
  }

  /**
   * After an evaluation at `nowMs`: newly accepted files hold their claims from now; refused ones
   * lose precedence. `only`: the files whose verdict may have changed (an incremental evaluation
   * changes no other); all of them when absent.
   */
  recordAcceptance(evaluated: EvaluatedSet, nowMs: number, only?: Iterable<string>): void {
    const record = (file: string, accepted: boolean): void => {
      if (!accepted) this.#setSince(file, undefined);
      else if (!this.#acceptedSince.has(file)) this.#setSince(file, nowMs);
    };
    if (only === undefined) for (const [file, evaluation] of evaluated.byFile) record(file, evaluation.accepted);
    else for (const file of only) record(file, evaluated.byFile.get(file)?.accepted ?? false);
  }

  #setSince(file: string, since: number | undefined): void {
    const before = this.#acceptedSince.get(file);
    if (before === since) return;
    if (!this.#sinceChanges.has(file)) this.#sinceChanges.set(file, before);
    if (since === undefined) this.#acceptedSince.delete(file);
    else this.#acceptedSince.set(file, since);
  }

  #markChanged(file: string): void {
    this.#dirty = true;
    this.#changed.add(file);
  }
}
