/** Summaries of repeated measurements: median with min and max, and percentiles of samples. Pure. */

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many values the summary is made of. */
  readonly runs: number;
}

/** Median, min and max of the finite `values` (NaN marks a run that produced no value); NaN everywhere when none. */
export function summarize(values: readonly number[]): Summary {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  return { median: percentileOfSorted(sorted, 50), min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

/** A single observation as a summary (runs = 1). */
export function single(value: number): Summary {
  return { median: value, min: value, max: value, runs: 1 };
}

/** The p-th percentile (0-100) of `values` with linear interpolation; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted([...values].sort((a, b) => a - b), p);
}

/** Same as `percentile` for input that is already sorted ascending (not checked). */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low]!;
  const b = sorted[high]!;
  return a + (b - a) * (rank - low);
}

/** Sum of a list. */
export function sum(values: readonly number[]): number {
  return values.reduce((acc, v) => acc + v, 0);
}
