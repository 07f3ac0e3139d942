/**
 * Moving an instance: inst0's manifest gets another address, and a prober on h0 waits for the
 * first answer from that address, while 4 keep-alive loops run on an untouched host (h2) to
 * count what the move costs other traffic. Shared by scenarios 5 and 9.
 */
import type { SizeContext } from './context.js';
import { answeredWithin } from './http-client.js';
import { singleGroup } from './load-protocol.js';
import { addressOf, instanceManifest, writeManifest } from './manifests.js';
import { BACKEND_ADDRESSES } from './ports.js';

export interface MoveResult {
  /** Manifest written → first answer from the new address, per move (NaN: not within 30 s). */
  readonly timesMs: readonly number[];
  /** Caddy writes per move. */
  readonly writes: readonly number[];
  /** Failed requests on the untouched host over all moves, and how many were made. */
  readonly failed: number;
  readonly requests: number;
  readonly errors: Readonly<Record<string, number>>;
}

/** `reps` moves of inst0 between its own address and the last backend's; even reps end where they began. */
export async function measureInstanceMove(ctx: SizeContext, reps: number): Promise<MoveResult> {
  const probe = ctx.workload.targets[0]!; // h0 → inst0
  const untouched = ctx.workload.targets[2]!; // h2 → inst2
  const moved = BACKEND_ADDRESSES[BACKEND_ADDRESSES.length - 1]!;
  const loops = await ctx.shared.load.begin(singleGroup([untouched], 4, 'first', { warmupMs: 0, durationMs: 0 }));
  const timesMs: number[] = [];
  const writes: number[] = [];
  try {
    for (let r = 0; r < reps; r++) {
      const address = r % 2 === 0 ? moved : addressOf(0);
      const before = await ctx.writes();
      const mark = ctx.ingressd.mark();
      const started = performance.now();
      await writeManifest(ctx.manifestDir, instanceManifest(0, address));
      const answered = await answeredWithin({ ...probe, backend: address }, 30_000);
      timesMs.push(answered === undefined ? Number.NaN : answered - started);
      await ctx.ingressd.waitForSet(mark, ctx.n);
      await ctx.ingressd.waitQuiet(300);
      writes.push((await ctx.writes()) - before);
    }
  } catch (err) {
    await loops.stop();
    await writeManifest(ctx.manifestDir, instanceManifest(0, addressOf(0)));
    throw err;
  }
  const result = await loops.stop();
  if (reps % 2 === 1) await writeManifest(ctx.manifestDir, instanceManifest(0, addressOf(0)));
  return { timesMs, writes, failed: result.failed, requests: result.requests, errors: result.errors };
}
