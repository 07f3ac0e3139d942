import { ID_PREFIX } from '../model/ownership.js';
import type { Binding, Owned } from './model.js';
import { groupBy, uniqueSorted } from './order.js';

/**
 * HTTP→HTTPS redirect routes for the server on the HTTP port `port`: one per TLS port that
 * redirected rules listen on, sorted by that port. Given all bindings; uses those with `redirect`.
 *
 * - The `protocol: "http"` matcher keeps an HTTPS request from matching (the seed's redirect loop).
 * - The Location carries `:<port>` unless the TLS port is 443: `{http.request.host}` has no port,
 *   so a bare redirect lands on 443 (the seed's bug). CADDY_HTTPS_PORT does not change this: the
 *   client must reach the port the TLS rule really listens on.
 * - A redirecting rule that itself listens on the HTTP port is left out (it would redirect to itself).
 */
export function redirectRoutes(port: number, bindings: readonly Binding[]): Owned[] {
  const redirected = bindings.filter((b) => b.redirect && b.port !== port);
  const byTlsPort = groupBy(redirected, (b) => String(b.port).padStart(5, '0'));
  return byTlsPort.map(([, group]): Owned => {
    const tlsPort = group[0]!.port;
    const id = `${ID_PREFIX}.${port}.redirect.${tlsPort}`;
    const portSuffix = tlsPort === 443 ? '' : `:${tlsPort}`;
    return {
      id,
      owners: uniqueSorted(group.map((b) => b.ingressId)),
      json: {
        '@id': id,
        match: [{ host: uniqueSorted(group.map((b) => b.host)), protocol: 'http' }],
        handle: [
          {
            handler: 'static_response',
            status_code: 301,
            headers: { Location: [`https://{http.request.host}${portSuffix}{http.request.uri}`] },
          },
        ],
        terminal: true,
      },
    };
  });
}
