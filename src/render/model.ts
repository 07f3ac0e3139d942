import type { BasicAuthPolicy } from '../model/basic-auth.js';
import type { ResolvedPage } from '../model/error-pages.js';
import type { JsonObject } from '../model/json.js';
import type { ReferencedFile } from '../model/referenced-files.js';
import type { HeadersPolicy, HealthCheck, Instance, LoadBalancing } from '../model/resource.js';
import type { PathMatch } from '../model/routing.js';
import type { TimeoutsPolicy } from '../model/timeouts.js';
import type { RateLimitSpec } from './policy-rate-limit.js';

/** Where a rule sends traffic, resolved against the declared instances. */
export interface Upstream {
  /**
   * The name asked of the instance DNS zone, before `.<dnsZone>`: the canonical instance name
   * (lowercased), the target as written (lowercased) when no Instance is declared, or a pattern
   * rule's template with Caddy placeholders in place of its captures.
   */
  readonly dnsName: string;
  readonly port: number;
  /** The declared Instance the target names; undefined when undeclared or a template. */
  readonly instance: Instance | undefined;
}

/** A target of a rule beyond the original shape, with its weight (1 when not given). */
export interface WeightedUpstream extends Upstream {
  readonly weight: number;
}

/**
 * What a rule beyond the original shape (a path, several targets, proxy options; see
 * `isPlainRule`) adds: such a binding gets a route of its own instead of joining a host list.
 */
export interface ProxySpec {
  readonly path: PathMatch | undefined;
  /** Every target, in manifest order (`Binding.upstream` is the first). */
  readonly upstreams: readonly WeightedUpstream[];
  readonly stripPathPrefix: boolean;
  readonly loadBalancing: LoadBalancing | undefined;
  readonly healthCheck: HealthCheck | undefined;
  /** Policy: `max_request_body` as written (validated); see policies.ts. */
  readonly maxRequestBody: string | undefined;
  /** Policy: `headers` as written (validated); see policies.ts. */
  readonly headers: HeadersPolicy | undefined;
  /** Policy: the IP filter as written (validated); see policies.ts. */
  readonly allowIps: readonly string[] | undefined;
  readonly denyIps: readonly string[] | undefined;
  /** Policy: the rate limit with its zone (validated); see policy-rate-limit.ts. */
  readonly rateLimit: RateLimitSpec | undefined;
  /** Policy: `timeouts` as written (validated); rendered on the proxy's transport (policy-timeouts.ts). */
  readonly timeouts: TimeoutsPolicy | undefined;
  /** Policy: `compress: true` (policy-compress.ts). */
  readonly compress: boolean;
  /** Policy: `basic_auth` as written (validated), and the ingress's files its users_file is read from; see policy-auth.ts. */
  readonly basicAuth: BasicAuthPolicy | undefined;
  readonly files: Readonly<Record<string, ReferencedFile>> | undefined;
  /** Policy: `error_pages` as served (bodies read), exact statuses first; see error-pages.ts. */
  readonly errorPages: readonly ResolvedPage[] | undefined;
}

/** One ingress rule, flattened and resolved: the unit every builder works from. */
export interface Binding {
  readonly ingressId: string;
  /** Listen port (`match.port`). */
  readonly port: number;
  /** The literal hostname, or a pattern's wildcard form (`*.dev.example.com`). */
  readonly host: string;
  readonly isPattern: boolean;
  readonly tls: boolean;
  /** `tls && redirect_http`: a redirect only makes sense towards a TLS rule. */
  readonly redirect: boolean;
  readonly upstream: Upstream;
  /** Undefined for a rule in the original shape (rendered grouped by upstream, as always). */
  readonly proxy: ProxySpec | undefined;
}

/** A piece of config carrying an `@id`, with the ids of the resources it serves. */
export interface Owned {
  readonly id: string;
  readonly json: JsonObject;
  readonly owners: readonly string[];
}

/** A literal host and path that a rule on one port holds (redirects.ts steps aside for them). */
export interface HeldPath {
  readonly host: string;
  readonly path: PathMatch;
}
