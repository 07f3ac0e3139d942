/**
 * Every port and address the benchmark uses. All loopback, all in 28000-29999, so it never meets
 * a developer's Caddy (2019) or the test suite's ports.
 */

export const LOOPBACK = '127.0.0.1';

/** ingressd's own Caddy (started by `ingressd run`). */
export const INGRESSD_ADMIN_PORT = 28119;
export const INGRESSD_DNS_PORT = 28153;
/** Listener ports of ingressd's Caddy: rules use MAIN_PORT and EXTRA_PORTS. */
export const MAIN_PORT = 28080;
export const EXTRA_PORTS: readonly number[] = [28081, 28082, 28083];
/** `CADDY_HTTP_PORT` / `CADDY_HTTPS_PORT`: kept inside the range although no rule uses them. */
export const HTTP_PORT = 28088;
export const HTTPS_PORT = 28089;

/** The Caddy-only instance: same configs, listeners moved by CADDY_ONLY_PORT_OFFSET. */
export const CADDY_ONLY_ADMIN_PORT = 28019;
export const CADDY_ONLY_PORT_OFFSET = 100;

/** Backends: one per instance, each answering with its own address in `x-backend`. */
export const BACKEND_ADDRESSES: readonly string[] = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
export const BACKEND_PORT = 28201;

/** Scenario 10 (WebSockets across writes): its own ingressd, Caddy and ws echo backend. */
export const STREAMS_ADMIN_PORT = 28319;
export const STREAMS_DNS_PORT = 28353;
export const STREAMS_LISTEN_PORT = 28380;
export const STREAMS_BACKEND = { host: '127.0.0.6', port: 28301 } as const;

/** Scenario 11 (hosts × paths): its own ingressd and Caddy; Caddy-only serves the layout on PATHS_LISTEN_PORT + CADDY_ONLY_PORT_OFFSET. */
export const PATHS_ADMIN_PORT = 28419;
export const PATHS_DNS_PORT = 28453;
export const PATHS_LISTEN_PORT = 28480;

/** Scenario 12 (policies): its own ingressd and Caddy, a bare route and a route with every policy. */
export const POLICIES_ADMIN_PORT = 28619;
export const POLICIES_DNS_PORT = 28653;
export const POLICIES_LISTEN_PORT = 28680;
