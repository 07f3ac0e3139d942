import { ID_PREFIX } from '../model/ownership.js';
import type { RenderSettings } from '../model/settings.js';
import { idToken } from './instances.js';
import type { Binding, Owned, Upstream } from './model.js';
import { compareStrings, groupBy, uniqueSorted } from './order.js';
import { upstreamHandler } from './upstreams.js';

/**
 * Exact-host routes of one server: every literal hostname that proxies to the same upstream
 * (instance + target port) shares one route with a sorted host list. Caddy binary-searches host
 * lists longer than 100 entries, so many hosts on few instances route in O(log n), and the route
 * count (which drives reload cost) follows the number of upstreams, not of hosts.
 * Sorted by `@id`. Owners: the ingresses of the hosts and the instance, when declared.
 */
export function exactRoutes(port: number, bindings: readonly Binding[], settings: RenderSettings): Owned[] {
  const literal = bindings.filter((b) => !b.isPattern);
  const groups = groupBy(literal, (b) => `${b.upstream.dnsName}\u0000${b.upstream.port}`);
  const routes = groups.map(([, group]): Owned => {
    const owners = group.map((b) => b.ingressId);
    const { upstream } = group[0]!;
    if (upstream.instance) owners.push(upstream.instance.id);
    return { ...exactRoute(port, upstream, uniqueSorted(group.map((b) => b.host)), settings), owners: uniqueSorted(owners) };
  });
  return routes.sort((a, b) => compareStrings(a.id, b.id));
}

/** `@id` of the exact-host route of `upstream` on `port`. */
export function exactRouteId(port: number, upstream: Upstream): string {
  return `${ID_PREFIX}.${port}.exact.${idToken(upstream.dnsName)}.${upstream.port}`;
}

/** The route of every literal host in `hosts` (sorted, unique) proxying to `upstream`; without owners. */
export function exactRoute(port: number, upstream: Upstream, hosts: readonly string[], settings: RenderSettings): Owned {
  const id = exactRouteId(port, upstream);
  return {
    id,
    owners: [],
    json: { '@id': id, match: [{ host: [...hosts] }], handle: [upstreamHandler(upstream, settings.upstreamMode, settings)], terminal: true },
  };
}

/**
 * Pattern-host routes of one server, one per pattern, most specific first: more labels, then more
 * literal labels, then alphabetical. Always DNS upstreams, since the instance is known only per
 * request. Owners: the ingress, plus the instance when the target is a declared literal name.
 */
export function patternRoutes(port: number, bindings: readonly Binding[], settings: RenderSettings): Owned[] {
  const patterns = bindings.filter((b) => b.isPattern).sort((a, b) => compareSpecificity(a.host, b.host));
  return patterns.map((b) => patternRoute(port, b, settings));
}

/** The route of one pattern binding. */
export function patternRoute(port: number, b: Binding, settings: RenderSettings): Owned {
  const id = `${ID_PREFIX}.${port}.pattern.${b.host.replaceAll('*', '_')}`;
  const owners = b.upstream.instance ? [b.ingressId, b.upstream.instance.id] : [b.ingressId];
  return {
    id,
    owners: uniqueSorted(owners),
    json: { '@id': id, match: [{ host: [b.host] }], handle: [upstreamHandler(b.upstream, 'dns', settings)], terminal: true },
  };
}

/** Most specific first: more labels, then more literal labels, then alphabetical. */
export function compareSpecificity(a: string, b: string): number {
  const la = a.split('.');
  const lb = b.split('.');
  const literal = (labels: string[]) => labels.filter((l) => l !== '*').length;
  return lb.length - la.length || literal(lb) - literal(la) || compareStrings(a, b);
}

/**
 * The last route of every server: no matcher, a 404 naming the host. Without it Caddy answers an
 * unmatched host with an empty 200.
 */
export function notFoundRoute(port: number): Owned {
  const id = `${ID_PREFIX}.${port}.notfound`;
  return {
    id,
    owners: [],
    json: {
      '@id': id,
      handle: [
        {
          handler: 'static_response',
          status_code: 404,
          headers: { 'Content-Type': ['text/plain; charset=utf-8'] },
          body: 'Not Found: no ingress configured for hostname {http.request.host}\n',
        },
      ],
    },
  };
}
