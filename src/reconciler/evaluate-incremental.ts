/**
 * `evaluate`, kept up to date from the files that changed: one changed manifest among 10,000 costs
 * a few map look-ups and one pass to rebuild `byFile`, instead of a full validation walk.
 *
 * Who wins a clash depends on the precedence order of the whole set, so the fast path is taken
 * only when a batch provably changes no winner and no issue of a rejected candidate. Keys are
 * slots (name per kind, id, hostname+port: one accepted holder each) and port modes. A rejected
 * candidate's port-mode issue names the port's holder, its first accepted claimer in precedence
 * order, and it has the issue iff the holder comes before it: so for a port that a rejected
 * candidate wants in the other mode (a contested port), the holder stands for all its claimers.
 * 1. No slot given up by an accepted old version is wanted by a rejected candidate (it might win
 *    now, or its issues name the old version), and no contested port loses its holder.
 * 2. Every new version that is valid on its own clashes with nothing the accepted set holds (the
 *    other new versions included), shares no slot with a rejected candidate (had it come first,
 *    the rejected one would report it), and comes after the holder of each contested port it claims.
 * 3. No acceptedSince change reorders an accepted resource and a rejected candidate sharing a slot,
 *    or a contested port's holder and a rejected candidate wanting it, or puts another claimer of a
 *    contested port before its holder (or moves the holder itself).
 * Then the accepted set is the old one without the old versions and with the new ones, every
 * rejected candidate keeps its issues, and only `instance_not_found` issues can move. Otherwise the
 * whole set is evaluated again with `evaluate`.
 */
import { isPattern } from '../model/hostname.js';
import type { Manifest } from '../model/manifest.js';
import type { Ingress, Instance, Resource } from '../model/resource.js';
import type { TlsSettings } from '../model/settings.js';
import { targetsOf } from '../model/routing.js';
import { claimsOf, type ClaimsFn } from './claims.js';
import {
  byPrecedence,
  evaluate,
  instanceNotFound,
  isBlockingIssue,
  localIssuesOf,
  type Candidate,
  type EvaluatedSet,
  type Evaluation,
} from './evaluate.js';
import { sameEvaluation, withChanges, withIds } from './evaluated-set.js';
import { LayeredMap } from './layered-map.js';
import { Holdings, SinceSnapshot, type KnownInstances } from './holdings.js';
import { reordered } from './reordering.js';

/** How the last `IncrementalEvaluator.evaluate` call got its answer. */
export type EvaluationPath = 'full' | 'fast';

export interface IncrementalEvaluatorOptions {
  /**
   * What a resource claims. Always `claimsOf` in ingressd; tests pass a broken one to show that
   * the running cross-check notices the drift. @default claimsOf
   */
  readonly claims?: ClaimsFn;
}

export class IncrementalEvaluator {
  readonly #claims: ClaimsFn;
  #state: State | undefined;
  readonly #since = new SinceSnapshot();
  #lastPath: EvaluationPath | undefined;

  constructor(options: IncrementalEvaluatorOptions = {}) {
    this.#claims = options.claims ?? claimsOf;
  }

  /** How the last call got its answer; undefined before the first call. */
  get lastPath(): EvaluationPath | undefined {
    return this.#lastPath;
  }

  /**
   * `manifests`: every manifest by file (its `file`), in the order a full evaluation would be given
   * them. `changed`: files whose manifest was added, replaced or removed since the previous call
   * (removed = no longer in `manifests`). Returns what `evaluate([...manifests.values()],
   * acceptedSince, tls)` returns (`fileById` may list the same entries in another order), reusing
   * the previous call's `Evaluation` objects where they did not change. Returned objects are never
   * mutated afterwards. The first call, a call after `reset`, and a call with another `tls` object
   * evaluate the whole set; so does any call whose change is not provably conflict-free, and any
   * call where `manifests` differs from the previous call beyond `changed`. `sinceChanges`, when
   * given, must hold every acceptedSince entry that changed since the previous call, with its
   * previous value (undefined: absent); without it the whole map is compared with a snapshot.
   * `byFile` lists every file, in `manifests` order after a full evaluation; a fast path keeps the
   * previous order (a file removed and added again keeps its place).
   */
  evaluate(
    manifests: ReadonlyMap<string, Manifest>,
    changed: ReadonlySet<string>,
    acceptedSince: ReadonlyMap<string, number>,
    tls: TlsSettings,
    sinceChanges?: ReadonlyMap<string, number | undefined>,
  ): EvaluatedSet {
    // With the caller's account of which acceptedSince entries moved, only those are looked at.
    const since = sinceChanges === undefined ? this.#since.update(acceptedSince) : this.#since.apply(sinceChanges, acceptedSince);
    const state = this.#state;
    const fast = state !== undefined && state.tls === tls ? tryFast(state, manifests, changed, acceptedSince, since) : undefined;
    this.#lastPath = fast === undefined ? 'full' : 'fast';
    if (fast !== undefined) return fast;
    this.#state = evaluateAll(manifests, acceptedSince, tls, this.#claims, this.#state?.files);
    return this.#state.result;
  }

