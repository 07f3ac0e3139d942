import { ID_PREFIX } from '../model/ownership.js';
import type { Binding, HeldPath, Owned } from './model.js';
import type { JsonObject } from '../model/json.js';
import { comparePathMatches, type PathMatch } from '../model/routing.js';
import { compareStrings, groupBy, uniqueSorted } from './order.js';
import { pathMatcher, pathToken } from './rule-groups.js';

/**
 * HTTP→HTTPS redirect routes for the server on the HTTP port `port`: one per TLS port that
 * redirected rules listen on, sorted by that port. Given all bindings; uses those with `redirect`.
 *
 * - The `protocol: "http"` matcher keeps an HTTPS request from matching (the seed's redirect loop).
 * - The Location carries `:<port>` unless the TLS port is 443: `{http.request.host}` has no port,
 *   so a bare redirect lands on 443 (the seed's bug). CADDY_HTTPS_PORT does not change this: the
 *   client must reach the port the TLS rule really listens on.
 * - A redirecting rule that itself listens on the HTTP port is left out (it would redirect to itself).
 * - A rule with a path redirects only that path (its claim holds only that path on the HTTP port):
 *   one route each (`paths`), in path order (exact, then longest prefix first). Such a route goes
 *   before the port's literal path rules, so it steps aside (`not` its paths) for the more
 *   specific paths inside it that a plain-HTTP rule of the same host holds (`heldPaths`): a
 *   plain-HTTP `/api/public` beside a redirected TLS `/api` is served, the rest of `/api` redirected.
 * - Host-wide redirects (`hosts`) hold only the host's catch-all on the HTTP port, so they go after
 *   the port's literal path rules (a plain-HTTP `/healthz` of the same host beside a redirected
 *   TLS rule is served, not redirected) and before its exact hosts and patterns.
 */
export function redirectRoutes(port: number, bindings: readonly Binding[], heldPaths: readonly HeldPath[] = []): { readonly paths: Owned[]; readonly hosts: Owned[] } {
  const redirected = bindings.filter((b) => b.redirect && b.port !== port);
  const withPath = redirected.filter((b) => b.proxy?.path !== undefined);
  withPath.sort((a, b) => comparePathMatches(a.proxy?.path, b.proxy?.path) || compareStrings(a.host, b.host) || a.port - b.port);
  const paths = withPath.map((b): Owned => {
    const path = b.proxy!.path!;
    const id = `${ID_PREFIX}.${port}.redirect.${b.port}.${b.host.replaceAll('*', '_')}.${pathToken(path)}`;
    const inside = heldPaths.filter((held) => held.host === b.host && comparePathMatches(held.path, path) < 0 && within(held.path, path));
    inside.sort((x, y) => comparePathMatches(x.path, y.path));
    const except = inside.flatMap((held) => pathMatcher(held.path));
    return { id, owners: [b.ingressId], json: redirectJson(id, [b.host], b.port, pathMatcher(path), except) };
  });
  const byTlsPort = groupBy(
    redirected.filter((b) => b.proxy?.path === undefined),
    (b) => String(b.port).padStart(5, '0'),
  );
  const hosts = byTlsPort.map(([, group]): Owned => {
    const tlsPort = group[0]!.port;
    const id = `${ID_PREFIX}.${port}.redirect.${tlsPort}`;
    return { id, owners: uniqueSorted(group.map((b) => b.ingressId)), json: redirectJson(id, uniqueSorted(group.map((b) => b.host)), tlsPort, undefined) };
  });
  return { paths, hosts };
}

/** True when every request `inner` matches, `outer` matches too (Caddy's path matcher ignores case). */
function within(inner: PathMatch, outer: PathMatch): boolean {
  const a = inner.path.toLowerCase();
  const b = outer.path.toLowerCase();
  if (outer.type === 'exact') return inner.type === 'exact' && a === b;
  return b === '/' || a === b || a.startsWith(`${b}/`);
}

function redirectJson(id: string, hosts: readonly string[], tlsPort: number, path: readonly string[] | undefined, except: readonly string[] = []): JsonObject {
  const portSuffix = tlsPort === 443 ? '' : `:${tlsPort}`;
  const match: JsonObject = { host: [...hosts], protocol: 'http' };
  if (path !== undefined) match['path'] = [...path];
  if (except.length > 0) match['not'] = [{ path: [...except] }];
  return {
    '@id': id,
    match: [match],
    handle: [
      {
        handler: 'static_response',
        status_code: 301,
        headers: { Location: [`https://{http.request.host}${portSuffix}{http.request.uri}`] },
      },
    ],
    terminal: true,
  };
}
