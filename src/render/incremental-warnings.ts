/**
 * `render`'s warnings kept up to date one ingress at a time, for `IncrementalRenderer`: a change
 * among 100,000 ingresses costs that ingress's rules, not a pass over every binding (which took
 * most of a one-change render there: ~200 ms).
 *
 * Contract: after `add`/`remove` calls that leave the same ingresses as a `render` input,
 * `current(view)` equals `render`'s warnings for it.
 */
import type { Ingress } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import type { Binding } from './model.js';
import type { RenderWarning } from './types.js';
import { alpnWarnings, normalizeWarnings, ruleWarnings } from './warnings.js';

/** What the warnings depend on beyond each ingress's own bindings, as the renderer's state has it. */
export interface WarningView {
  /** Ports with at least one TLS binding. */
  readonly tlsPorts: ReadonlySet<number>;
  /** The tls-alpn-01 port when only plain-HTTP bindings listen there (the alpn warning applies). */
  readonly plainAlpnPort: number | undefined;
  readonly tlsBindings: Iterable<Binding>;
}

interface Entry {
  readonly ingressId: string;
  readonly bindings: readonly Binding[];
  /** Why rules of this ingress were not rendered. */
  readonly errors: readonly string[];
  /** Undefined until computed for the current TLS ports. */
  warnings: readonly RenderWarning[] | undefined;
}

export class IncrementalWarnings {
  readonly #settings: RenderSettings;
  readonly #entries = new Map<Ingress, Entry>();
  /** Entries whose warnings are not computed yet. */
  readonly #dirty = new Set<Entry>();
  /** Entries with at least one warning. */
  readonly #warned = new Set<Entry>();
  #tlsPortsKey = '';
  #alpnPort: number | undefined;
  #result: readonly RenderWarning[] | undefined;

  constructor(settings: RenderSettings) {
    this.#settings = settings;
  }

  add(ingress: Ingress, bindings: readonly Binding[], errors: readonly string[]): void {
    const entry: Entry = { ingressId: ingress.id, bindings, errors, warnings: undefined };
    this.#entries.set(ingress, entry);
    this.#dirty.add(entry);
    this.#result = undefined;
  }

  remove(ingress: Ingress): void {
    const entry = this.#entries.get(ingress);
    if (entry === undefined) return;
    this.#entries.delete(ingress);
    this.#dirty.delete(entry);
    if (this.#warned.delete(entry)) this.#result = undefined;
  }

  clear(): void {
    this.#entries.clear();
    this.#dirty.clear();
    this.#warned.clear();
    this.#result = undefined;
  }

  current(view: WarningView): readonly RenderWarning[] {
    const tlsPortsKey = [...view.tlsPorts].sort((a, b) => a - b).join(',');
    if (tlsPortsKey !== this.#tlsPortsKey) {
      // "tls: false on a TLS port" may now apply to any binding: compute every entry again (rare).
      this.#tlsPortsKey = tlsPortsKey;
      for (const entry of this.#entries.values()) this.#dirty.add(entry);
    }
    if (view.plainAlpnPort !== this.#alpnPort || view.plainAlpnPort !== undefined) {
      this.#alpnPort = view.plainAlpnPort;
      this.#result = undefined;
    }
    for (const entry of this.#dirty) {
      const warnings: RenderWarning[] = [];
      for (const binding of entry.bindings) warnings.push(...ruleWarnings(binding, view.tlsPorts, this.#settings));
      for (const message of entry.errors) warnings.push({ resourceId: entry.ingressId, message });
      entry.warnings = warnings;
      if (warnings.length > 0) this.#warned.add(entry);
      else this.#warned.delete(entry);
      this.#result = undefined;
    }
    this.#dirty.clear();
    if (this.#result === undefined) {
      const all: RenderWarning[] = [];
      for (const entry of this.#warned) all.push(...entry.warnings!);
      if (view.plainAlpnPort !== undefined) all.push(...alpnWarnings(view.tlsBindings, view.plainAlpnPort));
      this.#result = normalizeWarnings(all);
    }
    return this.#result;
  }
}
