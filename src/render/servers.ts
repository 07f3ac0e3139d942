import type { JsonObject } from '../model/json.js';
import { ID_PREFIX } from '../model/ownership.js';
import type { RenderSettings } from '../model/settings.js';
import type { Binding, Owned } from './model.js';
import { uniqueSorted } from './order.js';
import { redirectRoutes } from './redirects.js';
import { errorRoutes, notFoundPage } from './error-pages.js';
import { exactRoutes, notFoundRoute } from './routes.js';
import { literalRuleRoutes, orderedPatternRoutes } from './rule-routes.js';
import { serverTrust } from './client-ip.js';
import { challengePort } from './tls.js';
import { joinHostPort } from '../model/host-port.js';

/**
 * Ports that get a server, ascending: every rule's port; `settings.tls.httpPort` when a TLS rule
 * redirects HTTP; and the ACME challenge port (`challengePort`) when one is in use.
 */
export function listenPorts(bindings: readonly Binding[], settings: RenderSettings): number[] {
  const ports = new Set(bindings.map((b) => b.port));
  if (bindings.some((b) => b.redirect)) ports.add(settings.tls.httpPort);
  const challenge = challengePort(bindings, settings);
  if (challenge !== undefined) ports.add(challenge);
  return [...ports].sort((a, b) => a - b);
}

export interface RenderedServer {
  readonly json: JsonObject;
  /** The server itself, then its routes in order. */
  readonly pieces: readonly Owned[];
}

/**
 * One server per port, so rules on different ports never see each other's routes and automatic
 * HTTPS applies per port. Routes: path redirects (HTTP port only), literal-host rules with a path or
 * proxy options (rule-routes.ts), host-wide redirects (HTTP port only), exact hosts, patterns (with
 * their path rules), then the 404. Error pages go in `errors.routes` (error-pages.ts).
 * `automatic_https` is `disable_redirects` when the port has a TLS rule (we write our own
 * redirects), else `disable`. A server that exists only to answer TLS-ALPN-01 challenges (no rule
 * on `settings.httpsPort`) gets an empty TLS connection policy, so it speaks TLS (Caddy adds the
 * `acme-tls/1` protocol itself). Owners: the ingresses with a rule on the port, plus those
 * redirected from it or whose challenges it answers.
 */
export function renderServer(port: number, allBindings: readonly Binding[], settings: RenderSettings): RenderedServer {
  const bindings = allBindings.filter((b) => b.port === port);
  const isHttpPort = port === settings.tls.httpPort;
  const held = bindings.flatMap((b) => (b.isPattern || b.proxy?.path === undefined ? [] : [{ host: b.host, path: b.proxy.path }]));
  const redirects = isHttpPort ? redirectRoutes(port, allBindings, held) : { paths: [], hosts: [] };
  const routes = [
    ...redirects.paths,
    ...literalRuleRoutes(port, bindings, settings),
    ...redirects.hosts,
    ...exactRoutes(port, bindings, settings),
    ...orderedPatternRoutes(port, bindings, settings),
    notFoundRoute(port, notFoundPage(settings)),
  ];
  const id = `${ID_PREFIX}.server.${port}`;
  const owners = bindings.map((b) => b.ingressId);
  for (const redirect of [...redirects.paths, ...redirects.hosts]) owners.push(...redirect.owners);
  const isChallengePort = port === challengePort(allBindings, settings);
  if (isChallengePort) owners.push(...allBindings.filter((b) => b.tls).map((b) => b.ingressId));
  const json = serverJson(port, routes.map((r) => r.json), { hasTls: bindings.some((b) => b.tls), challengeOnly: isChallengePort && !isHttpPort && bindings.length === 0, errorRoutes: errorRoutes(port, bindings, settings) }, settings);
  return { json, pieces: [{ id, json, owners: uniqueSorted(owners) }, ...routes] };
}

export interface ServerShape {
  /** Some rule on this port has TLS. */
  readonly hasTls: boolean;
  /** The port exists only to answer TLS-ALPN-01 challenges (see `renderServer`). */
  readonly challengeOnly: boolean;
  /** The server's `errors.routes` (error-pages.ts); none when empty or absent. */
  readonly errorRoutes?: readonly JsonObject[];
}

/**
 * `apps.http` around the rendered servers: the ports automatic HTTPS and ACME use, and a bounded
 * `grace_period` (Caddy's default, 0, makes a stopping Caddy wait for ever on open WebSockets).
 */
export function httpApp(servers: JsonObject, settings: RenderSettings): JsonObject {
  return { http_port: settings.httpPort, https_port: settings.httpsPort, grace_period: settings.gracePeriod, servers };
}

/** The server object of `port` around its (already rendered) routes. */
export function serverJson(port: number, routes: readonly JsonObject[], shape: ServerShape, settings: RenderSettings): JsonObject {
  const json: JsonObject = {
    '@id': `${ID_PREFIX}.server.${port}`,
    listen: [joinHostPort(settings.listenAddress, port)],
    automatic_https: shape.hasTls ? { disable_redirects: true } : { disable: true },
    routes: [...routes],
    ...serverTrust(settings),
  };
  if (shape.challengeOnly) json['tls_connection_policies'] = [{}];
  if (shape.errorRoutes !== undefined && shape.errorRoutes.length > 0) json['errors'] = { routes: [...shape.errorRoutes] };
  return json;
}
