/**
 * File-local rules of a rule's policy fields (see model/policies.ts): what the schema cannot say.
 * Pure; never throws; every issue has a JSON pointer into the manifest and a fix. The schema
 * already refused unknown fields and sizes not written as a number with a unit (`"ten"`).
 */
import { issue, pointer, type Issue } from '../model/issues.js';
import { cidrProblem, HEADER_NAME, HEADER_VALUE, MAX_BODY_BYTES, parseByteSize } from '../model/policies.js';
import type { HeaderOps, Rule } from '../model/resource.js';

/**
 * Issues of rule `i`'s policies:
 * - IP filter entries that are IPv4/IPv6 addresses or CIDRs (`10.0.0.0/33` is refused);
 * - a body limit above 0 and at most 1 TiB;
 * - header names that are HTTP tokens, values without control characters, and each name in one
 *   operation of a side at most (Caddy applies add, set, delete in that order, so a name both set
 *   and deleted would silently lose the set).
 */
export function validatePolicies(rule: Rule, i: number): Issue[] {
  const at = (...tokens: (string | number)[]): string => pointer('rules', i, ...tokens);
  const issues: Issue[] = [];
  if (rule.max_request_body !== undefined) {
    const bytes = parseByteSize(rule.max_request_body);
    if (bytes === undefined) {
      issues.push(issue('invalid_request', at('max_request_body'), `max_request_body ${JSON.stringify(rule.max_request_body)} must be a size such as 10MB or 512KiB`));
    } else if (bytes === 0) {
      issues.push(issue('invalid_request', at('max_request_body'), 'max_request_body 0 would refuse every request with a body; give a size such as 10MB, or remove the field for no limit'));
    } else if (bytes > MAX_BODY_BYTES) {
      issues.push(issue('invalid_request', at('max_request_body'), `max_request_body ${rule.max_request_body} is above the largest limit, 1TiB; give a smaller size, or remove the field for no limit`));
    }
  }
  for (const field of ['allow_ips', 'deny_ips'] as const) {
    (rule[field] ?? []).forEach((text, j) => {
      const problem = cidrProblem(text);
      if (problem !== undefined) issues.push(issue('invalid_request', at(field, j), `${field}[${j}] ${JSON.stringify(text)} ${problem}`));
    });
  }
  for (const side of ['request', 'response'] as const) {
    const ops = rule.headers?.[side];
    if (ops !== undefined) issues.push(...checkHeaderOps(ops, (...t) => at('headers', side, ...t)));
  }
  return issues;
}

function checkHeaderOps(ops: HeaderOps, at: (...tokens: (string | number)[]) => string): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, string>();
  const name = (text: string, where: string, path: string): void => {
    if (!HEADER_NAME.test(text)) {
      issues.push(issue('invalid_request', path, `header name ${JSON.stringify(text)} is not an HTTP token: use letters, digits and - (such as X-Request-Id), with no spaces, colons or other separators`));
      return;
    }
    const first = seen.get(text.toLowerCase());
    if (first !== undefined) issues.push(issue('invalid_request', path, `header ${text} is already in "${first}" of this side; name a header in one of set, add and delete only (Caddy adds, then sets, then deletes)`));
    else seen.set(text.toLowerCase(), where);
  };
  for (const op of ['set', 'add'] as const) {
    for (const [key, value] of Object.entries(ops[op] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      name(key, op, at(op, key));
      if (!HEADER_VALUE.test(value)) issues.push(issue('invalid_request', at(op, key), `the value of header ${key} holds a line break or another control character, which would split the header; remove it`));
    }
  }
  (ops.delete ?? []).forEach((key, j) => name(key, 'delete', at('delete', j)));
  return issues;
}
