/**
 * The handlers a rule's policies add before its proxy, in the documented fixed order (README
 * "Policies"): IP filter → basic auth → rate limit → body limit → headers → compress → proxy.
 * Pure. `timeouts` go on the proxy's transport (policy-timeouts.ts); `error_pages` add a mark
 * first and are answered by the server's error routes (error-pages.ts).
 */
import type { JsonObject } from '../model/json.js';
import { parseByteSize } from '../model/policies.js';
import type { HeaderOps } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import type { ProxySpec } from './model.js';
import { clientIpIn, clientIpNotIn } from './client-ip.js';
import { errorPagesMark, hasForbiddenPage } from './error-pages.js';
import { basicAuthHandler } from './policy-auth.js';
import { encodeHandler } from './policy-compress.js';
import { rateLimitHandler } from './policy-rate-limit.js';

/**
 * The policy handlers of one rule, in order; empty without policies.
 * - error pages: a `vars` mark first, so the errors of every later handler find the rule's pages
 *   (error-pages.ts);
 * - IP filter: a `subroute` answering 403 to a client in `deny_ips`, then to one outside
 *   `allow_ips`; its `static_response` ends the chain, so a refused request reaches nothing after
 *   (Caddy's `error` 403 instead when a 403 page applies, so handle_errors answers with it).
 *   The client is the TCP peer, or with TRUSTED_PROXIES the forwarded client (client-ip.ts).
 * - basic auth: see policy-auth.ts; rate limit: see policy-rate-limit.ts.
 * - compress: Caddy's `encode`, last (see policy-compress.ts).
 * - body limit: Caddy's `request_body` with `max_size` in bytes. Caddy answers 413 when the body
 *   read by the proxy grows past it (a Content-Length above it is refused the same way).
 */
export function policyHandlers(proxy: ProxySpec, settings: RenderSettings): JsonObject[] {
  const out: JsonObject[] = errorPagesMark(proxy.errorPages);
  const filter = ipFilter(proxy.denyIps, proxy.allowIps, hasForbiddenPage(proxy.errorPages, settings), settings);
  if (filter !== undefined) out.push(filter);
  const auth = proxy.basicAuth === undefined ? undefined : basicAuthHandler(proxy.basicAuth, proxy.files);
  if (auth !== undefined) out.push(auth);
  if (proxy.rateLimit !== undefined) out.push(rateLimitHandler(proxy.rateLimit, settings));
  const maxBytes = proxy.maxRequestBody === undefined ? undefined : parseByteSize(proxy.maxRequestBody);
  if (maxBytes !== undefined) out.push({ handler: 'request_body', max_size: maxBytes });
  const headers = proxy.headers === undefined ? undefined : headersHandler(proxy.headers.request, proxy.headers.response);
  if (headers !== undefined) out.push(headers);
  if (proxy.compress) out.push(encodeHandler());
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
function ipFilter(deny: readonly string[] | undefined, allow: readonly string[] | undefined, asError: boolean, settings: RenderSettings): JsonObject | undefined {
  const forbidden: JsonObject = asError ? { handler: 'error', status_code: 403, error: 'Forbidden' } : { handler: 'static_response', status_code: 403, body: 'Forbidden' };
  const routes: JsonObject[] = [];
  if (deny !== undefined) routes.push({ match: clientIpIn(deny, settings), handle: [forbidden] });
  if (allow !== undefined) routes.push({ match: clientIpNotIn(allow, settings), handle: [forbidden] });
  return routes.length === 0 ? undefined : { handler: 'subroute', routes };
}
