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
import type { JsonObject } from '../model/json.js';
import { comparePathMatches } from '../model/routing.js';
import type { RenderSettings } from '../model/settings.js';
import { compareBindings } from './bindings.js';
import type { Binding, Owned } from './model.js';
import { uniqueSorted } from './order.js';
import { handlingOf, hasProxy, pathMatcher, ruleRouteId, RuleGroups, type ProxyBinding } from './rule-groups.js';
import { compareSpecificity, groupPatterns, patternRoute } from './routes.js';

/** The route of one binding with a proxy spec, on its own (patterns). Owners: its ingress and the declared instances it targets. */
export function ruleRoute(port: number, binding: ProxyBinding, settings: RenderSettings): Owned {
  const id = ruleRouteId(port, binding.host, binding.proxy.path);
  const match: JsonObject = { host: [binding.host] };
  if (binding.proxy.path !== undefined) match['path'] = pathMatcher(binding.proxy.path);
  const owners = uniqueSorted([binding.ingressId, ...binding.proxy.upstreams.flatMap((u) => (u.instance === undefined ? [] : [u.instance.id]))]);
  return { id, owners, json: { '@id': id, match: [match], handle: [...handlingOf(binding, settings).handle], terminal: true } };
}

/**
 * Literal-host bindings with a proxy spec of one port → their routes, in match order (see the
 * header and `RuleGroups`, which the incremental renderer keeps per port instead).
 */
export function literalRuleRoutes(port: number, bindings: Iterable<Binding>, settings: RenderSettings): Owned[] {
  const groups = new RuleGroups(port, settings, true);
  for (const binding of bindings) if (!binding.isPattern && hasProxy(binding)) groups.add(binding);
  return groups.routes();
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
