/**
 * Which Caddy ingressd drives, and what that Caddy can do. Learnt at start from the binary
 * (`caddy version`, `caddy list-modules`) or the adopted process, and passed down as plain data:
 * validation and render decide from it, they never run Caddy themselves.
 *
 * Versions that matter (see ../shared/research/caddy-current.md and the README's table):
 * - 2.6.2 (Debian bookworm): ETag as an HTTP trailer, FNV-1a 32; no `stream_close_delay`, no
 *   `weighted_round_robin`; no DNS provider modules.
 * - 2.7.0: `stream_close_delay`, `weighted_round_robin`, missing admin paths answer 4xx (2.7.5).
 * - 2.8.0: ETag as a header, xxhash64.
 * - 2.10.1: a config whose listener fails to bind no longer leaves its other servers serving.
 * - 2.11.0: admin requests carrying `Origin` or `Sec-Fetch-Mode` are origin-checked; 2.11.2
 *   refuses duplicate `@id`s.
 */

/** A Caddy release as three numbers (pre-release and build suffixes are dropped). */
export interface CaddyVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export interface CaddyInfo {
  /** As Caddy printed it without the `v` (`2.11.9`); undefined when it could not be learnt. */
  readonly version: CaddyVersion | undefined;
  /** Module ids Caddy lists (`dns.providers.cloudflare`, `http.handlers.rate_limit`, …), sorted. */
  readonly modules: readonly string[];
}

/**
 * The Caddy assumed when ingressd cannot ask one (offline `render` without `--caddy-version`, a
 * Caddy that does not answer `version`): the newest Caddy the project builds, with its modules.
 * Keep in step with caddy/modules.pin.
 */
export const DEFAULT_CADDY: CaddyInfo = Object.freeze({
  version: Object.freeze({ major: 2, minor: 11, patch: 9 }),
  modules: Object.freeze([
    'caddy.storage.file_system',
    'caddy.storage.redis',
    'dns.providers.cloudflare',
    'dns.providers.rfc2136',
    'http.handlers.rate_limit',
  ]),
});

/** `v2.11.9 h1:…`, `2.6.2`, `v2.10.2-0.20250101…`: the first x.y.z in `text`, or undefined. */
export function parseCaddyVersion(text: string): CaddyVersion | undefined {
  const match = /(?:^|[^\d.])v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (match === null) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

export function formatCaddyVersion(version: CaddyVersion | undefined): string {
  return version === undefined ? 'unknown' : `${version.major}.${version.minor}.${version.patch}`;
}

/** True when `version` is `min` or later; an unknown version counts as the default Caddy's. */
export function atLeast(version: CaddyVersion | undefined, min: CaddyVersion): boolean {
  const v = version ?? DEFAULT_CADDY.version!;
  if (v.major !== min.major) return v.major > min.major;
  if (v.minor !== min.minor) return v.minor > min.minor;
  return v.patch >= min.patch;
}

const v = (major: number, minor: number, patch: number): CaddyVersion => Object.freeze({ major, minor, patch });

/** The first version with each feature ingressd uses conditionally (the header lists the rest). */
export const SINCE = Object.freeze({
  streamCloseDelay: v(2, 7, 0),
  weightedRoundRobin: v(2, 7, 0),
  /** Before 2.7 the proxy answers a body over `request_body`'s limit with 502, not 413 (caddy#5652). */
  requestBody413: v(2, 7, 0),
  etagHeader: v(2, 8, 0),
  /** `{http.vars.client_ip}`, the `client_ip` matcher and server-level `trusted_proxies` as an IP source module. */
  clientIpVar: v(2, 7, 0),
  /** `trusted_proxies_strict`: the client is the rightmost untrusted X-Forwarded-For address. */
  trustedProxiesStrict: v(2, 8, 0),
  /** certmagic 0.21.4 writes storage files atomically (temporary file and rename). */
  atomicFileStorage: v(2, 9, 0),
});

/** How Caddy tags `GET /config/`: FNV-1a 32 in a trailer before 2.8, xxhash64 in a header since. */
export type EtagScheme = 'fnv1a32-trailer' | 'xxhash64-header';

export function etagScheme(info: CaddyInfo): EtagScheme {
  return atLeast(info.version, SINCE.etagHeader) ? 'xxhash64-header' : 'fnv1a32-trailer';
}

/** What a rule needs of Caddy beyond the core: a minimum version or a module. */
export type CaddyRequirement =
  | { readonly kind: 'version'; readonly min: CaddyVersion; readonly feature: string }
  | { readonly kind: 'module'; readonly module: string; readonly feature: string; /** How to get a Caddy with it. */ readonly hint?: string };

/** Why `info` cannot serve what needs `requirement`, or undefined when it can. */
export function unmetRequirement(info: CaddyInfo, requirement: CaddyRequirement): { readonly reason: 'CaddyTooOld' | 'CaddyModuleMissing'; readonly message: string } | undefined {
  if (requirement.kind === 'version') {
    if (atLeast(info.version, requirement.min)) return undefined;
    return {
      reason: 'CaddyTooOld',
      message: `${requirement.feature} needs Caddy ${formatCaddyVersion(requirement.min)} or later; this Caddy is ${formatCaddyVersion(info.version)} (build a current one with \`npm run build:caddy\` and set CADDY_BINARY)`,
    };
  }
  if (info.modules.includes(requirement.module)) return undefined;
  return {
    reason: 'CaddyModuleMissing',
    message: `${requirement.feature} needs the Caddy module ${requirement.module}, which this Caddy (${formatCaddyVersion(info.version)}) does not have: ${requirement.hint ?? '`npm run build:caddy` builds a Caddy with it'}; then point CADDY_BINARY at that Caddy`,
  };
}
