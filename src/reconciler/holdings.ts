/**
 * The incremental evaluator's bookkeeping: which slots and port modes the accepted set holds, what
 * the rejected candidates (valid on their own) want, the accepted instances, and the acceptedSince
 * snapshot. Every key comes from `claims.ts`, the definition the full evaluation uses too.
 */
import type { ClaimsFn } from './claims.js';
import { instanceKeys, type Candidate } from './evaluate.js';
import type { Instance, Resource } from '../model/resource.js';

/** A precedence order, as `byPrecedence` gives: negative when `a` comes first. */
export type Precedence = (a: Candidate, b: Candidate) => number;

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
export interface ContestedPort {
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
export class Holdings {
  readonly known = new KnownInstances();
  readonly #httpPort: number;
  readonly #claims: ClaimsFn;
  /** Slot → file of the accepted resource holding it. */
  readonly #held = new Map<string, string>();
  readonly #modes = new Map<number, PortMode>();
  /** Slot → files of the rejected candidates claiming it. */
  readonly #wanted = new Map<string, Set<string>>();
  /** `portWant` → files of the rejected candidates claiming that port in that mode. */
  readonly #wantedPorts = new Map<number, Set<string>>();

  constructor(httpPort: number, claims: ClaimsFn) {
    this.#httpPort = httpPort;
    this.#claims = claims;
  }

  /** Records a candidate as accepted (when `admissible`, or as a full evaluation found) or as rejected. */
  add(file: string, resource: Resource, accepted: boolean): void {
    const { slots, routes: ports } = this.#claims(resource, this.#httpPort);
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
    const { slots, routes: ports } = this.#claims(resource, this.#httpPort);
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
      for (const { port, tls } of this.#claims(candidate.resource, this.#httpPort).routes) {
        const mode = this.#modes.get(port);
        if (mode === undefined || !this.#isContested(port, tls)) continue;
        if (mode.holder === undefined || order(candidate, mode.holder) < 0) mode.holder = candidate;
      }
    }
  }

  /** Condition 1, once every old version is dropped: true when giving up `resource` changes no rejected candidate. */
  released(resource: Resource): boolean {
    const { slots, routes: ports } = this.#claims(resource, this.#httpPort);
    return !slots.some((slot) => this.#wanted.has(slot)) && ports.every(({ port, tls }) => !this.#isContested(port, tls) || this.#modes.get(port)?.holder !== undefined);
  }

  /** Condition 2: true when accepting `candidate` changes no other verdict or issue (`order`: the current precedence). */
  admissible(candidate: Candidate, order: Precedence): boolean {
    const { slots, routes: ports } = this.#claims(candidate.resource, this.#httpPort);
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
    const { slots } = this.#claims(resource, this.#httpPort);
    return accepted ? slots.flatMap((slot) => [...(this.#wanted.get(slot) ?? [])]) : slots.flatMap((slot) => this.#held.get(slot) ?? []);
  }

  /**
   * The contested ports `resource` claims, as an accepted claimer or as a rejected candidate
   * wanting the port in the mode it does not serve: each port's holder (undefined: unknown) and
   * the files of the rejected candidates wanting it.
   */
  contestedPorts(resource: Resource, accepted: boolean): ContestedPort[] {
    return this.#claims(resource, this.#httpPort).routes.flatMap(({ port, tls }) => {
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
export class KnownInstances {
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
export class SinceSnapshot {
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

  /** As `update`, told which entries changed (`changes`: their previous values): only those are looked at. */
  apply(changes: ReadonlyMap<string, number | undefined>, current: ReadonlyMap<string, number>): ReadonlyMap<string, number | undefined> {
    for (const file of changes.keys()) {
      const since = current.get(file);
      if (since === undefined) this.#values.delete(file);
      else this.#values.set(file, since);
    }
    return changes;
  }

  clear(): void {
    this.#values.clear();
  }
}
