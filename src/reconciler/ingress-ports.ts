import type { Ingress } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';

/**
 * Every port an ingress makes Caddy listen on: its rules' ports, the HTTP port its redirects
 * occupy, and the port its certificates' ACME challenge is answered on.
 */
export function portsOf(ingress: Ingress, settings: RenderSettings): Set<number> {
  const ports = new Set<number>();
  const challenge = settings.tls.acme?.challenge;
  for (const rule of ingress.rules) {
    ports.add(rule.match.port);
    if (rule.tls && rule.redirect_http) ports.add(settings.tls.httpPort);
    if (rule.tls && challenge === 'http-01') ports.add(settings.httpPort);
    if (rule.tls && challenge === 'tls-alpn-01') ports.add(settings.httpsPort);
  }
  return ports;
}
