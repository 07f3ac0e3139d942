/**
 * The `timeouts` policy on the proxy's transport. Pure.
 *
 * Caddy's transport takes `dial_timeout` and `response_header_timeout` as durations (a string
 * such as "3s", or nanoseconds); every Caddy ingressd supports (2.6.2 included) has both. A dial
 * that does not complete in time fails as a dial error, which the proxy answers 502 (not 504: the
 * timeout is wrapped in Caddy's DialError); response headers that do not arrive in time fail as a
 * timeout, answered 504.
 */
import type { JsonObject } from '../model/json.js';
import type { TimeoutsPolicy } from '../model/timeouts.js';

/** `transport` with the policy's timeouts added (the same object when there are none). */
export function withTimeouts(transport: JsonObject, timeouts: TimeoutsPolicy | undefined): JsonObject {
  if (timeouts === undefined || (timeouts.dial === undefined && timeouts.response_header === undefined)) return transport;
  const out: JsonObject = { ...transport };
  if (timeouts.dial !== undefined) out['dial_timeout'] = timeouts.dial;
  if (timeouts.response_header !== undefined) out['response_header_timeout'] = timeouts.response_header;
  return out;
}
