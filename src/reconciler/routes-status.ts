/** Pure: the routes an accepted ingress is served with, as shown in its status file. */
import { isPattern } from '../model/hostname.js';
import type { Ingress, Instance } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import type { RouteStatus } from './status-types.js';

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

export function routesOf(ingress: Ingress, instances: InstanceIndex, settings: RenderSettings): RouteStatus[] {
  return ingress.rules.map((rule) => {
    let upstream: string;
    if (isPattern(rule.match.hostname)) {
      // Shown as the template (`{instance}.ingressd.internal`): the name is only known per request.
      upstream = `${rule.target.instance}.${settings.dnsZone}`;
    } else {
      const instance = instances.get(rule.target.instance.toLowerCase());
      if (settings.upstreamMode === 'static') upstream = instance?.address ?? `(instance "${rule.target.instance}" not declared)`;
      else upstream = `${(instance?.name ?? rule.target.instance).toLowerCase()}.${settings.dnsZone}`;
    }
    return {
      hostname: rule.match.hostname,
      port: rule.match.port,
      upstream,
      upstreamPort: rule.target.port,
      tls: rule.tls,
      redirectHttp: rule.redirect_http,
    };
  });
}
