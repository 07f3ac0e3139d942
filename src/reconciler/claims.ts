/**
 * What a resource holds once it is accepted: the one definition of the conflict model, used by
 * file-local validation (an ingress must not clash with itself), by the full evaluation and by the
 * incremental evaluator. A new cross-file rule is a new kind of claim here, and every judge sees it.
 *
 * Two kinds of claim:
 * - **slots** are exclusive: at most one accepted resource holds each (a kind's name, an id, a
 *   hostname+port+path a rule answers on). A rule without a path holds the host's catch-all slot
 *   (`host\0<hostKey>\0<port>`); a rule with a path holds that path and type on it
 *   (`…\0<type>\0<path>`, the path normalised by `pathMatchOf`, so `/api/` is `/api` and the prefix
 *   `/` is the catch-all). So several ingresses share a host on different paths, a catch-all and
 *   path rules coexist, and the same path and type twice is a conflict. A redirect holds the same
 *   path on the HTTP port;
 * - **port modes** are shared: every accepted claim of a port agrees on TLS or plain HTTP (Caddy
 *   serves TLS per listener). Redirects are plain HTTP on the HTTP port.
 * Pure; results are remembered per (immutable) resource.
 */
import { hostKey } from '../model/hostname.js';
import type { Resource, Rule } from '../model/resource.js';
import { pathKey, pathMatchOf, type PathMatch } from '../model/routing.js';

/** One place a rule answers: its own port, or the HTTP port its `redirect_http` listens on. */
export interface RouteClaim {
  /** The slot: `host\0<hostKey>\0<port>`, then `\0<type>\0<path>` for a rule with a path. */
  readonly slot: string;
  readonly rule: number;
  /** The hostname's key: literal hostnames as written, patterns in their wildcard form. */
  readonly host: string;
  readonly port: number;
  /** The rule's path match; undefined when it serves every path of the host. */
  readonly path: PathMatch | undefined;
  /** True for the HTTP port a redirect occupies. */
  readonly redirect: boolean;
  /** The mode this claim needs on `port`: TLS, or plain HTTP (redirects are plain). */
  readonly tls: boolean;
}

export interface Claims {
  /** `name\0<kind>/<name>`. */
  readonly name: string;
  /** `id\0<id>`. */
  readonly id: string;
  /** In rule order, each rule's own port first: the order in which conflicts are reported. */
  readonly routes: readonly RouteClaim[];
  /** Every slot: name, id, then each route's (repeats kept). */
  readonly slots: readonly string[];
}

/** Computes a resource's claims; `claimsOf` is the definition, and tests may pass a broken one. */
export type ClaimsFn = (resource: Resource, httpPort: number) => Claims;

const cache = new WeakMap<Resource, { readonly httpPort: number; readonly claims: Claims }>();

export const claimsOf: ClaimsFn = (resource, httpPort) => {
  const cached = cache.get(resource);
  if (cached !== undefined && cached.httpPort === httpPort) return cached.claims;
  const routes = resource.kind === 'Ingress' ? resource.rules.flatMap((rule, i) => routeClaims(rule, i, httpPort)) : [];
  const name = `name\u0000${resource.kind}/${resource.name}`;
  const id = `id\u0000${resource.id}`;
  const claims: Claims = { name, id, routes, slots: [name, id, ...routes.map((r) => r.slot)] };
  cache.set(resource, { httpPort, claims });
  return claims;
};

/** A rule's own hostname+port, plus `httpPort` for a redirect that does not sit on it already. */
function routeClaims(rule: Rule, index: number, httpPort: number): RouteClaim[] {
  const host = hostKey(rule.match.hostname);
  const path = pathMatchOf(rule);
  const suffix = path === undefined ? '' : `\u0000${pathKey(path)}`;
  const claim = (port: number, redirect: boolean): RouteClaim => ({ slot: `host\u0000${host}\u0000${port}${suffix}`, rule: index, host, port, path, redirect, tls: rule.tls && !redirect });
  const claims = [claim(rule.match.port, false)];
  if (rule.redirect_http && rule.tls && rule.match.port !== httpPort) claims.push(claim(httpPort, true));
  return claims;
}
