/**
 * The handlers a rule's policies add before its proxy, in the documented fixed order (README
 * "Policies"): IP filter → basic auth → rate limit → body limit → headers → proxy. Pure.
 * This subset renders the body limit.
 */
import type { JsonObject } from '../model/json.js';
import { parseByteSize } from '../model/policies.js';
import type { ProxySpec } from './model.js';

/**
 * The policy handlers of one rule, in order; empty without policies.
 * - body limit: Caddy's `request_body` with `max_size` in bytes. Caddy answers 413 when the body
 *   read by the proxy grows past it (a Content-Length above it is refused the same way).
 */
export function policyHandlers(proxy: ProxySpec): JsonObject[] {
  const out: JsonObject[] = [];
  const maxBytes = proxy.maxRequestBody === undefined ? undefined : parseByteSize(proxy.maxRequestBody);
  if (maxBytes !== undefined) out.push({ handler: 'request_body', max_size: maxBytes });
  return out;
}
