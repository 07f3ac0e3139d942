/**
 * Caddy durations as manifests write them (the schema's `duration`: `5s`, `1m30s`, `250ms`, `1d`):
 * Go's units plus Caddy's `d` (24 h). Pure.
 *
 * `controller/duration.ts` reads the environment's durations, which do not take `d`; this one
 * reads what Caddy itself will parse from a manifest field.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;

/** Milliseconds of `text` (fractions kept: `1ns` is 1e-6), or undefined when it is not a Caddy duration. */
export function parseCaddyDurationMs(text: string): number | undefined {
  if (text.length === 0) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null || m.index !== start) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}
