import { atLeast, SINCE } from '../model/caddy-version.js';
import type { JsonObject } from '../model/json.js';
import { assertNever } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import { withProxyTrust } from './client-ip.js';
import type { Upstream } from './model.js';
import { joinHostPort } from '../model/host-port.js';


/**
 * The handler of a proxy route.
 * - `dns` (always used for pattern rules): an A lookup of `<dnsName>.<dnsZone>` at the instance DNS
 *   server, so address changes need no config write; an undeclared instance answers NXDOMAIN and
 *   Caddy replies 503 until it appears.
 * - `static`: a fixed dial to the declared instance's address; an undeclared instance gets a 503
 *   static_response naming it (render also warns).
 */
export function upstreamHandler(upstream: Upstream, mode: RenderSettings['upstreamMode'], settings: RenderSettings): JsonObject {
  switch (mode) {
    case 'dns':
      return withProxyDefaults({ handler: 'reverse_proxy', dynamic_upstreams: dynamicUpstreams(upstream, settings), transport: transport(settings) }, settings);
    case 'static':
      if (upstream.instance === undefined) return missingInstance(upstream.dnsName);
      return withProxyDefaults({
        handler: 'reverse_proxy',
        upstreams: [{ dial: joinHostPort(upstream.instance.address, upstream.port) }],
        transport: transport(settings),
      }, settings);
    default:
      return assertNever(mode);
  }
}

/**
 * Every reload unloads every handler, changed or not, and Caddy closes the upgraded connections
 * (WebSockets) of an unloaded proxy at once unless `stream_close_delay` says how long they may
 * live on (Caddy 2.7+; 2.6.2 rejects the field, so settings leave it undefined there).
 */
export function withProxyDefaults(handler: JsonObject, settings: RenderSettings): JsonObject {
  // Caddy 2.6 rejects the field (strict decoding): only a Caddy that has it gets it.
  const delay = atLeast(settings.caddy.version, SINCE.streamCloseDelay) ? settings.streamCloseDelay : undefined;
  return withProxyTrust(delay === undefined ? handler : { ...handler, stream_close_delay: delay }, settings);
}

export function dynamicUpstreams(upstream: Upstream, settings: RenderSettings): JsonObject {
  return {
    source: 'a',
    name: `${upstream.dnsName}.${settings.dnsZone}`,
    // Caddy 2.6.2 wants the port as a string (it may hold a placeholder).
    port: String(upstream.port),
    // Caddy caches answers per name:port for `refresh` (default 1m) and ignores the DNS TTL.
    refresh: settings.upstreamRefresh,
    // Expected as `udp/host:port`: Caddy 2.6.2 dials a bare `host:port` over TCP.
    resolver: { addresses: [settings.dnsResolver] },
  };
}

/** Idle upstream connections kept per backend. Caddy 2.6 otherwise keeps Go's default of 2,
 *  and busy routes open a new upstream connection for most requests (measured by the benchmark:
 *  440-690 per 1,000 requests; 32 brought it to 0 and single-host throughput up 1.7-2.6x). */
const IDLE_CONNS_PER_HOST = 32;

export function transport(settings: RenderSettings): JsonObject {
  // A finite idle timeout bounds the connections (and memory) that pile up across reloads.
  return { protocol: 'http', keep_alive: { idle_timeout: settings.upstreamIdleTimeout, max_idle_conns_per_host: IDLE_CONNS_PER_HOST } };
}

export function missingInstance(name: string): JsonObject {
  return {
    handler: 'static_response',
    status_code: 503,
    headers: { 'Content-Type': ['text/plain; charset=utf-8'] },
    body: `Service Unavailable: instance "${name}" is not declared\n`,
  };
}
