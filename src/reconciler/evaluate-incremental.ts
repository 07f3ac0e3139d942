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
import type { Issue } from '../model/issues.js';
import type { Manifest } from '../model/manifest.js';
import type { Ingress, Instance, Resource } from '../model/resource.js';
import type { TlsSettings } from '../model/settings.js';
import {
  byPrecedence,
  claimsOf,
  evaluate,
  instanceKeys,
  instanceNotFound,
  isBlockingIssue,
  localIssuesOf,
  type Candidate,
  type EvaluatedSet,
  type Evaluation,
} from './evaluate.js';

/** How the last `IncrementalEvaluator.evaluate` call got its answer. */
export type EvaluationPath = 'full' | 'fast';

export class IncrementalEvaluator {
  #state: State | undefined;
  readonly #since = new SinceSnapshot();
  #lastPath: EvaluationPath | undefined;

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
   * call where `manifests` differs from the previous call beyond `changed`.
   */
  evaluate(manifests: ReadonlyMap<string, Manifest>, changed: ReadonlySet<string>, acceptedSince: ReadonlyMap<string, number>, tls: TlsSettings): EvaluatedSet {
    const sinceChanges = this.#since.update(acceptedSince);
    const state = this.#state;
    const fast = state !== undefined && state.tls === tls ? tryFast(state, manifests, changed, acceptedSince, sinceChanges) : undefined;
    this.#lastPath = fast === undefined ? 'full' : 'fast';
    if (fast !== undefined) return fast;
    this.#state = evaluateAll(manifests, acceptedSince, tls, this.#state?.files);
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
function evaluateAll(manifests: ReadonlyMap<string, Manifest>, acceptedSince: ReadonlyMap<string, number>, tls: TlsSettings, previous: ReadonlyMap<string, FileState> | undefined): State {
  const result = evaluate([...manifests.values()], acceptedSince, tls);
  const files = new Map<string, FileState>();
  const holdings = new Holdings(tls.httpPort);
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
  return { tls, files, holdings, result: { ...result, byFile } };
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
  if (flipped.size > 0) refreshInstanceIssues(files, edited, flipped, tls, holdings.known);

  const byFile = byFileOf(manifests, files);
  const previous = state.result;
  const ingresses = withChanges(previous.ingresses, removed.filter(isIngress), added.map((c) => c.resource).filter(isIngress));
  const instances = withChanges(previous.instances, removed.filter(isInstance), added.map((c) => c.resource).filter(isInstance));
  if (byFile === undefined || ingresses === undefined || instances === undefined) return undefined;
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
function refreshInstanceIssues(files: Map<string, FileState>, edited: ReadonlySet<string>, flipped: ReadonlySet<string>, tls: TlsSettings, known: KnownInstances): void {
  for (const [file, state] of files) {
    const { candidate, evaluation } = state;
    if (!evaluation.accepted || candidate?.kind !== 'Ingress' || edited.has(file) || !targetsAny(candidate, flipped)) continue;
    const fresh = acceptedEvaluation(state.manifest, candidate, tls, known);
    if (!sameEvaluation(evaluation, fresh)) files.set(file, { ...state, evaluation: fresh });
  }
}

function targetsAny(ingress: Ingress, keys: ReadonlySet<string>): boolean {
  return ingress.rules.some((rule) => !isPattern(rule.match.hostname) && keys.has(rule.target.instance.toLowerCase()));
}

/**
 * Condition 3: true when an acceptedSince change (`sinceChanges`: previous values) may reorder an
 * unedited candidate and a rival across the accepted/rejected line, or change a contested port's holder.
 */
function reordered(
  files: ReadonlyMap<string, FileState>,
  holdings: Holdings,
  edited: ReadonlySet<string>,
  acceptedSince: ReadonlyMap<string, number>,
  sinceChanges: ReadonlyMap<string, number | undefined>,
): boolean {
  if (sinceChanges.size === 0 || !holdings.anyRejected) return false;
  const before = byPrecedence({ get: (file) => (sinceChanges.has(file) ? sinceChanges.get(file) : acceptedSince.get(file)) });
  const after = byPrecedence(acceptedSince);
  /** True when `self` and the candidate in file `rival` swap places (or there is none: be safe). */
  const flips = (self: Candidate, rival: string): boolean => {
    const resource = files.get(rival)?.candidate;
    if (resource === undefined) return true;
    const other = { file: rival, resource };
    return before(self, other) < 0 !== after(self, other) < 0;
  };
  /** True when `self` moving may change a contested port's holder, or whether it comes before a rejected wanter. */
  const movesPort = (self: Candidate, accepted: boolean, { holder, wanters }: ContestedPort): boolean => {
    if (holder === undefined) return true;
    if (!accepted) return flips(self, holder.file);
    if (holder.file !== self.file) return after(self, holder) < 0;
    return movedLater(sinceChanges.get(self.file), acceptedSince.get(self.file)) || [...wanters].some((wanter) => flips(self, wanter));
  };
  for (const file of sinceChanges.keys()) {
    const state = files.get(file);
    if (state?.candidate === undefined || edited.has(file)) continue;
    const self = { file, resource: state.candidate };
    const { accepted } = state.evaluation;
    if (holdings.slotRivals(state.candidate, accepted).some((rival) => flips(self, rival))) return true;
    if (holdings.contestedPorts(state.candidate, accepted).some((port) => movesPort(self, accepted, port))) return true;
  }
  return false;
}

/** True when an acceptedSince change from `before` to `after` moves a file later in precedence. */
function movedLater(before: number | undefined, after: number | undefined): boolean {
  return before !== undefined && (after === undefined || after > before);
}

/** `byFile` in `manifests` order; undefined when `manifests` disagrees with `files`. */
function byFileOf(manifests: ReadonlyMap<string, Manifest>, files: ReadonlyMap<string, FileState>): Map<string, Evaluation> | undefined {
  if (manifests.size !== files.size) return undefined;
  const byFile = new Map<string, Evaluation>();
  for (const [file, manifest] of manifests) {
    const state = files.get(file);
    if (state?.manifest !== manifest || manifest.file !== file) return undefined;
    byFile.set(file, state.evaluation);
  }
  return byFile;
}

function isIngress(resource: Resource): resource is Ingress {
  return resource.kind === 'Ingress';
}

function isInstance(resource: Resource): resource is Instance {
  return resource.kind === 'Instance';
}

/**
 * `list` (sorted by unique name) without `removed` and with `added`, as a new array; `list` itself
 * when both are empty. Undefined when a removed resource is not in `list` (the state is off).
 */
function withChanges<T extends Resource>(list: readonly T[], removed: readonly T[], added: readonly T[]): readonly T[] | undefined {
  if (removed.length === 0 && added.length === 0) return list;
  const next = list.slice();
  for (const resource of removed) {
    const at = lowerBound(next, resource.name);
    if (next[at] !== resource) return undefined;
    next.splice(at, 1);
  }
  for (const resource of added) next.splice(lowerBound(next, resource.name), 0, resource);
  return next;
}

/** Index of the first resource in `list` whose name is not before `name` (the order of `byName`). */
function lowerBound(list: readonly Resource[], name: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]!.name < name) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * `fileById` without the ids of `removed` and with those of `added`, as a new map; `fileById` itself
 * when that changes no entry (an edit that keeps its name keeps its id), sparing a copy of every entry.
 */
function withIds(fileById: ReadonlyMap<string, string>, removed: readonly Resource[], added: readonly Candidate[]): ReadonlyMap<string, string> {
  const updates = new Map<string, string | undefined>(removed.map((resource) => [resource.id, undefined]));
  for (const { file, resource } of added) updates.set(resource.id, file);
  const changes = [...updates].filter(([id, file]) => fileById.get(id) !== file);
  if (changes.length === 0) return fileById;
  const next = new Map(fileById);
  for (const [id, file] of changes) {
    if (file === undefined) next.delete(id);
    else next.set(id, file);
  }
  return next;
}

function sameEvaluation(a: Evaluation, b: Evaluation): boolean {
  return a.manifest === b.manifest && a.accepted === b.accepted && sameIssues(a.issues, b.issues);
}

function sameIssues(a: readonly Issue[], b: readonly Issue[]): boolean {
  if (a === b) return true;
  return a.length === b.length && a.every((x, i) => x.code === b[i]!.code && x.path === b[i]!.path && x.message === b[i]!.message);
}

/**
 * What a candidate holds once accepted. Slots (name per kind, id, hostname key+port) have at most one
 * accepted holder; a port has one TLS mode (redirects are plain HTTP on the HTTP port).
 */
interface Keys {
  readonly slots: readonly string[];
  /** One entry per claim, repeats kept, so that counts stay balanced. */
  readonly ports: readonly { readonly port: number; readonly tls: boolean }[];
}

const keysCache = new WeakMap<Resource, { readonly httpPort: number; readonly keys: Keys }>();

function keysOf(resource: Resource, httpPort: number): Keys {
  const cached = keysCache.get(resource);
  if (cached !== undefined && cached.httpPort === httpPort) return cached.keys;
  const slots = [`name\u0000${resource.kind}/${resource.name}`, `id\u0000${resource.id}`];
  const ports: { port: number; tls: boolean }[] = [];
  if (resource.kind === 'Ingress') {
    claimsOf(resource, httpPort).forEach(({ key, claims }, i) => {
      const { tls } = resource.rules[i]!;
      for (const claim of claims) {
        slots.push(`host\u0000${key}\u0000${claim.port}`);
        ports.push({ port: claim.port, tls: tls && !claim.redirect });
      }
    });
  }
  const keys = { slots, ports };
  keysCache.set(resource, { httpPort, keys });
  return keys;
}

/** A precedence order, as `byPrecedence` gives: negative when `a` comes first. */
type Precedence = (a: Candidate, b: Candidate) => number;

/** Key of `port` claimed in one mode, for `Holdings`' wanted ports. */
function portWant(port: number, tls: boolean): number {
  return port * 2 + (tls ? 1 : 0);
}

/** A port's TLS mode among accepted resources, how many of their claims use it, and its holder when known. */
interface PortMode {
  readonly tls: boolean;
  count: number;
  /** The first accepted claimer in precedence order; known for contested ports only (see `findHolders`). */
  holder: Candidate | undefined;
}

/** A contested port as one of its claimers or wanters sees it. */
interface ContestedPort {
  /** Undefined when unknown: the holder was just dropped. */
  readonly holder: Candidate | undefined;
  /** Files of the rejected candidates wanting the port in the mode it does not serve. */
  readonly wanters: ReadonlySet<string>;
}

/**
 * What the accepted set holds and what the rejected candidates (valid on their own) want.
 * Only a full evaluation adds wants, so a port becomes contested (wanted by a rejected candidate
 * in the mode it does not serve) only there, and `findHolders` then names its holder; the fast
 * path keeps holders right by refusing any change that would move one.
 */
class Holdings {
  readonly known = new KnownInstances();
  readonly #httpPort: number;
  /** Slot → file of the accepted resource holding it. */
  readonly #held = new Map<string, string>();
  readonly #modes = new Map<number, PortMode>();
  /** Slot → files of the rejected candidates claiming it. */
  readonly #wanted = new Map<string, Set<string>>();
  /** `portWant` → files of the rejected candidates claiming that port in that mode. */
  readonly #wantedPorts = new Map<number, Set<string>>();

  constructor(httpPort: number) {
    this.#httpPort = httpPort;
  }

  /** Records a candidate as accepted (when `admissible`, or as a full evaluation found) or as rejected. */
  add(file: string, resource: Resource, accepted: boolean): void {
    const { slots, ports } = keysOf(resource, this.#httpPort);
    if (!accepted) {
      for (const slot of slots) addTo(this.#wanted, slot, file);
      for (const { port, tls } of ports) addTo(this.#wantedPorts, portWant(port, tls), file);
      return;
    }
    for (const slot of slots) this.#held.set(slot, file);
    for (const { port, tls } of ports) {
      const mode = this.#modes.get(port);
      if (mode === undefined) this.#modes.set(port, { tls, count: 1, holder: undefined });
      else mode.count++;
    }
    if (resource.kind === 'Instance') this.known.add(resource);
  }

  /** Undoes `add` with the same arguments; a port whose holder is dropped no longer knows its holder. */
  drop(file: string, resource: Resource, accepted: boolean): void {
    const { slots, ports } = keysOf(resource, this.#httpPort);
    if (!accepted) {
      for (const slot of slots) removeFrom(this.#wanted, slot, file);
      for (const { port, tls } of ports) removeFrom(this.#wantedPorts, portWant(port, tls), file);
      return;
    }
    for (const slot of slots) this.#held.delete(slot);
    for (const { port } of ports) {
      const mode = this.#modes.get(port);
      if (mode === undefined) continue;
      if (mode.holder?.file === file) mode.holder = undefined;
      if (--mode.count === 0) this.#modes.delete(port);
    }
    if (resource.kind === 'Instance') this.known.remove(resource);
  }

  /**
   * Names the holder of every contested port. Call once, after `add`ing every candidate of a full
   * evaluation: `accepted` is what it accepted, `order` its precedence.
   */
  findHolders(accepted: readonly Candidate[], order: Precedence): void {
    if (this.#wantedPorts.size === 0) return;
    for (const candidate of accepted) {
      for (const { port, tls } of keysOf(candidate.resource, this.#httpPort).ports) {
        const mode = this.#modes.get(port);
        if (mode === undefined || !this.#isContested(port, tls)) continue;
        if (mode.holder === undefined || order(candidate, mode.holder) < 0) mode.holder = candidate;
      }
    }
  }

  /** Condition 1, once every old version is dropped: true when giving up `resource` changes no rejected candidate. */
  released(resource: Resource): boolean {
    const { slots, ports } = keysOf(resource, this.#httpPort);
    return !slots.some((slot) => this.#wanted.has(slot)) && ports.every(({ port, tls }) => !this.#isContested(port, tls) || this.#modes.get(port)?.holder !== undefined);
  }

  /** Condition 2: true when accepting `candidate` changes no other verdict or issue (`order`: the current precedence). */
  admissible(candidate: Candidate, order: Precedence): boolean {
    const { slots, ports } = keysOf(candidate.resource, this.#httpPort);
    if (slots.some((slot) => this.#held.has(slot) || this.#wanted.has(slot))) return false;
    return ports.every(({ port, tls }) => {
      const mode = this.#modes.get(port);
      if (mode?.tls === !tls) return false;
      if (!this.#isContested(port, tls)) return true;
      return mode?.holder !== undefined && order(candidate, mode.holder) > 0;
    });
  }

  /** True when some candidate was rejected by a clash (else no order between candidates matters). */
  get anyRejected(): boolean {
    return this.#wanted.size > 0;
  }

  /** Files across the accepted/rejected line (`accepted` says which side `resource` is on) sharing a slot with `resource`. */
  slotRivals(resource: Resource, accepted: boolean): string[] {
    const { slots } = keysOf(resource, this.#httpPort);
    return accepted ? slots.flatMap((slot) => [...(this.#wanted.get(slot) ?? [])]) : slots.flatMap((slot) => this.#held.get(slot) ?? []);
  }

  /**
   * The contested ports `resource` claims, as an accepted claimer or as a rejected candidate
   * wanting the port in the mode it does not serve: each port's holder (undefined: unknown) and
   * the files of the rejected candidates wanting it.
   */
  contestedPorts(resource: Resource, accepted: boolean): ContestedPort[] {
    return keysOf(resource, this.#httpPort).ports.flatMap(({ port, tls }) => {
      const mode = this.#modes.get(port);
      const wanters = this.#wantedPorts.get(portWant(port, accepted ? !tls : tls));
      const contested = accepted ? wanters !== undefined : mode?.tls === !tls;
      return contested ? [{ holder: mode?.holder, wanters: wanters ?? new Set<string>() }] : [];
    });
  }

  /** True when a rejected candidate wants `port` in the mode other than `tls`. */
  #isContested(port: number, tls: boolean): boolean {
    return this.#wantedPorts.has(portWant(port, !tls));
  }
}

function addTo<K>(sets: Map<K, Set<string>>, key: K, file: string): void {
  const files = sets.get(key);
  if (files === undefined) sets.set(key, new Set([file]));
  else files.add(file);
}

function removeFrom<K>(sets: Map<K, Set<string>>, key: K, file: string): void {
  const files = sets.get(key);
  files?.delete(file);
  if (files?.size === 0) sets.delete(key);
}

function decrement(counts: Map<string, number>, key: string): void {
  const count = (counts.get(key) ?? 0) - 1;
  if (count > 0) counts.set(key, count);
  else counts.delete(key);
}

/** Accepted instances by `instanceKeys`, noting which keys appear or vanish between `takeFlipped` calls. */
class KnownInstances {
  readonly #counts = new Map<string, number>();
  /** Keys touched since the last `takeFlipped`, with whether they were known then. */
  readonly #touched = new Map<string, boolean>();

  has(key: string): boolean {
    return this.#counts.has(key);
  }

  add(instance: Instance): void {
    for (const key of instanceKeys(instance)) {
      this.#touch(key);
      this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    }
  }

  remove(instance: Instance): void {
    for (const key of instanceKeys(instance)) {
      this.#touch(key);
      decrement(this.#counts, key);
    }
  }

  /** Keys known now and not at the last call, or the reverse. */
  takeFlipped(): Set<string> {
    const flipped = new Set<string>();
    for (const [key, was] of this.#touched) if (this.has(key) !== was) flipped.add(key);
    this.#touched.clear();
    return flipped;
  }

  #touch(key: string): void {
    if (!this.#touched.has(key)) this.#touched.set(key, this.has(key));
  }
}

/** The acceptedSince entries the last call saw, to tell which changed since. */
class SinceSnapshot {
  readonly #values = new Map<string, number>();

  /** Entries of `current` that differ from the snapshot, each with its previous value (undefined: absent); then takes `current`. */
  update(current: ReadonlyMap<string, number>): Map<string, number | undefined> {
    const changes = new Map<string, number | undefined>();
    for (const [file, since] of current) {
      const before = this.#values.get(file);
      if (before === since) continue;
      changes.set(file, before);
      this.#values.set(file, since);
    }
    if (this.#values.size === current.size) return changes;
    for (const [file, before] of this.#values) {
      if (current.has(file)) continue;
      changes.set(file, before);
      this.#values.delete(file);
    }
    return changes;
  }

  clear(): void {
    this.#values.clear();
  }
}