  /** Forget everything: the next call evaluates the whole set. */
  reset(): void {
    this.#state = undefined;
    this.#since.clear();
  }
}

/** What the last evaluation found, kept in step with each other. */
interface State {
  readonly tls: TlsSettings;
  readonly files: Map<string, FileState>;
  readonly holdings: Holdings;
  result: EvaluatedSet;
}

/** One file as the last evaluation saw it. */
interface FileState {
  readonly manifest: Manifest;
  /** The resource when it is valid on its own (so accepted, or rejected by a clash); else undefined. */
  readonly candidate: Resource | undefined;
  readonly evaluation: Evaluation;
}

interface Edit {
  readonly file: string;
  readonly before: FileState | undefined;
  readonly after: Manifest | undefined;
}

/** Full evaluation, then the state the fast path needs; evaluations equal to `previous` ones are reused. */
function evaluateAll(
  manifests: ReadonlyMap<string, Manifest>,
  acceptedSince: ReadonlyMap<string, number>,
  tls: TlsSettings,
  claims: ClaimsFn,
  previous: ReadonlyMap<string, FileState> | undefined,
): State {
  const result = evaluate([...manifests.values()], acceptedSince, tls);
  const files = new Map<string, FileState>();
  const holdings = new Holdings(tls.httpPort, claims);
  const byFile = new Map<string, Evaluation>();
  const accepted: Candidate[] = [];
  for (const [file, fresh] of result.byFile) {
    const old = previous?.get(file)?.evaluation;
    const evaluation = old !== undefined && sameEvaluation(old, fresh) ? old : fresh;
    const candidate = candidateOf(fresh.manifest, tls);
    byFile.set(file, evaluation);
    files.set(file, { manifest: fresh.manifest, candidate, evaluation });
    if (candidate === undefined) continue;
    holdings.add(file, candidate, evaluation.accepted);
    if (evaluation.accepted) accepted.push({ file, resource: candidate });
  }
  holdings.findHolders(accepted, byPrecedence(acceptedSince));
  holdings.known.takeFlipped();
  return { tls, files, holdings, result: { ...result, byFile: LayeredMap.of(byFile), fileById: LayeredMap.of(result.fileById) } };
}

/**
 * The fast path (see the module comment); undefined when the batch is not provably conflict-free
 * or `manifests` disagrees with `state` beyond `changed`. It updates `state` as it goes: on
 * undefined the caller must rebuild it with `evaluateAll`.
 */
function tryFast(
  state: State,
  manifests: ReadonlyMap<string, Manifest>,
  changed: ReadonlySet<string>,
  acceptedSince: ReadonlyMap<string, number>,
  sinceChanges: ReadonlyMap<string, number | undefined>,
): EvaluatedSet | undefined {
  const { files, holdings, tls } = state;
  const edits = editsOf(files, manifests, changed);
  for (const { file, before } of edits) {
    if (before?.candidate !== undefined) holdings.drop(file, before.candidate, before.evaluation.accepted);
  }
  const removed = edits.flatMap(({ before }) => acceptedResource(before));
  if (!removed.every((resource) => holdings.released(resource))) return undefined;

  const order = byPrecedence(acceptedSince);
  const added: Candidate[] = [];
  for (const { file, after } of edits) {
    const resource = after === undefined ? undefined : candidateOf(after, tls);
    if (resource === undefined) continue;
    const candidate = { file, resource };
    if (!holdings.admissible(candidate, order)) return undefined;
    holdings.add(file, resource, true);
    added.push(candidate);
  }
  const edited = new Set(edits.map((edit) => edit.file));
  if (reordered(files, holdings, edited, acceptedSince, sinceChanges)) return undefined;

  for (const { file, after } of edits) {
    if (after === undefined) files.delete(file);
    else files.set(file, fileState(after, tls, holdings.known));
  }
  const flipped = holdings.known.takeFlipped();
  const refreshed = flipped.size > 0 ? refreshInstanceIssues(files, edited, flipped, tls, holdings.known) : [];

  // Only the edited (and refreshed) files' entries change: the rest of byFile is shared with the
  // previous answer. `changed` must name every file that differs from the previous call.
  if (manifests.size !== files.size) return undefined;
  const set = [...edits.flatMap(({ file, after }) => (after === undefined ? [] : [file])), ...refreshed].map((file) => [file, files.get(file)!.evaluation] as const);
  const byFile = LayeredMap.of(state.result.byFile).with(set, edits.flatMap(({ file, after }) => (after === undefined ? [file] : [])));
  const previous = state.result;
  const ingresses = withChanges(previous.ingresses, removed.filter(isIngress), added.map((c) => c.resource).filter(isIngress));
  const instances = withChanges(previous.instances, removed.filter(isInstance), added.map((c) => c.resource).filter(isInstance));
  if (ingresses === undefined || instances === undefined) return undefined;
  state.result = { byFile, ingresses, instances, fileById: withIds(previous.fileById, removed, added) };
  return state.result;
}

