/**
 * File-local rules of a rule's routing fields (paths, several targets, load balancing, health
 * checks): what the schema cannot say. Pure; never throws; every issue has a JSON pointer into the
 * manifest and a fix. The schema already checked types, ranges, enums and duration syntax.
 */
import { isPattern, templateCaptures } from '../model/hostname.js';
import { issue, pointer, type Issue } from '../model/issues.js';
import type { Rule } from '../model/resource.js';
import { targetsOf } from '../model/routing.js';

const MATCH_PATH = /^\/[^\s?#*]*$/;

/**
 * Why Caddy would never match `path` as written (it is valid in form), with the fix; undefined when
 * it would. Caddy fills `{placeholders}` in path matchers (an unknown one becomes empty), compares
 * the request's cleaned path (no `.`/`..` segments, no empty ones), and compares escapes as written.
 */
function unmatchablePath(path: string): string | undefined {
  if (/[{}]/.test(path)) return 'holds { or }, which Caddy reads as a placeholder (an unknown one becomes empty); remove them';
  if (path.includes('%')) return 'holds a %-escape; write the characters themselves (/café, not /caf%C3%A9): paths are compared decoded';
  const segments = path.slice(1).split('/');
  if (segments.some((s) => s === '.' || s === '..')) return 'holds a . or .. segment, which never reaches Caddy (request paths are cleaned first); write the path it resolves to';
  if (segments.slice(0, -1).some((s) => s === '')) return 'holds an empty segment (//), which never reaches Caddy (request paths are cleaned first); write single slashes';
  return undefined;
}

/**
 * Issues of rule `i`'s routing fields:
 * - exactly one of `target` and `targets`, and `targets` not empty;
 * - `match.path` an absolute path without `?`, `#`, `*` or spaces, and one Caddy can match (see
 *   `unmatchablePath`); `path_type` only with a path;
 * - `strip_path_prefix` only with a path;
 * - `weight` only under `weighted_round_robin`;
 * - the same instance and port at most once among the targets;
 * - active health checks only on targets Caddy can name before a request comes (no templates).
 */
export function validateRouting(rule: Rule, i: number): Issue[] {
  const at = (...tokens: (string | number)[]): string => pointer('rules', i, ...tokens);
  const issues: Issue[] = [];
  if (rule.target !== undefined && rule.targets !== undefined) {
    issues.push(issue('invalid_request', at('targets'), 'give either "target" (one instance) or "targets" (several), not both; move the target into the targets list'));
  } else if (rule.target === undefined && rule.targets === undefined) {
    issues.push(issue('invalid_request', at('target'), `missing required field "target" in rules[${i}]; add "target": {"instance": "my-api", "port": 8080}, or "targets": [...] for several`));
  } else if (rule.targets?.length === 0) {
    issues.push(issue('invalid_request', at('targets'), 'targets must list at least one target such as {"instance": "api-1", "port": 8080}; remove "targets" or add one'));
  }
  const { path, path_type: pathType } = rule.match;
  if (path !== undefined && !MATCH_PATH.test(path)) {
    issues.push(issue('invalid_request', at('match', 'path'), `path ${JSON.stringify(path)} must be an absolute path such as /api: it starts with / and holds no spaces, ?, # or * (a prefix matches whole segments below it)`));
  } else if (path !== undefined) {
    const unmatchable = unmatchablePath(path);
    if (unmatchable !== undefined) issues.push(issue('invalid_request', at('match', 'path'), `path ${JSON.stringify(path)} ${unmatchable}`));
  }
  if (pathType !== undefined && path === undefined) {
    issues.push(issue('invalid_request', at('match', 'path_type'), `path_type "${pathType}" needs a path; add "path": "/api" to match, or remove path_type`));
  }
  if (rule.strip_path_prefix === true && path === undefined) {
    issues.push(issue('invalid_request', at('strip_path_prefix'), 'strip_path_prefix removes match.path from the request, but this rule has no path; add "path" to match or remove strip_path_prefix'));
  }
  issues.push(...checkTargets(rule, at));
  return issues;
}

function checkTargets(rule: Rule, at: (...tokens: (string | number)[]) => string): Issue[] {
  const issues: Issue[] = [];
  const targets = targetsOf(rule);
  const tokens = (j: number): (string | number)[] => (rule.targets === undefined ? ['target'] : ['targets', j]);
  const weighted = rule.load_balancing?.policy === 'weighted_round_robin';
  const seen = new Map<string, number>();
  targets.forEach((target, j) => {
    if (target.weight !== undefined && !weighted) {
      const policy = rule.load_balancing?.policy === undefined ? 'no policy (round_robin)' : `policy ${rule.load_balancing.policy}`;
      issues.push(issue('invalid_request', at(...tokens(j), 'weight'), `weight needs "load_balancing": {"policy": "weighted_round_robin"}, but this rule has ${policy}; set that policy or remove the weight`));
    }
    const key = `${target.instance.toLowerCase()}:${target.port}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, j);
    else issues.push(issue('invalid_request', at(...tokens(j)), `target ${j} repeats ${target.instance}:${target.port} (target ${first}); list each instance and port once, and use weights for unequal shares`));
  });
  // Caddy keys an upstream's health by its dial text before placeholders are filled: every
  // instance of a template target would share one state (one instance failing takes all down),
  // and active checks need the targets before any request comes.
  if (rule.health_check !== undefined && isPattern(rule.match.hostname) && targets.some((t) => templateCaptures(t.instance).length > 0)) {
    issues.push(
      issue('invalid_request', at('health_check'), 'health checks need targets known before a request comes, but this pattern rule picks its instance per request ({captures}), and Caddy would keep one health state for all of them (one failing instance would take every instance of the pattern out); remove health_check here, or list literal instances'),
    );
  }
  return issues;
}
