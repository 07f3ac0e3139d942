/** `npm run bench -- [--quick] [--out FILE] [--only 1,burst,...] [--sizes 100,1000] [--keep]`. */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  readonly quick: boolean;
  /** undefined: bench-results/bench-<date>.json */
  readonly out: string | undefined;
  /** Scenario numbers or names; empty = all. */
  readonly only: readonly string[];
  /** undefined: 100 and 1,000 with --quick, plus 10,000 otherwise. */
  readonly sizes: readonly number[] | undefined;
  /** N = 100,000 with the scenarios that have targets there (1, 2, 3, 4, 7): `--sizes 100000 --only 1,2,3,4,7`. */
  readonly scale: boolean;
  /** Keep each N's temp directory (manifests, logs) instead of removing it. */
  readonly keep: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick            N = 100 and 1,000, fewer repetitions, every target row (under 2 minutes);
                     leaves out informational parts and bounds the wait for a quiet machine
                     (listed under the table; see bench/README.md)
  --out FILE         where to write the figures as JSON (default bench-results/bench-<date>.json)
  --only LIST        scenarios by number or name: 1 floor, 2 one-change, 3 burst, 4 at-rest,
                     5 instance-move, 6 routing, 7 footprint, 8 disruption, 9 upstream-modes,
                     10 websockets (Caddy RSS across writes with 100 open WebSockets; once, any N),
                     11 paths, 12 policies (a route with every policy beside a bare one)
  --sizes LIST       N values, e.g. 100,1000
  --scale            N = 100,000 with the scenarios that have targets there (1 floor, 2 one-change,
                     3 burst, 4 at-rest, 7 footprint): the same as --sizes 100000 --only 1,2,3,4,7
                     (about 15 minutes quiet; the full run stays at N ≤ 10,000)
  --keep             keep each N's temp directory (manifests, ingressd and Caddy logs)
`;

/** The size `--scale` measures, and the scenarios with targets at that size. */
export const SCALE_N = 100_000;
const SCALE_SCENARIOS = ['1', '2', '3', '4', '7'] as const;

/** Throws with a message naming the bad argument. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      sizes: { type: 'string' },
      keep: { type: 'boolean', default: false },
      scale: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const list = (text: string | undefined): string[] => (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const sizes = values.sizes === undefined ? undefined : list(values.sizes).map(Number);
  if (sizes !== undefined && (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 10))) {
    throw new Error(`--sizes must be a comma-separated list of integers ≥ 10, got "${values.sizes}"`);
  }
  if (values.scale && (sizes !== undefined || values.only !== undefined || values.quick)) throw new Error('--scale sets the sizes and scenarios itself: use it without --sizes, --only and --quick');
  if (values.scale) return { quick: false, out: values.out, only: [...SCALE_SCENARIOS], sizes: [SCALE_N], keep: values.keep, scale: true, help: values.help };
  return { quick: values.quick, out: values.out, only: list(values.only), sizes, keep: values.keep, scale: false, help: values.help };
}
