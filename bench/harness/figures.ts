/**
 * A figure: one measured quantity of ingressd at one N, beside the Caddy-only figure measured in
 * the same run, with the target and whether it was met.
 */
import { single, type Summary } from './stats.js';

export type Unit = 'ms' | 'MB' | 'KiB' | 'count' | 'req/s' | 'x' | 'bool';

export interface Target {
  /** The target as the issue states it, e.g. `≤ 1.2× floor`. */
  readonly text: string;
  /** undefined when the target does not apply at this N (e.g. "at N=10,000"). */
  readonly pass: boolean | undefined;
}

export interface Reference {
  /** What the Caddy-only figure is, e.g. `Caddy POST /load (floor)`. */
  readonly label: string;
  readonly value: Summary;
}

export interface Figure {
  readonly scenario: string;
  readonly n: number;
  readonly name: string;
  readonly unit: Unit;
  readonly value: Summary;
  readonly reference: Reference | undefined;
  /** value.median / reference.value.median, when both exist and the reference is not 0. */
  readonly ratio: number | undefined;
  readonly target: Target | undefined;
  readonly note: string | undefined;
}

export interface FigureInput {
  readonly name: string;
  readonly unit: Unit;
  readonly value: Summary | number;
  readonly reference?: Reference;
  readonly target?: Target;
  readonly note?: string;
}

/** Builds the figures of one scenario at one N; `ratio` is computed here, nowhere else. */
export function figuresOf(scenario: string, n: number, inputs: readonly FigureInput[]): Figure[] {
  return inputs.map((input) => {
    const value = typeof input.value === 'number' ? single(input.value) : input.value;
    const ref = input.reference;
    const ratio = ref !== undefined && ref.value.median !== 0 && Number.isFinite(ref.value.median) ? value.median / ref.value.median : undefined;
    return { scenario, n, name: input.name, unit: input.unit, value, reference: ref, ratio, target: input.target, note: input.note };
  });
}

/** A target that applies only at one N (the "at N=10,000" targets). */
export function targetAt(n: number, onlyAt: number, text: string, pass: boolean): Target {
  return n === onlyAt ? { text, pass } : { text: `${text} (at N=${onlyAt.toLocaleString('en-US')})`, pass: undefined };
}

/** A target set for some sizes only (e.g. N=10,000 and N=100,000), each with its own bound. */
export function targetBySize(n: number, bySize: readonly { readonly at: number; readonly text: string; readonly pass: boolean }[]): Target {
  const here = bySize.find((t) => t.at === n);
  if (here !== undefined) return { text: here.text, pass: here.pass };
  return { text: bySize.map((t) => `${t.text} (at N=${t.at.toLocaleString('en-US')})`).join('; '), pass: undefined };
}

export function reference(label: string, value: Summary | number): Reference {
  return { label, value: typeof value === 'number' ? single(value) : value };
}
