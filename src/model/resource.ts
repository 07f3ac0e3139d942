/**
 * The domain vocabulary shared by every layer: resources as declared in manifest files,
 * after parsing and normalisation (defaults filled in, hostnames lowercased).
 * Pure data; nothing here does I/O.
 */

export const KINDS = ['Ingress', 'Instance'] as const;
export type Kind = (typeof KINDS)[number];

export interface RuleMatch {
  /** Lowercased. A literal DNS name or a pattern such as `{instance}.dev.example.com`. */
  readonly hostname: string;
  /** Listen port; 80 when the manifest leaves it out. */
  readonly port: number;
}

export interface RuleTarget {
  /** Instance name or id; for pattern rules a template over the captures (`{instance}`). */
  readonly instance: string;
  readonly port: number;
}

export interface Rule {
  readonly match: RuleMatch;
  readonly target: RuleTarget;
  readonly tls: boolean;
  readonly redirect_http: boolean;
}

export interface Ingress {
  readonly kind: 'Ingress';
  readonly id: string;
  readonly name: string;
  readonly rules: readonly Rule[];
  /** RFC 3339, present when the manifest carries it (the HTTP API writes it). */
  readonly created_at?: string;
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
