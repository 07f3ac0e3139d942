import type { JsonObject } from '../model/json.js';
import type { Ingress, Instance } from '../model/resource.js';

/**
 * Everything `render` reads besides settings: the accepted resources, in any order.
 * The caller has already validated them; in particular no two rules claim the same hostname on
 * the same port. Render never rejects input: what it cannot render it skips with a warning.
 */
export interface RenderInput {
  readonly ingresses: readonly Ingress[];
  readonly instances: readonly Instance[];
}

/** Something rendered differently from what the resource asked for, for logs and status. */
export interface RenderWarning {
  /** Id of the ingress or instance the warning is about. */
  readonly resourceId: string;
  readonly message: string;
}

export interface RenderResult {
  /**
   * Only what ingressd owns, canonical (keys sorted):
   * `{ apps: { http: { http_port, https_port, servers: {...} }, tls?: { automation: { policies: [...] } } } }`.
   * The caller adds `admin`, `storage` and whatever else Caddy needs around it.
   */
  readonly config: JsonObject;
  /** Sorted by resourceId, then message; no duplicates. */
  readonly warnings: readonly RenderWarning[];
  /** Every `@id` in `config` → ids of the resources (ingress or instance ids) it serves, sorted. */
  readonly owners: Readonly<Record<string, readonly string[]>>;
}
