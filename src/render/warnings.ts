import type { RenderSettings } from '../model/settings.js';
import type { Binding } from './model.js';
import { compareStrings } from './order.js';
import type { RenderWarning } from './types.js';

/**
 * Warnings about bindings that render, but not as their rule asked:
 * - static mode, literal host, undeclared instance: the route answers 503;
 * - a TLS-less rule on a port that has TLS rules: Caddy speaks TLS on the whole port;
 * - `redirect_http` on a rule that listens on the HTTP port itself: no redirect is rendered.
 */
export function bindingWarnings(bindings: readonly Binding[], settings: RenderSettings): RenderWarning[] {
  const tlsPorts = new Set(bindings.filter((b) => b.tls).map((b) => b.port));
  const warnings: RenderWarning[] = [];
  for (const b of bindings) {
    const where = `"${b.host}" on port ${b.port}`;
    if (settings.upstreamMode === 'static' && !b.isPattern && b.upstream.instance === undefined) {
      warnings.push({ resourceId: b.ingressId, message: `instance "${b.upstream.dnsName}" is not declared, so ${where} answers 503 until an Instance with that name exists` });
    }
    if (!b.tls && tlsPorts.has(b.port)) {
      warnings.push({ resourceId: b.ingressId, message: `${where} has tls: false, but other rules on port ${b.port} use TLS, so Caddy serves it over HTTPS too; move it to another port` });
    }
    if (b.redirect && b.port === settings.tls.httpPort) {
      warnings.push({ resourceId: b.ingressId, message: `${where} asks for redirect_http but listens on the HTTP port itself; no redirect was rendered` });
    }
  }
  return warnings;
}

/** Sorted by resource id, then message, without duplicates. */
export function normalizeWarnings(warnings: readonly RenderWarning[]): RenderWarning[] {
  const seen = new Set<string>();
  const unique: RenderWarning[] = [];
  for (const w of warnings) {
    const key = `${w.resourceId}\u0000${w.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(w);
  }
  return unique.sort((a, b) => compareStrings(a.resourceId, b.resourceId) || compareStrings(a.message, b.message));
}
