/**
 * The domain vocabulary shared by every layer: resources as declared in manifest files,
 * after parsing and normalisation (defaults filled in, hostnames lowercased).
 * Pure data; nothing here does I/O.
 */
import type { BasicAuthPolicy } from './basic-auth.js';
import type { ErrorPages } from './error-pages.js';
import type { ReferencedFile } from './referenced-files.js';

import type { RateLimitPolicy } from './rate-limit.js';
import type { TimeoutsPolicy } from './timeouts.js';

export const KINDS = ['Ingress', 'Instance'] as const;
export type Kind = (typeof KINDS)[number];

export interface RuleMatch {
  /** Lowercased. A literal DNS name or a pattern such as `{instance}.dev.example.com`. */
  readonly hostname: string;
  /** Listen port; 80 when the manifest leaves it out. */
  readonly port: number;
  /** As written (starts with `/`); absent: the whole host. See routing.ts for its meaning. */
  readonly path?: string;
  /** As written; absent means `prefix` when a path is given. */
  readonly path_type?: PathType;
}

export const PATH_TYPES = ['prefix', 'exact'] as const;
export type PathType = (typeof PATH_TYPES)[number];

export interface RuleTarget {
  /** Instance name or id; for pattern rules a template over the captures (`{instance}`). */
  readonly instance: string;
  readonly port: number;
  /** Relative share under `weighted_round_robin` (1 when absent). */
  readonly weight?: number;
}

/** Caddy's selection policies that a rule may name (`load_balancing.policy`). */
export const LB_POLICIES = ['round_robin', 'least_conn', 'random', 'first', 'ip_hash', 'uri_hash', 'cookie', 'weighted_round_robin'] as const;
export type LbPolicy = (typeof LB_POLICIES)[number];

export interface LoadBalancing {
  /** Absent: `round_robin`. */
  readonly policy?: LbPolicy;
  /** How many times a failed request is tried again on another target. */
  readonly retries?: number;
  /** A Caddy duration (`5s`): how long a request may keep being retried. */
  readonly try_duration?: string;
}

export interface ActiveHealthCheck {
  /** Path (and query) requested of each target. */
  readonly path: string;
  /** Caddy durations; Caddy's defaults (30s, 5s) when absent. */
  readonly interval?: string;
  readonly timeout?: string;
  /** The status a healthy target answers (any 2xx when absent). */
  readonly expect_status?: number;
}

export interface PassiveHealthCheck {
  readonly max_fails?: number;
  /** How long a failure counts (30s when absent: Caddy disables passive checks without it). */
  readonly fail_duration?: string;
  /** Response statuses that count as failures (besides failed connections). */
  readonly unhealthy_status?: readonly number[];
}

export interface HealthCheck {
  readonly active?: ActiveHealthCheck;
  readonly passive?: PassiveHealthCheck;
}

/** Header operations on one side (request or response): names as written, values as Caddy fills them. */
export interface HeaderOps {
  /** Replace the header with this value (added when absent). */
  readonly set?: Readonly<Record<string, string>>;
  /** Add this value beside any the header already has. */
  readonly add?: Readonly<Record<string, string>>;
  /** Remove the header. */
  readonly delete?: readonly string[];
}

export interface HeadersPolicy {
  /** Applied to the request before it is proxied. */
  readonly request?: HeaderOps;
  /** Applied to the response the client gets (also to headers the target set). */
  readonly response?: HeaderOps;
}

/**
 * One routing rule. Exactly one of `target` and `targets` is present in a valid rule (validation
 * reports the others); `targetsOf` (routing.ts) reads either. Optional fields are present only when
 * the manifest gives them, so a rule in the original shape normalises (and hashes) as before.
 */
export interface Rule {
  readonly match: RuleMatch;
  readonly target?: RuleTarget;
  readonly targets?: readonly RuleTarget[];
  readonly tls: boolean;
  readonly redirect_http: boolean;
  /** Remove the matched path prefix before proxying. */
  readonly strip_path_prefix?: boolean;
  readonly load_balancing?: LoadBalancing;
  readonly health_check?: HealthCheck;
  /** Policy: the largest request body accepted, such as `10MB` (see policies.ts); larger → 413. */
  readonly max_request_body?: string;
  /** Policy: request and response header operations (see policies.ts). */
  readonly headers?: HeadersPolicy;
  /** Policy: only clients (the TCP peer, or a trusted proxy's forwarded client) in these CIDRs or addresses are served; the rest get 403. */
  readonly allow_ips?: readonly string[];
  /** Policy: clients (the TCP peer, or a trusted proxy's forwarded client) in these CIDRs or addresses get 403; checked before allow_ips. */
  readonly deny_ips?: readonly string[];
  /** Policy: at most `requests` per key in a sliding window (see rate-limit.ts); more → 429. */
  readonly rate_limit?: RateLimitPolicy;
  /** Policy: how long the proxy waits to connect and for response headers (see timeouts.ts); exceeded → 502 / 504. */
  readonly timeouts?: TimeoutsPolicy;
  /** Policy: `true` compresses responses with gzip or zstd for clients that accept them (see compress.ts). */
  readonly compress?: boolean;
  /** Policy: HTTP basic authentication (see basic-auth.ts); without credentials → 401. */
  readonly basic_auth?: BasicAuthPolicy;
  /** Policy: pages for the errors Caddy answers on this rule, by status or class (see error-pages.ts). */
  readonly error_pages?: ErrorPages;
}

export interface Ingress {
  readonly kind: 'Ingress';
  readonly id: string;
  readonly name: string;
  readonly rules: readonly Rule[];
  /** RFC 3339, present when the manifest carries it (the HTTP API writes it). */
  readonly created_at?: string;
  /**
   * The files the rules name beside the manifest (a users file), keyed by the path as written,
   * as the sources layer read them when it loaded the manifest (see referenced-files.ts). Absent
   * when the rules name none. Part of the generation: an edited file re-applies the ingress.
   */
  readonly files?: Readonly<Record<string, ReferencedFile>>;
}

export interface Instance {
  readonly kind: 'Instance';
  readonly id: string;
  readonly name: string;
  /** IPv4 or IPv6 address, normalised (IPv6 in its compressed lowercase form). */
  readonly address: string;
}

export type Resource = Ingress | Instance;

/** Exhaustiveness guard for `switch` statements over tagged unions. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
