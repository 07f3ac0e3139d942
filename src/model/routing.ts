/**
 * What a rule's routing fields mean, shared by validation, the conflict model, render and status:
 * one definition of a rule's path match and of its targets. Pure.
 *
 * Path semantics (Kubernetes Gateway API's HTTPRoute path matching):
 * - `prefix` matches whole segments: `/api` matches `/api`, `/api/` and `/api/v1`, never `/apis`.
 *   Trailing slashes of the prefix are ignored (`/api/` is `/api`), and the prefix `/` is the same
 *   as no path (the whole host).
 * - `exact` matches the path as written, trailing slash included.
 * Caddy compares paths without regard to case (`/API` matches `/api`): so does the conflict model.
 * On one host and port, exact paths are tried first, then prefixes from the longest to the
 * shortest, then the host's catch-all rule (see `comparePathMatches`).
 */
import { hasPolicies } from './policies.js';
import type { PathType, Rule, RuleTarget } from './resource.js';

/** A rule's path match, normalised; undefined for a rule that serves the whole host. */
export interface PathMatch {
  readonly type: PathType;
  /** Starts with `/`; for prefixes without trailing slashes, never `/` itself. */
  readonly path: string;
}

/** The rule's path match (see the header), or undefined when it serves every path. */
export function pathMatchOf(rule: Pick<Rule, 'match'>): PathMatch | undefined {
  const { path, path_type: type = 'prefix' } = rule.match;
  if (path === undefined) return undefined;
  if (type === 'exact') return { type, path };
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.length === 0 ? undefined : { type, path: trimmed };
}

/**
 * The key of a path match inside a claim slot: `` for the whole host. Lowercased: Caddy's path
 * matchers compare without regard to case, so `/API` and `/api` are one path and must conflict.
 */
export function pathKey(match: PathMatch | undefined): string {
  return match === undefined ? '' : `${match.type}\u0000${match.path.toLowerCase()}`;
}

/** `prefix /api`, `exact /api/v1`, or `every path`: for messages. */
export function describePath(match: PathMatch | undefined): string {
  return match === undefined ? 'every path' : `${match.type} path ${match.path}`;
}

/**
 * The order Caddy must try rules of one host in: exact paths first, then prefixes longest first,
 * then the catch-all (undefined); ties by path text, so the order is total and deterministic.
 */
export function comparePathMatches(a: PathMatch | undefined, b: PathMatch | undefined): number {
  const rank = (m: PathMatch | undefined): number => (m === undefined ? 2 : m.type === 'exact' ? 0 : 1);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0 || a === undefined || b === undefined) return byRank;
  if (a.type === 'prefix' && a.path.length !== b.path.length) return b.path.length - a.path.length;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Every target of a rule, whether written as `target` or `targets`, in manifest order. */
export function targetsOf(rule: Pick<Rule, 'target' | 'targets'>): readonly RuleTarget[] {
  return rule.targets ?? (rule.target === undefined ? [] : [rule.target]);
}

/** The JSON pointer tokens of target `index` of a rule: `target` or `targets/<index>`. */
export function targetTokens(rule: Pick<Rule, 'targets'>, index: number): (string | number)[] {
  return rule.targets === undefined ? ['target'] : ['targets', index];
}

/**
 * True when a rule uses only the original shape (one target, whole host, no proxy options, no
 * policies): it
 * renders exactly as before routing existed, grouped with other hosts of the same upstream.
 */
export function isPlainRule(rule: Rule): boolean {
  const targets = targetsOf(rule);
  return (
    pathMatchOf(rule) === undefined &&
    targets.length === 1 &&
    targets[0]!.weight === undefined &&
    rule.load_balancing === undefined &&
    rule.health_check === undefined &&
    rule.strip_path_prefix !== true &&
    !hasPolicies(rule)
  );
}
