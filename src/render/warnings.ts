import type { RenderSettings } from '../model/settings.js';
import type { Binding } from './model.js';
import { compareStrings } from './order.js';
import { challengePort } from './tls.js';
import type { RenderWarning } from './types.js';

/**
 * Warnings about bindings that render, but not as their rule asked:
 * - static mode, literal host, undeclared instance: the route answers 503 (a rule with several
 *   targets leaves that target out, and answers 503 when none is declared);
 * - a TLS-less rule on a port that has TLS rules: Caddy speaks TLS on the whole port;
 * - `redirect_http` on a rule that listens on the HTTP port itself: no redirect is rendered;
 * - tls-alpn-01 while only plain-HTTP rules use the HTTPS port: no TLS there to answer challenges.
 */
export function bindingWarnings(bindings: readonly Binding[], settings: RenderSettings): RenderWarning[] {
  const tlsPorts = new Set(bindings.filter((b) => b.tls).map((b) => b.port));
  const warnings: RenderWarning[] = [];
  for (const b of bindings) warnings.push(...ruleWarnings(b, tlsPorts, settings));
  const alpnPort = settings.tls.acme?.challenge === 'tls-alpn-01' ? challengePort(bindings, settings) : undefined;
  const onAlpnPort = bindings.filter((b) => b.port === alpnPort);
  if (alpnPort !== undefined && onAlpnPort.length > 0 && onAlpnPort.every((b) => !b.tls)) warnings.push(...alpnWarnings(bindings, alpnPort));
  return warnings;
}

/**
 * The first three kinds of `bindingWarnings` for one binding: they depend on nothing else but the
 * set of ports that have a TLS rule, so an incremental renderer can keep them per ingress.
 */
export function ruleWarnings(b: Binding, tlsPorts: ReadonlySet<number>, settings: RenderSettings): RenderWarning[] {
  const warnings: RenderWarning[] = [];
  const where = `"${b.host}" on port ${b.port}`;
  if (settings.upstreamMode === 'static' && !b.isPattern && b.proxy === undefined && b.upstream.instance === undefined) {
    warnings.push({ resourceId: b.ingressId, message: `instance "${b.upstream.dnsName}" is not declared, so ${where} answers 503 until an Instance with that name exists` });
  }
  if (settings.upstreamMode === 'static' && !b.isPattern && b.proxy !== undefined) {
    const path = b.proxy.path === undefined ? '' : ` (${b.proxy.path.type} ${b.proxy.path.path})`;
    const declared = b.proxy.upstreams.filter((u) => u.instance !== undefined).length;
    for (const u of b.proxy.upstreams.filter((t) => t.instance === undefined)) {
      const effect = declared === 0 ? 'answers 503' : `sends nothing to it`;
      warnings.push({ resourceId: b.ingressId, message: `instance "${u.dnsName}" is not declared, so ${where}${path} ${effect} until an Instance with that name exists` });
    }
  }
  if (!b.tls && tlsPorts.has(b.port)) {
    warnings.push({ resourceId: b.ingressId, message: `${where} has tls: false, but other rules on port ${b.port} use TLS, so Caddy serves it over HTTPS too; move it to another port` });
  }
  if (b.redirect && b.port === settings.tls.httpPort) {
    warnings.push({ resourceId: b.ingressId, message: `${where} asks for redirect_http but listens on the HTTP port itself; no redirect was rendered` });
  }
  return warnings;
}

/** The tls-alpn-01 warning of `bindingWarnings`, for every TLS binding, once it applies. */
export function alpnWarnings(bindings: Iterable<Binding>, alpnPort: number): RenderWarning[] {
  const warnings: RenderWarning[] = [];
  for (const b of bindings) {
    if (!b.tls) continue;
    warnings.push({
      resourceId: b.ingressId,
      message: `"${b.host}" cannot get a certificate: tls-alpn-01 challenges are answered on the HTTPS port ${alpnPort}, where only plain-HTTP rules listen; move those rules or use ACME_CHALLENGE=http-01`,
    });
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
