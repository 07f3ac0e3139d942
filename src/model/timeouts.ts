/**
 * The `timeouts` policy of a rule: how long the proxy waits on its target. Pure.
 *
 * `{ "dial": "3s", "response_header": "30s" }`, Caddy durations: `dial` bounds opening the
 * connection to a target (Caddy's default is 3s), `response_header` the wait for the target's
 * response headers once the request is sent (Caddy's default: no limit). Rendered on the
 * `reverse_proxy` transport (`dial_timeout`, `response_header_timeout`).
 */
import { parseCaddyDurationMs } from './duration.js';

export interface TimeoutsPolicy {
  readonly dial?: string;
  readonly response_header?: string;
}

export const TIMEOUT_FIELDS = ['dial', 'response_header'] as const;

/** The largest timeout accepted: a day (beyond that, leave the field out: no limit). */
export const MAX_TIMEOUT_MS = 86_400_000;

/** Milliseconds of one timeout as written; undefined when it is not a Caddy duration. */
export function timeoutMs(text: string): number | undefined {
  return parseCaddyDurationMs(text);
}

/** The status effect: `dial 3s (else 502), response headers 30s (else 504)`. */
export function describeTimeouts(policy: TimeoutsPolicy): string {
  const parts: string[] = [];
  if (policy.dial !== undefined) parts.push(`connecting to a target over ${policy.dial} gets 502`);
  if (policy.response_header !== undefined) parts.push(`response headers later than ${policy.response_header} get 504`);
  return parts.length === 0 ? "Caddy's defaults (dial 3s, no response header limit)" : parts.join('; ');
}
