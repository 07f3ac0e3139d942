import type { SizeContext } from '../harness/context.js';
import type { Figure } from '../harness/figures.js';

/** One scenario of the issue: runs against the N set up in `ctx` and returns its figures. */
export interface Scenario {
  /** The issue's number, 1-9; 10 is issue 12's WebSockets scenario, 11 issue 14's hosts × paths, 12 issue 15's policies. */
  readonly id: number;
  /** Short name accepted by `--only` (as is the number). */
  readonly name: string;
  run(ctx: SizeContext): Promise<Figure[]>;
}
