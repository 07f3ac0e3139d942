/**
 * File-local rules of a rule's policy fields (see model/policies.ts): what the schema cannot say.
 * Pure; never throws; every issue has a JSON pointer into the manifest and a fix. The schema
 * already refused unknown fields and sizes not written as a number with a unit (`"ten"`).
 */
import { issue, pointer, type Issue } from '../model/issues.js';
import { MAX_BODY_BYTES, parseByteSize } from '../model/policies.js';
import type { Rule } from '../model/resource.js';

/** Issues of rule `i`'s policies: a body limit above 0 and at most 1 TiB. */
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
  return issues;
}
