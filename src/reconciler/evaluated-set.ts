/**
 * Small edits of an `EvaluatedSet`'s parts for the incremental evaluator: each returns a new value
 * (or the old one when nothing changed), never mutating its inputs.
 */
import type { Issue } from '../model/issues.js';
import type { Resource } from '../model/resource.js';
import type { Candidate, Evaluation } from './evaluate.js';
import { LayeredMap } from './layered-map.js';

/**
 * `list` (sorted by unique name) without `removed` and with `added`, as a new array; `list` itself
 * when both are empty. Undefined when a removed resource is not in `list` (the state is off).
 */
export function withChanges<T extends Resource>(list: readonly T[], removed: readonly T[], added: readonly T[]): readonly T[] | undefined {
  if (removed.length === 0 && added.length === 0) return list;
  const next = list.slice();
  for (const resource of removed) {
    const at = lowerBound(next, resource.name);
    if (next[at] !== resource) return undefined;
    next.splice(at, 1);
  }
  for (const resource of added) next.splice(lowerBound(next, resource.name), 0, resource);
  return next;
}

/** Index of the first resource in `list` whose name is not before `name` (the order of `byName`). */
function lowerBound(list: readonly Resource[], name: string): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]!.name < name) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * `fileById` without the ids of `removed` and with those of `added`, as a new map sharing the old
 * one's entries; `fileById` itself when that changes no entry (an edit that keeps its name keeps its id).
 */
export function withIds(fileById: ReadonlyMap<string, string>, removed: readonly Resource[], added: readonly Candidate[]): ReadonlyMap<string, string> {
  const updates = new Map<string, string | undefined>(removed.map((resource) => [resource.id, undefined]));
  for (const { file, resource } of added) updates.set(resource.id, file);
  const set = [...updates].flatMap(([id, file]) => (file === undefined ? [] : [[id, file] as const]));
  const deleted = [...updates].flatMap(([id, file]) => (file === undefined ? [id] : []));
  return LayeredMap.of(fileById).with(set, deleted);
}

export function sameEvaluation(a: Evaluation, b: Evaluation): boolean {
  return a.manifest === b.manifest && a.accepted === b.accepted && sameIssues(a.issues, b.issues);
}

function sameIssues(a: readonly Issue[], b: readonly Issue[]): boolean {
  if (a === b) return true;
  return a.length === b.length && a.every((x, i) => x.code === b[i]!.code && x.path === b[i]!.path && x.message === b[i]!.message);
}

