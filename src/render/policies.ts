/**
 * The handlers a rule's policies add before its proxy, in the documented fixed order (README
 * "Policies"): IP filter → basic auth → rate limit → body limit → headers → proxy. Pure.
 * This subset renders the IP filter, basic auth, the body limit and headers, and the error pages' mark.
 */
import type { JsonObject } from '../model/json.js';
import { parseByteSize } from '../model/policies.js';
import type { HeaderOps } from '../model/resource.js';
import type { ProxySpec } from './model.js';
import type { RenderSettings } from '../model/settings.js';
import { errorPagesMark, hasForbiddenPage } from './error-pages.js';
import { basicAuthHandler } from './policy-auth.js';

/**
 * The policy handlers of one rule, in order; empty without policies.
 * - error pages: a `vars` mark first, so the errors of every later handler find the rule's pages
 *   (error-pages.ts);
 * - IP filter: a `subroute` answering 403 to a TCP peer in `deny_ips`, then to one outside
 *   `allow_ips`; its `static_response` ends the chain, so a refused request reaches nothing after
 *   (Caddy's `error` 403 instead when a 403 page applies, so handle_errors answers with it).
 *   The peer is the TCP peer: the servers trust no proxies, so `X-Forwarded-For` is not read.
 * - body limit: Caddy's `request_body` with `max_size` in bytes. Caddy answers 413 when the body
 *   read by the proxy grows past it (a Content-Length above it is refused the same way).
 */
export function policyHandlers(proxy: ProxySpec, settings: RenderSettings): JsonObject[] {
  const out: JsonObject[] = errorPagesMark(proxy.errorPages);
  const filter = ipFilter(proxy.denyIps, proxy.allowIps, hasForbiddenPage(proxy.errorPages, settings));
  if (filter !== undefined) out.push(filter);
  const auth = proxy.basicAuth === undefined ? undefined : basicAuthHandler(proxy.basicAuth, proxy.files);
  if (auth !== undefined) out.push(auth);
  const maxBytes = proxy.maxRequestBody === undefined ? undefined : parseByteSize(proxy.maxRequestBody);
  if (maxBytes !== undefined) out.push({ handler: 'request_body', max_size: maxBytes });
  const headers = proxy.headers === undefined ? undefined : headersHandler(proxy.headers.request, proxy.headers.response);
  if (headers !== undefined) out.push(headers);
  return out;
}

/**
 * Caddy's `headers` handler; undefined when neither side changes anything. The response side is
 * `deferred`: applied when the response is written, so it also sets over and deletes headers the
 * target sent (applied at once, a delete would run before the proxy copies them in).
 */
function headersHandler(request: HeaderOps | undefined, response: HeaderOps | undefined): JsonObject | undefined {
  const req = headerOps(request);
  const res = headerOps(response);
  if (req === undefined && res === undefined) return undefined;
  const out: JsonObject = { handler: 'headers' };
  if (req !== undefined) out['request'] = req;
  if (res !== undefined) out['response'] = { ...res, deferred: true };
  return out;
}

function headerOps(ops: HeaderOps | undefined): JsonObject | undefined {
  if (ops === undefined) return undefined;
  const out: JsonObject = {};
  const fields = (values: Readonly<Record<string, string>> | undefined): JsonObject | undefined => {
    const entries = Object.entries(values ?? {});
    return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([name, value]) => [name, [value]]));
  };
  const set = fields(ops.set);
  const add = fields(ops.add);
  if (set !== undefined) out['set'] = set;
  if (add !== undefined) out['add'] = add;
  if (ops.delete !== undefined && ops.delete.length > 0) out['delete'] = [...ops.delete];
  return Object.keys(out).length === 0 ? undefined : out;
}

/** `asError`: a 403 page applies, so the filter raises Caddy's error (which handle_errors answers) instead of answering itself. */
function ipFilter(deny: readonly string[] | undefined, allow: readonly string[] | undefined, asError: boolean): JsonObject | undefined {
  const forbidden: JsonObject = asError ? { handler: 'error', status_code: 403, error: 'Forbidden' } : { handler: 'static_response', status_code: 403, body: 'Forbidden' };
  const routes: JsonObject[] = [];
  if (deny !== undefined) routes.push({ match: [{ remote_ip: { ranges: [...deny] } }], handle: [forbidden] });
  if (allow !== undefined) routes.push({ match: [{ not: [{ remote_ip: { ranges: [...allow] } }] }], handle: [forbidden] });
  return routes.length === 0 ? undefined : { handler: 'subroute', routes };
}
