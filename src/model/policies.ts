/**
 * What a rule's policy fields mean, shared by validation, render and status: one definition of
 * each policy's value. Pure.
 *
 * Policies apply on one rule in a fixed order (README "Policies"):
 * IP filter → basic auth → rate limit → body limit → headers → compress → proxy (timeouts).
 * Here: the IP filter (`allow_ips`, `deny_ips`), the body limit (`max_request_body`) and
 * `headers`; the others in basic-auth.ts, rate-limit.ts, compress.ts, timeouts.ts and
 * error-pages.ts (pages for the errors any of them, or the proxy, answer).
 */
import { isIP } from 'node:net';
import { describeBasicAuth } from './basic-auth.js';
import { describeCompress } from './compress.js';
import { describeErrorPages } from './error-pages.js';
import { describeRateLimit } from './rate-limit.js';
import { describeTimeouts } from './timeouts.js';
import type { HeaderOps, Rule } from './resource.js';

/**
 * Byte-size units, as Caddy's Caddyfile reads them (go-humanize): decimal `KB`/`MB`/`GB`, binary
 * `KiB`/`MiB`/`GiB`, `B` or no unit for bytes.
 */
const UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** The written form the schema allows: a whole number and an optional unit, such as 10MB or 512KiB. */
export const BYTE_SIZE = /^([0-9]+)(B|KB|MB|GB|KiB|MiB|GiB)?$/;

/** The largest body limit accepted: 1 TiB is far beyond any request a proxy should buffer-check, and exact in a double. */
export const MAX_BODY_BYTES = 1024 ** 4;

/** Bytes of a size such as `10MB` (10,000,000); undefined when it is not in that form. */
export function parseByteSize(text: string): number | undefined {
  const m = BYTE_SIZE.exec(text);
  if (m === null) return undefined;
  return Number(m[1]) * UNITS[m[2] ?? '']!;
}

/** True when the rule has any policy field: it then renders through a route of its own kind (not a host list). */
export function hasPolicies(rule: Rule): boolean {
  return (
    rule.max_request_body !== undefined ||
    rule.headers !== undefined ||
    rule.allow_ips !== undefined ||
    rule.deny_ips !== undefined ||
    rule.basic_auth !== undefined ||
    rule.error_pages !== undefined ||
    hasTrafficPolicies(rule)
  );
}

/** True when the rule has one of the traffic policies (rate_limit, timeouts, compress; see rate-limit.ts, timeouts.ts, compress.ts). */
function hasTrafficPolicies(rule: Rule): boolean {
  return rule.rate_limit !== undefined || rule.timeouts !== undefined || rule.compress === true;
}

/** A rule's policies in the order they apply, as `[field, effect for people]`: what status shows. */
export function describePolicies(rule: Rule): [string, string][] {
  const out: [string, string][] = [];
  if (rule.deny_ips !== undefined) out.push(['deny_ips', `clients in ${rule.deny_ips.join(', ')} get 403`]);
  if (rule.allow_ips !== undefined) out.push(['allow_ips', `clients outside ${rule.allow_ips.join(', ')} get 403`]);
  if (rule.basic_auth !== undefined) out.push(['basic_auth', describeBasicAuth(rule.basic_auth)]);
  if (rule.rate_limit !== undefined) out.push(['rate_limit', describeRateLimit(rule.rate_limit)]);
  if (rule.max_request_body !== undefined) {
    out.push(['max_request_body', `bodies above ${rule.max_request_body} (${parseByteSize(rule.max_request_body) ?? '?'} bytes) get 413`]);
  }
  if (rule.headers !== undefined) {
    const sides = (['request', 'response'] as const).flatMap((side) => {
      const ops = describeOps(rule.headers?.[side]);
      return ops === '' ? [] : [`${side}: ${ops}`];
    });
    out.push(['headers', sides.length === 0 ? 'no header changes' : sides.join('; ')]);
  }
  if (rule.compress === true) out.push(['compress', describeCompress()]);
  if (rule.timeouts !== undefined) out.push(['timeouts', describeTimeouts(rule.timeouts)]);
  if (rule.error_pages !== undefined) out.push(['error_pages', describeErrorPages(rule.error_pages)]);
  return out;
}

function describeOps(ops: HeaderOps | undefined): string {
  if (ops === undefined) return '';
  const parts: string[] = [];
  for (const op of ['set', 'add'] as const) {
    const names = Object.keys(ops[op] ?? {}).sort();
    if (names.length > 0) parts.push(`${op} ${names.join(', ')}`);
  }
  if (ops.delete !== undefined && ops.delete.length > 0) parts.push(`delete ${[...ops.delete].sort().join(', ')}`);
  return parts.join(', ');
}

/** An HTTP field name (RFC 9110 token): letters, digits and ``!#$%&'*+-.^_`|~``; no spaces or colons. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A field value Caddy can send: no control characters but tab (CR or LF would split the header). */
export const HEADER_VALUE = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;

/**
 * Why `text` is not an address or CIDR Caddy's `remote_ip` matcher takes (IPv4 or IPv6, with an
 * optional prefix length up to 32 or 128), with the fix; undefined when it is one.
 */
export function cidrProblem(text: string): string | undefined {
  const [address = '', length, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || address.includes('%')) return 'is not an IPv4 or IPv6 address (without a zone); write one such as 10.0.0.0/8, 192.0.2.7 or fd00::/8';
  if (rest.length > 0) return 'holds more than one /; write an address and one prefix length, such as 10.0.0.0/8';
  if (length === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^[0-9]{1,3}$/.test(length) || Number(length) > max) return `has prefix length /${length}, but an IPv${family} prefix is 0 to ${max}; such as ${family === 4 ? '10.0.0.0/8' : 'fd00::/8'}`;
  return undefined;
}
