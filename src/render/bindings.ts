import { isPattern, parsePattern, templateCaptures, expandTemplate } from '../model/hostname.js';
import { resolvePages } from '../model/error-pages.js';
import type { Ingress, Rule } from '../model/resource.js';
import type { InstanceLookup } from './instances.js';
import { comparePathMatches, isPlainRule, pathMatchOf, targetsOf } from '../model/routing.js';
import type { Binding, ProxySpec, Upstream } from './model.js';
import { rateLimitSpec } from './policy-rate-limit.js';
import { compareStrings } from './order.js';
import type { RenderWarning } from './types.js';

export interface CollectedBindings {
  /** Sorted by port, host, then ingress id, so nothing downstream depends on input order. */
  readonly bindings: readonly Binding[];
  readonly warnings: readonly RenderWarning[];
}

/**
 * Flattens every ingress rule into a Binding with its upstream resolved.
 * A pattern that does not parse (validation should have stopped it) is skipped with a warning.
 */
export function collectBindings(ingresses: readonly Ingress[], lookup: InstanceLookup, lookupKey: string): CollectedBindings {
  const bindings: Binding[] = [];
  const warnings: RenderWarning[] = [];
  for (const ingress of ingresses) {
    for (const result of bindIngress(ingress, lookup, lookupKey)) {
      if (typeof result === 'string') warnings.push({ resourceId: ingress.id, message: result });
      else bindings.push(result);
    }
  }
  bindings.sort(compareBindings);
  return { bindings, warnings };
}

/**
 * An ingress's bindings depend only on the (immutable) ingress and the instances: remember them
 * per ingress and instance set, so rendering 10,000 ingresses after one changed binds one.
 */
const bindingCache = new WeakMap<Ingress, { readonly lookupKey: string; readonly results: readonly (Binding | string)[] }>();

/** One result per rule: its Binding, or why it was not rendered. Remembered per ingress object. */
export function bindIngress(ingress: Ingress, lookup: InstanceLookup, lookupKey: string): readonly (Binding | string)[] {
  const cached = bindingCache.get(ingress);
  if (cached !== undefined && cached.lookupKey === lookupKey) return cached.results;
  const results = ingress.rules.map((rule) => bindRule(ingress, rule, lookup));
  bindingCache.set(ingress, { lookupKey, results });
  return results;
}

function bindRule(ingress: Ingress, rule: Rule, lookup: InstanceLookup): Binding | string {
  const hostname = rule.match.hostname.toLowerCase();
  const common = {
    ingressId: ingress.id,
    port: rule.match.port,
    tls: rule.tls,
    redirect: rule.tls && rule.redirect_http,
  };
  const targets = targetsOf(rule);
  if (targets.length === 0) return `rule for "${rule.match.hostname}" on port ${rule.match.port} was not rendered: it has no target`;
  if (!isPattern(hostname)) {
    const upstreams = targets.map((t) => literalUpstream(t.instance, t.port, lookup));
    return { ...common, host: hostname, isPattern: false, upstream: upstreams[0]!, proxy: proxySpec(ingress.id, hostname, rule, upstreams, ingress.files) };
  }
  const parsed = parsePattern(rule.match.hostname);
  if (!parsed.ok) return `rule for "${rule.match.hostname}" on port ${rule.match.port} was not rendered: ${parsed.message}`;
  const pattern = parsed.pattern;
  const upstreams = targets.map((t): Upstream =>
    templateCaptures(t.instance).length === 0
      ? literalUpstream(t.instance, t.port, lookup)
      : // Placeholders are lowercase, so lowercasing the expansion only touches the literal text.
        { dnsName: expandTemplate(t.instance, pattern).toLowerCase(), port: t.port, instance: undefined },
  );
  return { ...common, host: pattern.wildcard, isPattern: true, upstream: upstreams[0]!, proxy: proxySpec(ingress.id, pattern.wildcard, rule, upstreams, ingress.files) };
}

/** The proxy spec of a rule beyond the original shape; undefined for a plain one. */
function proxySpec(ingressId: string, host: string, rule: Rule, upstreams: readonly Upstream[], files: Ingress['files']): ProxySpec | undefined {
  if (isPlainRule(rule)) return undefined;
  const targets = targetsOf(rule);
  return {
    path: pathMatchOf(rule),
    upstreams: upstreams.map((u, i) => ({ ...u, weight: targets[i]?.weight ?? 1 })),
    stripPathPrefix: rule.strip_path_prefix === true,
    loadBalancing: rule.load_balancing,
    healthCheck: rule.health_check,
    maxRequestBody: rule.max_request_body,
    headers: rule.headers,
    allowIps: rule.allow_ips,
    denyIps: rule.deny_ips,
    rateLimit: rateLimitSpec(ingressId, host, rule),
    timeouts: rule.timeouts,
    compress: rule.compress === true,
    basicAuth: rule.basic_auth,
    files: rule.basic_auth?.users_file === undefined ? undefined : files,
    errorPages: rule.error_pages === undefined ? undefined : resolvePages(rule.error_pages, files),
  };
}

function literalUpstream(target: string, port: number, lookup: InstanceLookup): Upstream {
  const instance = lookup(target);
  return { dnsName: (instance?.name ?? target).toLowerCase(), port, instance };
}

/** By port, host, ingress id, upstream, flags, then path (see comparePathMatches): the order `collectBindings` returns. */
export function compareBindings(a: Binding, b: Binding): number {
  return (
    a.port - b.port ||
    compareStrings(a.host, b.host) ||
    compareStrings(a.ingressId, b.ingressId) ||
    compareStrings(a.upstream.dnsName, b.upstream.dnsName) ||
    a.upstream.port - b.upstream.port ||
    Number(a.tls) - Number(b.tls) ||
    Number(a.redirect) - Number(b.redirect) ||
    Number(a.proxy !== undefined) - Number(b.proxy !== undefined) ||
    comparePathMatches(a.proxy?.path, b.proxy?.path)
  );
}
