import type { Issue } from '../model/issues.js';
import type { Kind } from '../model/resource.js';

/** The `<stem>.status.json` file beside every manifest (schema: schemas/status.schema.json). */
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export const CONDITION_TYPES = ['Accepted', 'ResolvedRefs', 'Programmed', 'CertificateReady', 'Ready'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface Condition {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  /** CamelCase machine identifier; branch on this, not on `message`. */
  readonly reason: string;
  readonly message: string;
  /** RFC 3339; moves only when `status` flips. */
  readonly lastTransitionTime: string;
}

export interface RouteStatus {
  readonly hostname: string;
  readonly port: number;
  /** `<instance>.<zone>` (dns mode, patterns) or the instance address (static mode). */
  readonly upstream: string;
  readonly upstreamPort: number;
  readonly tls: boolean;
  readonly redirectHttp: boolean;
  /** Rules with a path: the path as matched (normalised: a prefix without trailing slashes). */
  readonly path?: string;
  readonly pathType?: 'prefix' | 'exact';
  /** Rules that do more than the original shape (several targets, a path, proxy options): every target as served, in manifest order. `upstream` is the first. */
  readonly targets?: readonly TargetStatus[];
  /** Rules with policies: each policy in the order it applies (README "Policies"). Absent without. */
  readonly policies?: readonly PolicyStatus[];
}

/** One policy of a rule as served. */
export interface PolicyStatus {
  /** The manifest field, such as `max_request_body`. */
  readonly policy: string;
  /** What it does, for people, such as `bodies above 10MB (10000000 bytes) get 413`. */
  readonly effect: string;
}

export interface TargetStatus {
  readonly upstream: string;
  readonly upstreamPort: number;
  /** Under weighted_round_robin: the share weight (1 when the manifest leaves it out). */
  readonly weight?: number;
  /**
   * Rules with health checks (not pattern rules): Caddy's verdict on this target, `unknown` until
   * Caddy has reported it (up to 10 s after the rule is served). Absent on rules without checks.
   */
  readonly health?: TargetHealth;
}

export type TargetHealth = 'healthy' | 'unhealthy' | 'unknown';

export interface CertificateStatus {
  readonly hostname: string;
  /** True when a handshake with this SNI on the local listener returned a certificate covering it. */
  readonly served: boolean;
  readonly notAfter?: string;
  readonly issuer?: string;
  readonly message: string;
}

export interface ResourceStatus {
  readonly kind: Kind | 'Unknown';
  readonly name: string;
  readonly id: string;
  /** Manifest path relative to the watched directory. */
  readonly file: string;
  /** Hash of the spec this status describes. */
  readonly observedGeneration: string;
  /** The node that wrote this status (NODE_NAME): in a fleet, each node writes its own STATUS_DIR. Absent from `ingressd get` offline. */
  readonly node?: string;
  readonly conditions: readonly Condition[];
  readonly errors: readonly Issue[];
  readonly routes?: readonly RouteStatus[];
  readonly certificates?: readonly CertificateStatus[];
}

/** How the apply step left one resource. */
export interface ProgramState {
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}
