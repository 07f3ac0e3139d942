/**
 * The desired state, from manifests: every resource judged (accepted or not, with every issue),
 * and the Caddy config ingressd owns for the accepted set, with render's warnings and owners.
 *
 * The one pipeline every caller shares: `ingressd run` (through `IncrementalDesiredState`, which
 * must give the same answer and is checked against this now and then), `validate`, `render`,
 * `diff`, `get` and the HTTP API's pre-check of a write. Conflicts between files are settled by
 * `acceptedSince`: pass what `precedence.ts` reads from the status files, and the answer is the one
 * `run` gives for the same files. Pure: no I/O, and the same input in any order gives the same state.
 */
import type { JsonObject } from '../model/json.js';
import type { Manifest } from '../model/manifest.js';
import type { RenderSettings } from '../model/settings.js';
import { render, type RenderWarning } from '../render/index.js';
import { evaluate, type EvaluatedSet } from './evaluate.js';

export interface DesiredInput {
  readonly manifests: readonly Manifest[];
  /** Per manifest file, when it was first accepted (ms since the epoch); earlier holders win conflicts. */
  readonly acceptedSince: ReadonlyMap<string, number>;
  readonly settings: RenderSettings;
}

/** What `run` serves and reports for a set of manifests. */
export interface DesiredState {
  readonly evaluated: EvaluatedSet;
  /** Only ingressd's part of Caddy's config (see `render`). */
  readonly config: JsonObject;
  readonly warnings: readonly RenderWarning[];
}

export interface FullDesiredState extends DesiredState {
  /** Every `@id` in `config` → the ids of the resources it serves. */
  readonly owners: Readonly<Record<string, readonly string[]>>;
}

export function desiredState(input: DesiredInput): FullDesiredState {
  const evaluated = evaluate(input.manifests, input.acceptedSince, input.settings.tls);
  return { evaluated, ...render({ ingresses: evaluated.ingresses, instances: evaluated.instances }, input.settings) };
}

/** The accepted set's render input without the given ingress ids (left out after Caddy refused them). */
export function renderInput(evaluated: EvaluatedSet, excluded: ReadonlySet<string>): Parameters<typeof render>[0] {
  const ingresses = excluded.size === 0 ? evaluated.ingresses : evaluated.ingresses.filter((i) => !excluded.has(i.id));
  return { ingresses, instances: evaluated.instances };
}
