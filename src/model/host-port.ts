/**
 * `host:port` as every listener address, URL authority and dial string needs it: an IPv6 host in
 * brackets (`[::1]:2019`), anything else as it is. Like Go's `net.JoinHostPort`, which Caddy uses
 * to read them back. A host already in brackets is left alone.
 */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
