/**
 * A read-only map made of a base map that nobody changes any more and a small layer of entries set
 * or deleted on top of it. `with` returns a new map sharing the base, so an evaluation that changes
 * three files among 100,000 costs three entries, not a copy of 100,000, and the map it replaces
 * stays exactly as it was (callers may still hold it).
 *
 * Iteration: the base's order with replaced entries in place and deleted ones left out, then the
 * new keys in the order they were first set. A key deleted and set again keeps its base position.
 * Once the layer passes `FLATTEN_AT` entries it is folded into a new base: each `with` copies at
 * most that many entries, and the fold, a copy of the whole map, comes once per that many changes.
 */
const DELETED: unique symbol = Symbol('deleted');
const FLATTEN_AT = 1_024;

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  readonly #base: ReadonlyMap<K, V>;
  readonly #layer: ReadonlyMap<K, V | typeof DELETED>;
  readonly #size: number;

  private constructor(base: ReadonlyMap<K, V>, layer: ReadonlyMap<K, V | typeof DELETED>, size: number) {
    this.#base = base;
    this.#layer = layer;
    this.#size = size;
  }

  /** Wraps `base`, which the caller must never change afterwards. */
  static of<K, V>(base: ReadonlyMap<K, V>): LayeredMap<K, V> {
    return base instanceof LayeredMap ? (base as LayeredMap<K, V>) : new LayeredMap(base, new Map(), base.size);
  }

  /** This map with `set` entries set and `deleted` keys removed (deletions first); itself when nothing changes. */
  with(set: Iterable<readonly [K, V]>, deleted: Iterable<K> = []): LayeredMap<K, V> {
    const layer = new Map(this.#layer);
    let size = this.#size;
    let changed = false;
    for (const key of deleted) {
      if (!this.#hasIn(layer, key)) continue;
      layer.set(key, DELETED);
      size--;
      changed = true;
    }
    for (const [key, value] of set) {
      const had = this.#hasIn(layer, key);
      if (had && this.#getIn(layer, key) === value) continue;
      layer.set(key, value);
      if (!had) size++;
      changed = true;
    }
    if (!changed) return this;
    const next = new LayeredMap(this.#base, layer, size);
    return layer.size > FLATTEN_AT ? new LayeredMap(new Map(next), new Map(), size) : next;
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    return this.#getIn(this.#layer, key);
  }

  has(key: K): boolean {
    return this.#hasIn(this.#layer, key);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.#base) {
      if (!this.#layer.has(key)) yield [key, value];
      else {
        const layered = this.#layer.get(key)!;
        if (layered !== DELETED) yield [key, layered];
      }
    }
    for (const [key, value] of this.#layer) if (value !== DELETED && !this.#base.has(key)) yield [key, value];
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  #getIn(layer: ReadonlyMap<K, V | typeof DELETED>, key: K): V | undefined {
    if (!layer.has(key)) return this.#base.get(key);
    const value = layer.get(key)!;
    return value === DELETED ? undefined : value;
  }

  #hasIn(layer: ReadonlyMap<K, V | typeof DELETED>, key: K): boolean {
    return layer.has(key) ? layer.get(key) !== DELETED : this.#base.has(key);
  }
}
