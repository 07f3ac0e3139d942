/**
 * Checks that a listen address is free before Caddy is asked to bind it.
 *
 * Why: Caddy 2.6.2 does not fully roll back a config whose listener fails to bind: the servers it
 * had already started for that config keep accepting connections beside the old ones
 * (caddyserver/caddy#7175), so the same host answers from two configs in turn. A port held by
 * another process must therefore be caught here, and never reach Caddy.
 */
import { createServer } from 'node:net';

/** `127.0.0.1:8080` / `[::]:80` → whether nothing listens there now (a bind succeeds). */
export function isListenFree(listen: string): Promise<boolean> {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(listen.slice(at + 1));
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: host === '' ? undefined : host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The port of a listen address (`[::]:80` → 80). */
export function portOfListen(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}
