/**
 * The `rate_limit` policy's handler: mholt/caddy-ratelimit (`http.handlers.rate_limit`). Pure.
 *
 * One zone per rule. The module keeps a zone's counters across config reloads under its name (a
 * process-wide pool, keyed by zone name): the name is derived from what identifies the rule
 * (ingress id, port, host, path), never from its position or a random value, so a reload that
 * leaves the rule alone (or changes only its numbers) keeps its counters, and one rule's zone is
 * never another's.
 */
import { atLeast, SINCE } from '../model/caddy-version.js';
import type { JsonObject } from '../model/json.js';
import { FLEET_RATE_PURGE_AGE, FLEET_RATE_SYNC, isFleetScope, parseRateKey, type RateLimitPolicy } from '../model/rate-limit.js';
import type { Rule } from '../model/resource.js';
import { pathMatchOf } from '../model/routing.js';
import type { RenderSettings } from '../model/settings.js';

/** A rule's rate limit with the zone name its handler uses. */
export interface RateLimitSpec extends RateLimitPolicy {
  /** `<ingress id>/<port>/<host>` and, with a path, `/<prefix|exact>:<path>`: unique per config (one rule holds a host, port and path). */
  readonly zone: string;
}

/** The spec of `rule`'s rate limit (`host` as bound: lowercased, a pattern in its wildcard form); undefined without one. */
export function rateLimitSpec(ingressId: string, host: string, rule: Rule): RateLimitSpec | undefined {
  if (rule.rate_limit === undefined) return undefined;
  const path = pathMatchOf(rule);
  const zone = `${ingressId}/${rule.match.port}/${host}${path === undefined ? '' : `/${path.type}:${path.path}`}`;
  return { ...rule.rate_limit, zone };
}

/**
 * The handler: `max_events` per `key` in a sliding `window` (as written: Caddy parses durations).
 * Over the limit the module sets `Retry-After` (seconds, rounded) and answers 429 through the
 * server's error handling, so the proxy and every later handler never see the request.
 * The client IP is `{http.vars.client_ip}` (the TCP peer, or the forwarded-for address when the
 * peer is one of TRUSTED_PROXIES); Caddy before 2.7 has no such variable and the TCP peer is used
 * (the module itself needs 2.8, so that Caddy never runs it: see requirements.ts).
 * A request without the keyed header counts under the empty key: such requests share one limit.
 * A `fleet` limit turns on the module's distributed mode over Caddy's own storage (CADDY_STORAGE,
 * shared by the nodes; requirements.ts refuses the rule without one): the zone name is the same on
 * every node rendering the same tree, so each adds the others' counts for that zone and key.
 */
export function rateLimitHandler(spec: RateLimitSpec, settings: RenderSettings): JsonObject {
  const key = parseRateKey(spec.key);
  const placeholder =
    key === undefined || key.kind === 'client_ip' ? (atLeast(settings.caddy.version, SINCE.clientIpVar) ? '{http.vars.client_ip}' : '{http.request.remote.host}') : `{http.request.header.${key.name}}`;
  const handler: JsonObject = { handler: 'rate_limit', rate_limits: { [spec.zone]: { key: placeholder, window: spec.window, max_events: spec.requests } } };
  if (isFleetScope(spec)) handler['distributed'] = { purge_age: FLEET_RATE_PURGE_AGE, read_interval: FLEET_RATE_SYNC, write_interval: FLEET_RATE_SYNC };
  return handler;
}
