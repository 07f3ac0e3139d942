/**
 * Routes of rules beyond the original shape (a path, several targets, proxy options), placed so
 * that Caddy, which takes the first matching route, honours the precedence of HTTPRoute path
 * matching (see model/routing.ts):
 * - literal hosts: every such route comes before the host lists of plain rules (a host's
 *   catch-all), exact paths first, then prefixes longest first, then catch-alls with proxy options.
 *   Rules of different literal hosts never match the same request, so hosts with the same path and
 *   the same handling share one route with a host list (binary-searched by Caddy past 100 hosts),
 *   as plain rules do: 10,000 hosts with the same three paths over a few upstreams are a few
 *   routes, not 30,000. Within one host the order is still its rules' path order;
 * - pattern hosts: merged into the pattern order, most specific pattern first and, within one
 *   pattern, by path (see `orderedPatternRoutes`), so a more specific host still wins over a path.
 */
import { ID_PREFIX } from '../model/ownership.js';
import { canonicalize } from '../model/canonical.js';
import { hashOf } from '../model/ids.js';
import { comparePathMatches, pathKey, type PathMatch } from '../model/routing.js';
import type { RenderSettings } from '../model/settings.js';
import type { JsonObject } from '../model/json.js';
import { compareBindings } from './bindings.js';
import { idToken } from './instances.js';
import type { Binding, Owned, ProxySpec } from './model.js';
import { compareStrings, uniqueSorted } from './order.js';
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

type ProxyBinding = Binding & { readonly proxy: ProxySpec };

/** The handlers of a binding's route, canonical, and their text (the grouping key). */
interface Handling {
  readonly settings: RenderSettings;
  readonly handle: readonly JsonObject[];
  readonly key: string;
}

/** Bindings are immutable and kept per ingress (bindings.ts): an unchanged one is not rendered again. */
const handlingCache = new WeakMap<Binding, Handling>();

function handlingOf(binding: ProxyBinding, settings: RenderSettings): Handling {
  const cached = handlingCache.get(binding);
  if (cached !== undefined && cached.settings === settings) return cached;
  const { proxy } = binding;
  const handle: JsonObject[] = [];
  // Caddy makes an emptied path `/`, so `/api` itself reaches the target as `/`.
  if (proxy.stripPathPrefix && proxy.path !== undefined) handle.push({ handler: 'rewrite', strip_path_prefix: proxy.path.path });
  handle.push(proxyHandler(proxy, binding.isPattern, settings));
  const canonical = handle.map((h) => canonicalize(h));
  const handling = { settings, handle: canonical, key: JSON.stringify(canonical) };
  handlingCache.set(binding, handling);
  return handling;
}

function ownersOf(bindings: readonly ProxyBinding[]): string[] {
  return uniqueSorted(bindings.flatMap((b) => [b.ingressId, ...b.proxy.upstreams.flatMap((u) => (u.instance === undefined ? [] : [u.instance.id]))]));
}

function routeJson(id: string, hosts: readonly string[], path: PathMatch | undefined, handle: readonly JsonObject[]): JsonObject {
  const match: JsonObject = { host: [...hosts] };
  if (path !== undefined) match['path'] = pathMatcher(path);
  return { '@id': id, match: [match], handle: [...handle], terminal: true };
}

/** The route of one binding with a proxy spec. Owners: its ingress and the declared instances it targets. */
export function ruleRoute(port: number, binding: ProxyBinding, settings: RenderSettings): Owned {
  const id = ruleRouteId(port, binding.host, binding.proxy.path);
  return { id, owners: ownersOf([binding]), json: routeJson(id, [binding.host], binding.proxy.path, handlingOf(binding, settings).handle) };
}

function hasProxy(binding: Binding): binding is ProxyBinding {
  return binding.proxy !== undefined;
}

/**
 * Literal-host bindings with a proxy spec of one port → their routes, in match order (see the
 * header): grouped by path and handling, groups in path order, then by `@id`. A group of one host
 * is named after the host (`ruleRouteId`); a shared one after its path and a hash of its handling.
 */
export function literalRuleRoutes(port: number, bindings: Iterable<Binding>, settings: RenderSettings): Owned[] {
  const groups = new Map<string, { readonly key: string; readonly path: PathMatch | undefined; readonly handle: readonly JsonObject[]; readonly members: ProxyBinding[] }>();
  for (const binding of bindings) {
    if (binding.isPattern || !hasProxy(binding)) continue;
    const handling = handlingOf(binding, settings);
    const key = `${pathKey(binding.proxy.path)}\u0001${handling.key}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { key, path: binding.proxy.path, handle: handling.handle, members: [binding] });
    else group.members.push(binding);
  }
  const routes = [...groups.values()].map((group) => {
    const hosts = uniqueSorted(group.members.map((b) => b.host));
    const id = hosts.length === 1 ? ruleRouteId(port, hosts[0]!, group.path) : `${ID_PREFIX}.${port}.rules.${pathToken(group.path)}.${hashOf(JSON.stringify(group.handle)).slice(0, 12)}`;
    return { key: group.key, path: group.path, route: { id, owners: ownersOf(group.members), json: routeJson(id, hosts, group.path, group.handle) } };
  });
  // The key breaks ties only in input render does not promise to handle (one host and path twice).
  routes.sort((a, b) => comparePathMatches(a.path, b.path) || compareStrings(a.route.id, b.route.id) || compareStrings(a.key, b.key));
  return routes.map((r) => r.route);
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
