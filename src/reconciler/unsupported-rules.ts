/**
 * The rules the Caddy ingressd drives cannot serve (render/requirements.ts), as `Programmed`
 * states for the status files: computed once per evaluation and Caddy, and logged once when they
 * first appear or change (not on every sync).
 */
import type { Logger } from '../model/logger.js';
import type { Ingress } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import { unsupportedStates } from './desired-state.js';
import type { EvaluatedSet } from './evaluate.js';
import type { ProgramState } from './status-types.js';

export class UnsupportedRules {
  readonly #logger: Logger;
  #last: { readonly of: readonly Ingress[]; readonly settings: RenderSettings; readonly states: ReadonlyMap<string, ProgramState> } | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** `excluded` (Caddy's refusals, isolations) and, for the ingresses it does not name, the unsupported rules' states. */
  withExcluded(evaluated: EvaluatedSet, settings: RenderSettings, excluded: ReadonlyMap<string, ProgramState>): ReadonlyMap<string, ProgramState> {
    const states = this.#states(evaluated, settings);
    if (states.size === 0) return excluded;
    const merged = new Map(states);
    for (const [id, state] of excluded) merged.set(id, state);
    return merged;
  }

  #states(evaluated: EvaluatedSet, settings: RenderSettings): ReadonlyMap<string, ProgramState> {
    if (this.#last?.of === evaluated.ingresses && this.#last.settings === settings) return this.#last.states;
    const before = this.#last?.states;
    const states = unsupportedStates(evaluated.ingresses, settings);
    this.#last = { of: evaluated.ingresses, settings, states };
    const fresh = [...states.keys()].filter((id) => before?.get(id)?.message !== states.get(id)!.message);
    if (fresh.length > 0) {
      this.#logger.warn('this Caddy cannot serve some rules; they are left out, everything else is applied', {
        count: fresh.length,
        files: fresh.slice(0, 10).map((id) => evaluated.fileById.get(id) ?? id),
        reason: states.get(fresh[0]!)!.message,
      });
    }
    return states;
  }
}
