import { isPattern, parsePattern, templateCaptures, expandTemplate } from '../model/hostname.js';
import type { Ingress, Rule } from '../model/resource.js';
import type { InstanceLookup } from './instances.js';
import type { Binding, Upstream } from './model.js';
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
  const results = ingress.rules.map((rule) => bindRule(ingress.id, rule, lookup));
  bindingCache.set(ingress, { lookupKey, results });
  return results;
}

function bindRule(ingressId: string, rule: Rule, lookup: InstanceLookup): Binding | string {
  const hostname = rule.match.hostname.toLowerCase();
  const common = {
    ingressId,
    port: rule.match.port,
    tls: rule.tls,
    redirect: rule.tls && rule.redirect_http,
  };
  if (!isPattern(hostname)) {
    return { ...common, host: hostname, isPattern: false, upstream: literalUpstream(rule.target.instance, rule.target.port, lookup) };
  }
  const parsed = parsePattern(rule.match.hostname);
  if (!parsed.ok) return `rule for "${rule.match.hostname}" on port ${rule.match.port} was not rendered: ${parsed.message}`;
  const template = rule.target.instance;
  const upstream: Upstream =
    templateCaptures(template).length === 0
      ? literalUpstream(template, rule.target.port, lookup)
      : // Placeholders are lowercase, so lowercasing the expansion only touches the literal text.
        { dnsName: expandTemplate(template, parsed.pattern).toLowerCase(), port: rule.target.port, instance: undefined };
  return { ...common, host: parsed.pattern.wildcard, isPattern: true, upstream };
}

function literalUpstream(target: string, port: number, lookup: InstanceLookup): Upstream {
  const instance = lookup(target);
  return { dnsName: (instance?.name ?? target).toLowerCase(), port, instance };
}

/** By port, host, ingress id, then upstream and flags: the order `collectBindings` returns. */
export function compareBindings(a: Binding, b: Binding): number {
  return (
    a.port - b.port ||
    compareStrings(a.host, b.host) ||
    compareStrings(a.ingressId, b.ingressId) ||
    compareStrings(a.upstream.dnsName, b.upstream.dnsName) ||
    a.upstream.port - b.upstream.port ||
    Number(a.tls) - Number(b.tls) ||
    Number(a.redirect) - Number(b.redirect)
  );
}
