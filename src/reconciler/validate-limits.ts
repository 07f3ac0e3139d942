/**
 * File-local rules of a rule's `rate_limit` and `timeouts` (see model/rate-limit.ts, timeouts.ts): what the schema cannot say.
 * Pure; never throws; every issue has a JSON pointer into the manifest and a fix. The schema
 * already refused unknown fields, a missing `requests` or `window`, a `requests` that is not an
 * integer from 1, and a window that is not a duration (`"1 fortnight"`).
 */
import { issue, pointer, type Issue } from '../model/issues.js';
import { HEADER_NAME } from '../model/policies.js';
import { MAX_RATE_REQUESTS, MAX_RATE_WINDOW_MS, MIN_RATE_WINDOW_MS, parseRateKey, rateWindowMs } from '../model/rate-limit.js';
import type { Rule } from '../model/resource.js';
import { MAX_TIMEOUT_MS, TIMEOUT_FIELDS, timeoutMs } from '../model/timeouts.js';

/**
 * Issues of rule `i`'s limits:
 * - `rate_limit.window` from 1s to 1d (`0s` would let every request through, and `Retry-After`
 *   counts whole seconds); `requests` at most 100,000 (the module keeps that many timestamps per key);
 * - `rate_limit.key` is `client_ip` or `header:<Name>` with an HTTP token for a name;
 * - `timeouts.dial` and `timeouts.response_header` above 0 and at most 1d.
 */
export function validateLimits(rule: Rule, i: number): Issue[] {
  const at = (...tokens: (string | number)[]): string => pointer('rules', i, ...tokens);
  const issues: Issue[] = [];
  const limit = rule.rate_limit;
  if (limit !== undefined) {
    const ms = rateWindowMs(limit);
    if (ms === undefined) {
      issues.push(issue('invalid_request', at('rate_limit', 'window'), `rate_limit.window ${JSON.stringify(limit.window)} must be a duration such as 1m, 30s or 1h`));
    } else if (ms < MIN_RATE_WINDOW_MS || ms > MAX_RATE_WINDOW_MS) {
      issues.push(issue('invalid_request', at('rate_limit', 'window'), `rate_limit.window ${limit.window} is outside 1s to 1d (Retry-After counts whole seconds); give a window such as 1m, or remove rate_limit for no limit`));
    }
    if (!Number.isInteger(limit.requests) || limit.requests < 1 || limit.requests > MAX_RATE_REQUESTS) {
      issues.push(issue('invalid_request', at('rate_limit', 'requests'), `rate_limit.requests ${limit.requests} must be a whole number from 1 to ${MAX_RATE_REQUESTS} (Caddy keeps one timestamp per allowed request and key)`));
    }
    const key = parseRateKey(limit.key);
    if (key === undefined) {
      issues.push(issue('invalid_request', at('rate_limit', 'key'), `rate_limit.key ${JSON.stringify(limit.key)} is not a key source: use "client_ip" (the default: one limit per client address) or "header:<Name>" (one limit per value of that request header, such as header:X-Api-Key)`));
    } else if (key.kind === 'header' && !HEADER_NAME.test(key.name)) {
      issues.push(issue('invalid_request', at('rate_limit', 'key'), `rate_limit.key names header ${JSON.stringify(key.name)}, which is not an HTTP token: write one such as header:X-Api-Key, with no spaces or colons`));
    }
  }
  for (const field of TIMEOUT_FIELDS) {
    const text = rule.timeouts?.[field];
    if (text === undefined) continue;
    const ms = timeoutMs(text);
    if (ms === undefined) {
      issues.push(issue('invalid_request', at('timeouts', field), `timeouts.${field} ${JSON.stringify(text)} must be a duration such as 3s or 30s`));
    } else if (ms <= 0 || ms > MAX_TIMEOUT_MS) {
      issues.push(issue('invalid_request', at('timeouts', field), `timeouts.${field} ${text} is outside 1ms to 1d (0 would not be a limit); give one such as ${field === 'dial' ? '3s' : '30s'}, or leave the field out for Caddy's default (${field === 'dial' ? '3s' : 'no limit'})`));
    }
  }
  return issues;
}
