/** Prints figures as a plain-text table (one row per figure), for the terminal and the report. */
import type { Figure, Unit } from './figures.js';
import type { Summary } from './stats.js';

const HEADERS = ['scenario', 'N', 'figure', 'ingressd: median [min–max] ×runs', 'Caddy-only figure (same run)', 'ratio', 'target', 'met', 'notes'] as const;

/** The whole table as text, rows in the order given. */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map(rowOf);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(HEADERS), rule, ...rows.map(line)].join('\n');
}

function rowOf(f: Figure): string[] {
  const ref = f.reference === undefined ? '—' : `${f.reference.label}: ${formatSummary(f.reference.value, f.unit)}`;
  const met = f.target === undefined || f.target.pass === undefined ? '' : f.target.pass ? 'yes' : 'MISSED';
  return [
    f.scenario,
    f.n.toLocaleString('en-US'),
    f.name,
    formatSummary(f.value, f.unit),
    ref,
    f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`,
    f.target?.text ?? '—',
    met,
    f.note ?? '',
  ];
}

/** `12.3 ms [10.1–15.0] ×7`; a single run prints without the range. */
export function formatSummary(s: Summary, unit: Unit): string {
  if (s.runs === 0 || Number.isNaN(s.median)) return 'n/a';
  const suffix = unit === 'count' || unit === 'bool' || unit === 'x' ? '' : ` ${unit}`;
  const v = (x: number): string => formatNumber(x, unit);
  if (s.runs === 1 || s.min === s.max) return `${v(s.median)}${suffix}${s.runs > 1 ? ` ×${s.runs}` : ''}`;
  return `${v(s.median)}${suffix} [${v(s.min)}–${v(s.max)}] ×${s.runs}`;
}

export function formatNumber(x: number, unit: Unit): string {
  switch (unit) {
    case 'bool':
      return x === 1 ? 'true' : 'false';
    case 'count':
    case 'req/s':
      return Math.round(x).toLocaleString('en-US');
    case 'x':
      return `${x.toFixed(2)}×`;
    case 'MB':
    case 'KiB':
      return x.toFixed(1);
    case 'ms':
      return Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 10 ? x.toFixed(1) : x.toFixed(2);
  }
}
