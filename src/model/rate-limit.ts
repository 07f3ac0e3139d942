/**
 * The `rate_limit` policy of a rule: what its value means, shared by validation, render and
 * status. Pure.
 *
 * `{ "requests": 100, "window": "1m", "key": "client_ip" }`: at most `requests` requests per key
 * in any sliding `window`; the next gets 429 with `Retry-After`. Rendered as the
 * mholt/caddy-ratelimit handler (`http.handlers.rate_limit`), applied after the IP filter and
 * basic auth and before the body limit (README "Policies"). With `"scope": "fleet"` the nodes
 * share their counts through Caddy's storage (the module's distributed mode): eventually
 * consistent: a node counts the others' requests up to about 2 × FLEET_RATE_SYNC late, so a
 * burst spread over the nodes inside that lag can pass the limit.
 */
import { parseCaddyDurationMs } from './duration.js';

export interface RateLimitPolicy {
  /** Requests allowed per key in any window: an integer, 1 to MAX_RATE_REQUESTS. */
  readonly requests: number;
  /** A Caddy duration (`1m`), MIN_RATE_WINDOW_MS to MAX_RATE_WINDOW_MS. */
  readonly window: string;
  /** `client_ip` (the default) or `header:<Name>`: what requests are counted by. */
  readonly key?: string;
  /** `node` (the default): each node counts alone; `fleet`: the nodes add up each other's counts through their shared storage. */
  readonly scope?: 'node' | 'fleet';
}

/**
 * How often a node of a `fleet` limit writes its counts to the shared storage and reads the
 * others': a node learns another's requests within about twice this. Each write is one small
 * storage object per Caddy (rate_limit/instances/<instance id>.rlstate).
 */
export const FLEET_RATE_SYNC = '1s';
/** A node whose counts are this old (it stopped) has its storage object removed: the longest window. */
export const FLEET_RATE_PURGE_AGE = '24h';

/** True when the limit is counted across the fleet. */
export function isFleetScope(policy: RateLimitPolicy): boolean {
  return policy.scope === 'fleet';
}

/**
 * The module keeps one ring of `requests` timestamps (24 bytes each) per key: 100,000 requests is
 * 2.4 MB per client, the most a per-client limit should cost.
 */
export const MAX_RATE_REQUESTS = 100_000;
/** `Retry-After` is in whole seconds: a shorter window could not be told to a client. */
export const MIN_RATE_WINDOW_MS = 1000;
/** A day: the module keeps a key's ring for a window after its last request. */
export const MAX_RATE_WINDOW_MS = 86_400_000;

/** What a rate limit counts by: the client's IP address, or one request header's value. */
export type RateKey = { readonly kind: 'client_ip' } | { readonly kind: 'header'; readonly name: string };

/**
 * The key source `text` names (undefined `text` is `client_ip`), or undefined when it names none.
 * The header name is as written: validation checks it is an HTTP token.
 */
export function parseRateKey(text: string | undefined): RateKey | undefined {
  if (text === undefined || text === 'client_ip') return { kind: 'client_ip' };
  if (text.startsWith('header:')) return { kind: 'header', name: text.slice('header:'.length) };
  return undefined;
}

/** The window in milliseconds; undefined when it is not a Caddy duration. */
export function rateWindowMs(policy: RateLimitPolicy): number | undefined {
  return parseCaddyDurationMs(policy.window);
}

/** The status effect: `100 requests per 1m per client IP; more get 429 with Retry-After`. */
export function describeRateLimit(policy: RateLimitPolicy): string {
  const key = parseRateKey(policy.key);
  const per = key === undefined ? 'key' : key.kind === 'client_ip' ? 'client IP' : `value of ${key.name}`;
  const where = isFleetScope(policy) ? ' across the fleet' : '';
  return `${policy.requests} requests per ${policy.window} per ${per}${where}; more get 429 with Retry-After`;
}
