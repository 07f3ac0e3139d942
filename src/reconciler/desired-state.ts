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
import type { Ingress } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import { render, type RenderWarning } from '../render/index.js';
import { servableIngress, unsupportedRules } from '../render/requirements.js';
import type { ProgramState } from './status-types.js';
import { evaluate, type EvaluatedSet } from './evaluate.js';
import { withLastValid, type LastValidEntry } from './last-valid.js';

export interface DesiredInput {
  readonly manifests: readonly Manifest[];
  /** Per manifest file, when it was first accepted (ms since the epoch); earlier holders win conflicts. */
  readonly acceptedSince: ReadonlyMap<string, number>;
  readonly settings: RenderSettings;
  /**
   * The last valid versions `run` recorded (FALLBACK=last-valid: read them from DATA_DIR with
   * `lastValidFiles`), keyed by file as `manifests` are: an invalid file's stands in for it, with
   * its precedence, as in `run`. Absent: none (FALLBACK=none).
   */
  readonly lastValid?: ReadonlyMap<string, LastValidEntry>;
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
  const { lastValid, settings } = input;
  const manifests = lastValid === undefined ? input.manifests : input.manifests.map((m) => withLastValid(m, lastValid.get(m.file), settings.tls));
  // A stand-in's status says Accepted=False, so the status files hold no precedence for it: its record does.
  const standIns = manifests.filter((m) => m.fallback !== undefined && !input.acceptedSince.has(m.file));
  const acceptedSince = standIns.length === 0 ? input.acceptedSince : new Map([...input.acceptedSince, ...standIns.map((m) => [m.file, m.fallback!.since] as const)]);
  const evaluated = evaluate(manifests, acceptedSince, settings.tls);
  return { evaluated, ...render(renderInput(evaluated, new Set(), input.settings), input.settings) };
}

/**
 * The accepted set's render input without the given ingress ids (left out after Caddy refused them),
 * and without the rules the Caddy in `settings` cannot serve (see `unsupportedStates`).
 */
export function renderInput(evaluated: EvaluatedSet, excluded: ReadonlySet<string>, settings: RenderSettings): Parameters<typeof render>[0] {
  const ingresses: Ingress[] = [];
  for (const ingress of evaluated.ingresses) {
    if (excluded.has(ingress.id)) continue;
    const servable = servableIngress(ingress, settings);
    if (servable !== undefined) ingresses.push(servable);
  }
  return { ingresses, instances: evaluated.instances };
}

/**
 * Ingresses with rules the Caddy in `settings` cannot serve → their `Programmed` state: False, with
 * `CaddyTooOld` or `CaddyModuleMissing` and what each such rule needs. Their other rules serve.
 */
export function unsupportedStates(ingresses: readonly Ingress[], settings: RenderSettings): Map<string, ProgramState> {
  const out = new Map<string, ProgramState>();
  for (const ingress of ingresses) {
    const unsupported = unsupportedRules(ingress, settings);
    if (unsupported.length === 0) continue;
    const served = ingress.rules.length - unsupported.length;
    const rest = served === 0 ? 'nothing of this ingress is served' : `its other ${served === 1 ? 'rule serves' : `${served} rules serve`}`;
    const message = unsupported.map((u) => `rule /rules/${u.index} (${ingress.rules[u.index]!.match.hostname}:${ingress.rules[u.index]!.match.port}) is not served: ${u.message}`).join('; ');
    out.set(ingress.id, { status: 'False', reason: unsupported[0]!.reason, message: `${message}; ${rest}` });
  }
  return out;
}
