/**
 * What one Caddy sync did, as returned to the caller and logged: one line per sync (which owned
 * sections changed, the Caddy write or none, the duration and its stages) and one warning per
 * cause of left-out ingresses, never one per ingress (a busy port can take thousands out).
 */
import type { Logger } from '../model/logger.js';
import type { EvaluatedSet } from './evaluate.js';
import type { CrossCheckReport } from './incremental-desired-state.js';
import type { ProgramState } from './status-types.js';

export interface CaddySyncResult {
  readonly writes: number;
  /** `GET /config/` requests made: 0 when the config ingressd last wrote was trusted. */
  readonly reads: number;
  /** Owned sections that differed from Caddy's config (`servers/<name>`, `tls_policies`, ...). */
  readonly changed: readonly string[];
  readonly durationMs: number;
  readonly excluded: number;
  /** Status files may be out of date: a status pass follows (the sync does not wait for 10,000 files). */
  readonly statusPending: boolean;
  /** True while some TLS hostname has no certificate yet (the sync is repeated soon). */
  readonly certificatesPending: boolean;
  /** True while some accepted rule has health checks (the sync is repeated to follow Caddy's verdicts). */
  readonly healthChecked: boolean;
  /** Render warnings for the config applied (rules rendered other than they asked). */
  readonly warnings: number;
  /** Present when this sync cross-checked the incremental state against a full evaluation. */
  readonly crossCheck?: CrossCheckReport;
  /** Milliseconds per stage: evaluate, render, read (GET /config/, or the ETag of ingressd's own write), diff, write. */
  readonly timings: Readonly<Record<'evaluateMs' | 'renderMs' | 'readMs' | 'diffMs' | 'writeMs', number>>;
}

export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * `routine`: the sync was a poll (health verdicts every 10 s, a pending certificate every 2 s); one
 * that found nothing to change is logged at debug, so a terminal is not filled with no-op lines.
 */
export function logSync(logger: Logger, result: CaddySyncResult, evaluated: EvaluatedSet, excluded: ReadonlyMap<string, ProgramState>, preExcluded: ReadonlyMap<string, ProgramState>, routine = false): void {
  const { crossCheck, ...shown } = result;
  const quiet = routine && result.writes === 0 && result.changed.length === 0;
  (quiet ? logger.debug : logger.info).call(logger, result.writes > 0 ? 'reconciled: Caddy updated' : 'reconciled: Caddy already up to date', {
    ...shown,
    ...(crossCheck === undefined ? {} : { crossChecked: true }),
    durationMs: roundMs(result.durationMs),
    ingresses: evaluated.ingresses.length,
    instances: evaluated.instances.length,
    rejected: countRejected(evaluated),
  });
  const causes = new Map<string, string[]>();
  for (const [id, state] of excluded) {
    if (preExcluded.has(id)) continue;
    const key = `${state.reason}\u0000${state.message}`;
    causes.set(key, [...(causes.get(key) ?? []), evaluated.fileById.get(id) ?? id]);
  }
  for (const [key, files] of causes) {
    const [reason, detail] = key.split('\u0000');
    logger.warn('Caddy cannot serve these ingresses; they are left out, everything else is applied', { reason, detail, count: files.length, files: files.sort().slice(0, 10) });
  }
}

/** Counted once per evaluation (a walk over 100,000 verdicts is ~15 ms; a resync at rest logs the same set). */
const rejectedCounts = new WeakMap<EvaluatedSet, number>();

function countRejected(evaluated: EvaluatedSet): number {
  const known = rejectedCounts.get(evaluated);
  if (known !== undefined) return known;
  let rejected = 0;
  for (const evaluation of evaluated.byFile.values()) if (!evaluation.accepted) rejected++;
  rejectedCounts.set(evaluated, rejected);
  return rejected;
}
