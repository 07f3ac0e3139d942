/** Pure: the routes an accepted ingress is served with, as shown in its status file. */
import { isPattern } from '../model/hostname.js';
import type { Ingress, Instance, Rule, RuleTarget } from '../model/resource.js';
import { describePolicies } from '../model/policies.js';
import { isPlainRule, pathMatchOf, targetsOf } from '../model/routing.js';
import type { RenderSettings } from '../model/settings.js';
import { joinHostPort } from '../model/host-port.js';
import type { RouteStatus, TargetStatus } from './status-types.js';
import { isHealthChecked, NO_HEALTH, type UpstreamHealth } from './upstream-health.js';

export type InstanceIndex = ReadonlyMap<string, Instance>;

/** Instances by lowercase name and by id. */
export function indexInstances(instances: readonly Instance[]): InstanceIndex {
  const index = new Map<string, Instance>();
  for (const instance of instances) {
    index.set(instance.name.toLowerCase(), instance);
    index.set(instance.id.toLowerCase(), instance);
  }
  return index;
}

/**
 * One entry per rule. Rules in the original shape show exactly the fields they always had; the
 * others add `path`/`pathType` (when they have a path) and `targets`; the targets of a literal
 * host's rule with health checks carry `health`, looked up in `health` by the address Caddy dials.
 */
export function routesOf(ingress: Ingress, instances: InstanceIndex, settings: RenderSettings, health: UpstreamHealth = NO_HEALTH): RouteStatus[] {
  return ingress.rules.map((rule) => {
    const targets = targetsOf(rule).map((target) => targetStatus(rule, target, instances, settings, health));
    const first = targets[0] ?? { upstream: '(no target)', upstreamPort: 0 };
    const route: RouteStatus = {
      hostname: rule.match.hostname,
      port: rule.match.port,
      upstream: first.upstream,
      upstreamPort: first.upstreamPort,
      tls: rule.tls,
      redirectHttp: rule.redirect_http,
    };
    if (isPlainRule(rule)) return route;
    const path = pathMatchOf(rule);
    const policies = describePolicies(rule).map(([policy, effect]) => ({ policy, effect }));
    return { ...route, ...(path === undefined ? {} : { path: path.path, pathType: path.type }), targets, ...(policies.length === 0 ? {} : { policies }) };
  });
}

/**
 * The addresses Caddy dials for the targets of the ingress's health-checked rules, in rule and
 * target order ('' for a target it dials none known here). What the status's `health` fields are
 * looked up by: equal dials and equal health give equal statuses.
 */
export function healthDialsOf(ingress: Ingress, instances: InstanceIndex, settings: RenderSettings): string[] {
  return ingress.rules.filter(isHealthChecked).flatMap((rule) => targetsOf(rule).map((target) => dialOf(rule, target, instances, settings) ?? ''));
}

/** The address Caddy dials for a target (as render/proxy.ts writes it); undefined for pattern rules and targets left out of the config. */
function dialOf(rule: Rule, target: RuleTarget, instances: InstanceIndex, settings: RenderSettings): string | undefined {
  if (isPattern(rule.match.hostname)) return undefined;
  const instance = instances.get(target.instance.toLowerCase());
  // Static mode leaves an undeclared target out of the config: Caddy has no verdict on it.
  if (settings.upstreamMode === 'static') return instance === undefined ? undefined : joinHostPort(instance.address, target.port);
  return joinHostPort(`${(instance?.name ?? target.instance).toLowerCase()}.${settings.dnsZone}`, target.port);
}

function targetStatus(rule: Rule, target: RuleTarget, instances: InstanceIndex, settings: RenderSettings, health: UpstreamHealth): TargetStatus {
  let upstream: string;
  if (isPattern(rule.match.hostname)) {
    // Shown as the template (`{instance}.ingressd.internal`): the name is only known per request.
    upstream = `${target.instance}.${settings.dnsZone}`;
  } else {
    const instance = instances.get(target.instance.toLowerCase());
    if (settings.upstreamMode === 'static') upstream = instance?.address ?? `(instance "${target.instance}" not declared)`;
    else upstream = `${(instance?.name ?? target.instance).toLowerCase()}.${settings.dnsZone}`;
  }
  const weighted = rule.load_balancing?.policy === 'weighted_round_robin';
  const out: TargetStatus = { upstream, upstreamPort: target.port, ...(weighted ? { weight: target.weight ?? 1 } : {}) };
  const dial = isHealthChecked(rule) ? dialOf(rule, target, instances, settings) : undefined;
  if (dial === undefined) return out;
  const verdict = health.get(dial);
  return { ...out, health: verdict === undefined ? 'unknown' : verdict ? 'healthy' : 'unhealthy' };
}
