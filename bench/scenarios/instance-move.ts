/**
 * 5. Instance move: inst0's address changes (in the default dns upstream mode). Time until h0's
 * traffic reaches the new address, and Caddy writes (must be 0), beside the floor: what one
 * Caddy reload would cost at this N.
 */
import { figuresOf, reference } from '../harness/figures.js';
import { measureInstanceMove } from '../harness/instance-move.js';
import { summarize } from '../harness/stats.js';
import type { Scenario } from './types.js';

export const instanceMoveScenario: Scenario = {
  id: 5,
  name: 'instance-move',
  async run(ctx) {
    const floor = await ctx.floor();
    const move = await measureInstanceMove(ctx, ctx.plan.moveReps);
    ctx.moves.set('dns', move);
    const time = summarize(move.timesMs);
    const writes = summarize(move.writes);
    return figuresOf('5 instance move', ctx.n, [
      {
        name: 'address changed → traffic moved',
        unit: 'ms',
        value: time,
        reference: reference('Caddy POST /load (floor)', floor),
        target: { text: '≤ 2 s', pass: time.runs === move.timesMs.length && time.median <= 2000 },
        note: time.runs === move.timesMs.length ? undefined : `${move.timesMs.length - time.runs} moves not seen within 30 s`,
      },
      { name: 'Caddy writes per move', unit: 'count', value: writes, target: { text: '0', pass: writes.max === 0 } },
      {
        name: 'failed requests, untouched host',
        unit: 'count',
        value: move.failed,
        note: `4 keep-alive loops, of ${move.requests.toLocaleString('en-US')}${errorsNote(move.errors)}`,
      },
    ]);
  },
};

export function errorsNote(errors: Readonly<Record<string, number>>): string {
  const parts = Object.entries(errors).map(([code, count]) => `${code} ${count}`);
  return parts.length === 0 ? '' : `; ${parts.join(', ')}`;
}
