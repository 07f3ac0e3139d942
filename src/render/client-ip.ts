/**
 * The client IP the policies see, and how Caddy learns it from trusted proxies (TRUSTED_PROXIES,
 * `settings.trustedProxies`). Pure.
 *
 * Without trusted proxies the client is the TCP peer on every Caddy, and nothing renders
 * differently from before. With them, it depends on the Caddy (checked in each one's source):
 * - 2.8 and later: the servers' `trusted_proxies` (an IP source module, `static`) with
 *   `trusted_proxies_strict`: for a peer in those ranges, the client is the rightmost address of
 *   `X-Forwarded-For` that is not itself a trusted proxy (a client cannot put itself in by sending
 *   the header: a proxy appends the address it saw). The IP filter matches `client_ip`, and the
 *   rate limit keys by `{http.vars.client_ip}`; `reverse_proxy` keeps a trusted peer's
 *   `X-Forwarded-*` headers (appending the peer to `X-Forwarded-For`).
 * - 2.7: the same without `trusted_proxies_strict` (2.8 added it): the leftmost address is used.
 * - Before 2.7 (Debian's 2.6.2): no server-level trust, no `client_ip` matcher. `reverse_proxy`
 *   gets the ranges as its own `trusted_proxies` (to keep a trusted peer's `X-Forwarded-*`), and
 *   the IP filter matches `remote_ip` with `forwarded` (the leftmost `X-Forwarded-For` address)
 *   only when the peer is a trusted proxy, the peer itself otherwise.
 */
import { atLeast, SINCE } from '../model/caddy-version.js';
import type { JsonObject } from '../model/json.js';
import type { RenderSettings } from '../model/settings.js';

type Mode = 'peer' | 'server' | 'forwarded-match';

function modeOf(settings: RenderSettings): Mode {
  if (settings.trustedProxies.length === 0) return 'peer';
  return atLeast(settings.caddy.version, SINCE.clientIpVar) ? 'server' : 'forwarded-match';
}

/** Matcher sets (any one matching) true when the client IP is in `ranges`. */
export function clientIpIn(ranges: readonly string[], settings: RenderSettings): JsonObject[] {
  const trusted = { remote_ip: { ranges: [...settings.trustedProxies] } };
  switch (modeOf(settings)) {
    case 'peer':
      return [{ remote_ip: { ranges: [...ranges] } }];
    case 'server':
      return [{ client_ip: { ranges: [...ranges] } }];
    case 'forwarded-match':
      // Two remote_ip matchers cannot share a set: "not (not forwarded in ranges)" is the second.
      return [
        { ...trusted, not: [{ not: [{ remote_ip: { ranges: [...ranges], forwarded: true } }] }] },
        { remote_ip: { ranges: [...ranges] }, not: [trusted] },
      ];
  }
}

/** Matcher sets (any one matching) true when the client IP is outside `ranges`. */
export function clientIpNotIn(ranges: readonly string[], settings: RenderSettings): JsonObject[] {
  const trusted = { remote_ip: { ranges: [...settings.trustedProxies] } };
  switch (modeOf(settings)) {
    case 'peer':
      return [{ not: [{ remote_ip: { ranges: [...ranges] } }] }];
    case 'server':
      return [{ not: [{ client_ip: { ranges: [...ranges] } }] }];
    case 'forwarded-match':
      // A trusted peer whose forwarded client is outside; an untrusted peer that is outside itself.
      return [{ ...trusted, not: [{ remote_ip: { ranges: [...ranges], forwarded: true } }] }, { not: [{ remote_ip: { ranges: [...ranges] } }, trusted] }];
  }
}

/** The server fields that make Caddy trust the proxies (2.7+); none without them or before 2.7. */
export function serverTrust(settings: RenderSettings): JsonObject {
  if (modeOf(settings) !== 'server') return {};
  const out: JsonObject = { trusted_proxies: { source: 'static', ranges: [...settings.trustedProxies] } };
  if (atLeast(settings.caddy.version, SINCE.trustedProxiesStrict)) out['trusted_proxies_strict'] = 1;
  return out;
}

/** `handler` (a reverse_proxy) with its own `trusted_proxies` where the server cannot hold them (before 2.7). */
export function withProxyTrust(handler: JsonObject, settings: RenderSettings): JsonObject {
  return modeOf(settings) === 'forwarded-match' ? { ...handler, trusted_proxies: [...settings.trustedProxies] } : handler;
}
