import type { JsonObject } from '../model/json.js';
import type { Instance } from '../model/resource.js';

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
}

/** A piece of config carrying an `@id`, with the ids of the resources it serves. */
export interface Owned {
  readonly id: string;
  readonly json: JsonObject;
  readonly owners: readonly string[];
}