/** The files of `changed` whose manifest really differs from the one last evaluated. */
function editsOf(files: ReadonlyMap<string, FileState>, manifests: ReadonlyMap<string, Manifest>, changed: ReadonlySet<string>): Edit[] {
  const edits: Edit[] = [];
  for (const file of changed) {
    const before = files.get(file);
    const after = manifests.get(file);
    if (before?.manifest !== after) edits.push({ file, before, after });
  }
  return edits;
}

/** A file's resource when it has one and no blocking file-local issue. */
function candidateOf(manifest: Manifest, tls: TlsSettings): Resource | undefined {
  return manifest.resource !== undefined && !localIssuesOf(manifest, tls).some(isBlockingIssue) ? manifest.resource : undefined;
}

/** The resource `state` had accepted, as a list of zero or one. */
function acceptedResource(state: FileState | undefined): Resource[] {
  return state?.candidate !== undefined && state.evaluation.accepted ? [state.candidate] : [];
}

/** A new version's state on the fast path, where every candidate is accepted. */
function fileState(manifest: Manifest, tls: TlsSettings, known: KnownInstances): FileState {
  const candidate = candidateOf(manifest, tls);
  return { manifest, candidate, evaluation: acceptedEvaluation(manifest, candidate, tls, known) };
}

/** A file's evaluation when it is accepted iff it is a candidate: file-local issues, then `instance_not_found`. */
function acceptedEvaluation(manifest: Manifest, candidate: Resource | undefined, tls: TlsSettings, known: KnownInstances): Evaluation {
  const local = localIssuesOf(manifest, tls);
  const missing = candidate?.kind === 'Ingress' ? instanceNotFound(candidate, known) : [];
  return { manifest, accepted: candidate !== undefined, issues: missing.length === 0 ? local : [...local, ...missing] };
}

/**
 * Re-judges `instance_not_found` for the accepted ingresses not in `edited` that target an instance
 * key in `flipped` (one that appeared or vanished), replacing only the evaluations that differ.
 */
function refreshInstanceIssues(files: Map<string, FileState>, edited: ReadonlySet<string>, flipped: ReadonlySet<string>, tls: TlsSettings, known: KnownInstances): string[] {
  const refreshed: string[] = [];
  for (const [file, state] of files) {
    const { candidate, evaluation } = state;
    if (!evaluation.accepted || candidate?.kind !== 'Ingress' || edited.has(file) || !targetsAny(candidate, flipped)) continue;
    const fresh = acceptedEvaluation(state.manifest, candidate, tls, known);
    if (sameEvaluation(evaluation, fresh)) continue;
    files.set(file, { ...state, evaluation: fresh });
    refreshed.push(file);
  }
  return refreshed;
}

function targetsAny(ingress: Ingress, keys: ReadonlySet<string>): boolean {
  return ingress.rules.some((rule) => !isPattern(rule.match.hostname) && targetsOf(rule).some((t) => keys.has(t.instance.toLowerCase())));
}

function isIngress(resource: Resource): resource is Ingress {
  return resource.kind === 'Ingress';
}

function isInstance(resource: Resource): resource is Instance {
  return resource.kind === 'Instance';
}

