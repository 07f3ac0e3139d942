/**
 * Go-style durations, one scanner for both places they are written. Pure.
 * - Settings in the environment (`RESYNC_INTERVAL=2m`, `--wait 30s`): Go's units (`ns` … `h`),
 *   surrounding spaces ignored, a bare `0` allowed: what Go's time.ParseDuration takes.
 * - Manifest fields (the schema's `duration`: `5s`, `1m30s`, `250ms`, `1d`): the same plus Caddy's
 *   `d` (24 h), exactly as written: what Caddy itself will parse from the rendered config.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/y;

/** Milliseconds of an environment duration (fractions kept), or undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  return trimmed === '0' ? 0 : scan(trimmed, false);
}

/** Milliseconds of `text` (fractions kept: `1ns` is 1e-6), or undefined when it is not a Caddy duration. */
export function parseCaddyDurationMs(text: string): number | undefined {
  return scan(text, true);
}

function scan(text: string, days: boolean): number | undefined {
  if (text.length === 0) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null || m.index !== start || (m[2] === 'd' && !days)) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}
