/**
 * `desiredState`, kept up to date from what changed, for the running ingressd: the incremental
 * evaluator and renderer re-judge and re-render only what a change touches, and a cross-check now
 * and then compares them with the full pipeline. Only fast-path evaluations can drift from a full
 * one, so a state reached without any has nothing to check.
 */
import { stableStringify } from '../model/canonical.js';
import type { JsonObject } from '../model/json.js';
import type { Manifest } from '../model/manifest.js';
import type { RenderSettings } from '../model/settings.js';
import { IncrementalRenderer, type IncrementalResult } from '../render/incremental.js';
import { render } from '../render/index.js';
import type { ClaimsFn } from './claims.js';
import { renderInput } from './desired-state.js';
import { diffConfig } from './diff.js';
import { IncrementalEvaluator, type EvaluationPath } from './evaluate-incremental.js';
import { evaluate, type EvaluatedSet, type Evaluation } from './evaluate.js';
import { sameEvaluation } from './evaluated-set.js';

export interface IncrementalDesiredStateOptions {
  /** What a resource claims, for the incremental evaluator only (tests break it on purpose). @default claimsOf */
  readonly claims?: ClaimsFn;
}

/** What a cross-check found; both lists empty when the incremental state matched the full pipeline. */
export interface CrossCheckReport {
  /** Files whose judgement (accepted, issues) differs, sorted. */
  readonly files: readonly string[];
  /** Owned config sections that differ (`servers/<name>`, `tls_policies`, …), when the judgements agree. */
  readonly sections: readonly string[];
}

export class IncrementalDesiredState {
  #settings: RenderSettings;
  readonly #claims: ClaimsFn | undefined;
  #evaluator: IncrementalEvaluator;
  #renderer: IncrementalRenderer;
  #uncheckedFast = 0;
  /** The last render and its inputs: a resync at rest renders the same thing (~60 ms at 100,000). */
  #lastRender: { readonly evaluated: EvaluatedSet; readonly excluded: ReadonlySet<string>; readonly result: IncrementalResult } | undefined;

  constructor(settings: RenderSettings, options: IncrementalDesiredStateOptions = {}) {
    this.#settings = settings;
    this.#claims = options.claims;
    this.#evaluator = new IncrementalEvaluator(this.#claims === undefined ? {} : { claims: this.#claims });
    this.#renderer = new IncrementalRenderer(settings);
  }

  get settings(): RenderSettings {
    return this.#settings;
  }

  /**
   * Renders for `settings` from now on (another Caddy was found: an upgrade). The next `render` is a
   * full one; evaluations are kept unless the TLS settings changed (they judge TLS rules).
   */
  useSettings(settings: RenderSettings): void {
    if (settings.tls !== this.#settings.tls) this.#evaluator = new IncrementalEvaluator(this.#claims === undefined ? {} : { claims: this.#claims });
    this.#settings = settings;
    this.#renderer = new IncrementalRenderer(settings);
    this.#lastRender = undefined;
  }

  /** Fast-path evaluations since the last cross-check or reset: what a cross-check would verify. */
  get uncheckedFastEvaluations(): number {
    return this.#uncheckedFast;
  }

  /** As `IncrementalEvaluator.evaluate` (same contract), with this pipeline's TLS settings. */
  evaluate(
    manifests: ReadonlyMap<string, Manifest>,
    changed: ReadonlySet<string>,
    acceptedSince: ReadonlyMap<string, number>,
    sinceChanges?: ReadonlyMap<string, number | undefined>,
  ): EvaluatedSet {
    const evaluated = this.#evaluator.evaluate(manifests, changed, acceptedSince, this.#settings.tls, sinceChanges);
    if (this.#evaluator.lastPath === 'fast') this.#uncheckedFast++;
    return evaluated;
  }

  /** How the last `evaluate` got its answer: `fast` changed only the verdicts of the files it was told changed. */
  get lastPath(): EvaluationPath | undefined {
    return this.#evaluator.lastPath;
  }

  /** `render(renderInput(evaluated, excluded))`'s config and warnings, re-rendering only what changed. */
  render(evaluated: EvaluatedSet, excluded: ReadonlySet<string>): IncrementalResult {
    const last = this.#lastRender;
    // An evaluation is never changed in place: the same object (and the same exclusions) renders the same.
    if (last !== undefined && last.evaluated === evaluated && sameSet(last.excluded, excluded)) return last.result;
    const result = this.#renderer.render(renderInput(evaluated, excluded, this.#settings));
    this.#lastRender = { evaluated, excluded: new Set(excluded), result };
    return result;
  }

  /**
   * Compares `evaluated` (this pipeline's last answer for `manifests` and `acceptedSince`) and
   * `config` (its render without `excluded`) with the full pipeline for the same inputs. On a
   * difference it forgets its state, so the next `evaluate` and `render` are full ones. Costs a
   * full evaluation and render.
   */
  crossCheck(manifests: ReadonlyMap<string, Manifest>, acceptedSince: ReadonlyMap<string, number>, evaluated: EvaluatedSet, config: JsonObject, excluded: ReadonlySet<string>): CrossCheckReport {
    this.#uncheckedFast = 0;
    const full = evaluate([...manifests.values()], acceptedSince, this.#settings.tls);
    const files = differingFiles(evaluated, full);
    let sections: readonly string[] = [];
    if (files.length === 0) {
      const reference = render(renderInput(full, excluded, this.#settings), this.#settings).config;
      if (stableStringify(reference) !== stableStringify(config)) sections = diffConfig(config, reference).changed;
    }
    if (files.length > 0 || sections.length > 0) this.reset();
    return { files, sections };
  }

  /** Forgets everything: the next `evaluate` and `render` start from scratch. */
  reset(): void {
    this.#evaluator = new IncrementalEvaluator(this.#claims === undefined ? {} : { claims: this.#claims });
    this.#renderer = new IncrementalRenderer(this.#settings);
    this.#uncheckedFast = 0;
    this.#lastRender = undefined;
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function differingFiles(incremental: EvaluatedSet, full: EvaluatedSet): string[] {
  const files = new Set<string>();
  const same = (a: Evaluation | undefined, b: Evaluation | undefined): boolean =>
    a !== undefined && b !== undefined && (a === b || (a.accepted === b.accepted && sameEvaluation({ ...a, manifest: b.manifest }, b)));
  for (const [file, evaluation] of full.byFile) if (!same(incremental.byFile.get(file), evaluation)) files.add(file);
  for (const file of incremental.byFile.keys()) if (!full.byFile.has(file)) files.add(file);
  // The lists the renderer reads must hold the same resources too.
  const ids = (set: EvaluatedSet): string => [...set.ingresses, ...set.instances].map((r) => r.id).join('\u0000');
  if (files.size === 0 && ids(incremental) !== ids(full)) for (const file of full.fileById.values()) files.add(file);
  return [...files].sort();
}
