/**
 * Routes of rules beyond the original shape (a path, several targets, proxy options): one route
 * per rule, matching its host and path, placed so that Caddy, which takes the first matching route,
 * honours the precedence of HTTPRoute path matching (see model/routing.ts):
 * - literal hosts: every such route comes before the host lists of plain rules (a host's
 *   catch-all), exact paths first, then prefixes longest first, then catch-alls with proxy options;
 *   routes of different literal hosts never match the same request, so their relative order is
 *   only for determinism;
 * - pattern hosts: merged into the pattern order, most specific pattern first and, within one
 *   pattern, by path (see `orderedPatternRoutes`), so a more specific host still wins over a path.
 */
import { ID_PREFIX } from '../model/ownership.js';
import { comparePathMatches, type PathMatch } from '../model/routing.js';
import type { RenderSettings } from '../model/settings.js';
import type { JsonObject } from '../model/json.js';
import { compareBindings } from './bindings.js';
import { idToken } from './instances.js';
import type { Binding, Owned, ProxySpec } from './model.js';
import { uniqueSorted } from './order.js';
import { proxyHandler } from './proxy.js';
import { compareSpecificity, groupPatterns, patternRoute } from './routes.js';

/** Caddy `path` matcher values: a prefix matches itself and whole segments below it, never `/apis` for `/api`. */
export function pathMatcher(path: PathMatch): string[] {
  return path.type === 'exact' ? [path.path] : [path.path, `${path.path}/*`];
}

/** `all`, or `<type>.<token of the path>`: the path's part of an `@id`. */
export function pathToken(path: PathMatch | undefined): string {
  return path === undefined ? 'all' : `${path.type}.${idToken(path.path)}`;
}

/** Unique per port: the claims let one rule at most hold a host (pattern by wildcard form), port and path. */
export function ruleRouteId(port: number, host: string, path: PathMatch | undefined): string {
  return `${ID_PREFIX}.${port}.rule.${host.replaceAll('*', '_')}.${pathToken(path)}`;
}

/** The route of one binding with a proxy spec. Owners: its ingress and the declared instances it targets. */
export function ruleRoute(port: number, binding: Binding & { readonly proxy: ProxySpec }, settings: RenderSettings): Owned {
  const { proxy } = binding;
  const id = ruleRouteId(port, binding.host, proxy.path);
  const match: JsonObject = { host: [binding.host] };
  if (proxy.path !== undefined) match['path'] = pathMatcher(proxy.path);
  const handle: JsonObject[] = [];
  // Caddy makes an emptied path `/`, so `/api` itself reaches the target as `/`.
  if (proxy.stripPathPrefix && proxy.path !== undefined) handle.push({ handler: 'rewrite', strip_path_prefix: proxy.path.path });
  handle.push(proxyHandler(proxy, binding.isPattern, settings));
  const owners = [binding.ingressId, ...proxy.upstreams.flatMap((u) => (u.instance === undefined ? [] : [u.instance.id]))];
  return { id, owners: uniqueSorted(owners), json: { '@id': id, match: [match], handle, terminal: true } };
}

function hasProxy(binding: Binding): binding is Binding & { readonly proxy: ProxySpec } {
  return binding.proxy !== undefined;
}

/** Literal-host bindings with a proxy spec of one port → their routes, in match order (see the header). */
export function literalRuleRoutes(port: number, bindings: Iterable<Binding>, settings: RenderSettings): Owned[] {
  const literal = [...bindings].filter((b) => !b.isPattern).filter(hasProxy);
  literal.sort((a, b) => comparePathMatches(a.proxy.path, b.proxy.path) || compareBindings(a, b));
  return literal.map((b) => ruleRoute(port, b, settings));
}

/**
 * Pattern bindings of one port (plain and with proxy specs) → their routes, in match order: most
 * specific pattern first, then by path within a pattern; neighbouring plain bindings with the same
 * upstream share a route (`groupPatterns`), a binding with a proxy spec has its own.
 */
export function orderedPatternRoutes(port: number, bindings: Iterable<Binding>, settings: RenderSettings): Owned[] {
  const sorted = [...bindings]
    .filter((b) => b.isPattern)
    .sort((a, b) => compareSpecificity(a.host, b.host) || comparePathMatches(a.proxy?.path, b.proxy?.path) || compareBindings(a, b));
  const out: Owned[] = [];
  let plain: Binding[] = [];
  const flush = (): void => {
    for (const group of groupPatterns(plain)) out.push(patternRoute(port, group, settings));
    plain = [];
  };
  for (const binding of sorted) {
    if (!hasProxy(binding)) {
      plain.push(binding);
      continue;
    }
    flush();
    out.push(ruleRoute(port, binding, settings));
  }
  flush();
  return out;
}
