/**
 * Condition 3 of the incremental evaluator's fast path (see evaluate-incremental.ts): whether a
 * change of acceptedSince alone may change who wins a slot or a contested port.
 */
import type { Resource } from '../model/resource.js';
import { byPrecedence, type Candidate } from './evaluate.js';
import type { ContestedPort, Holdings } from './holdings.js';

/** What `reordered` needs to know of a file: its candidate, and whether it was accepted. */
export interface JudgedFile {
  readonly candidate: Resource | undefined;
  readonly evaluation: { readonly accepted: boolean };
}

/**
 * Condition 3: true when an acceptedSince change (`sinceChanges`: previous values) may reorder an
 * unedited candidate and a rival across the accepted/rejected line, or change a contested port's holder.
 */
export function reordered(
  files: ReadonlyMap<string, JudgedFile>,
  holdings: Holdings,
  edited: ReadonlySet<string>,
  acceptedSince: ReadonlyMap<string, number>,
  sinceChanges: ReadonlyMap<string, number | undefined>,
): boolean {
  if (sinceChanges.size === 0 || !holdings.anyRejected) return false;
  const before = byPrecedence({ get: (file) => (sinceChanges.has(file) ? sinceChanges.get(file) : acceptedSince.get(file)) });
  const after = byPrecedence(acceptedSince);
  /** True when `self` and the candidate in file `rival` swap places (or there is none: be safe). */
  const flips = (self: Candidate, rival: string): boolean => {
    const resource = files.get(rival)?.candidate;
    if (resource === undefined) return true;
    const other = { file: rival, resource };
    return before(self, other) < 0 !== after(self, other) < 0;
  };
  /** True when `self` moving may change a contested port's holder, or whether it comes before a rejected wanter. */
  const movesPort = (self: Candidate, accepted: boolean, { holder, wanters }: ContestedPort): boolean => {
    if (holder === undefined) return true;
    if (!accepted) return flips(self, holder.file);
    if (holder.file !== self.file) return after(self, holder) < 0;
    return movedLater(sinceChanges.get(self.file), acceptedSince.get(self.file)) || [...wanters].some((wanter) => flips(self, wanter));
  };
  for (const file of sinceChanges.keys()) {
    const state = files.get(file);
    if (state?.candidate === undefined || edited.has(file)) continue;
    const self = { file, resource: state.candidate };
    const { accepted } = state.evaluation;
    if (holdings.slotRivals(state.candidate, accepted).some((rival) => flips(self, rival))) return true;
    if (holdings.contestedPorts(state.candidate, accepted).some((port) => movesPort(self, accepted, port))) return true;
  }
  return false;
}

/** True when an acceptedSince change from `before` to `after` moves a file later in precedence. */
function movedLater(before: number | undefined, after: number | undefined): boolean {
  return before !== undefined && (after === undefined || after > before);
}
