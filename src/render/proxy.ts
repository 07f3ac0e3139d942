/**
 * The `reverse_proxy` handler of a rule beyond the original shape (several targets, load
 * balancing, health checks): see `ProxySpec`. Pure.
 */
import { joinHostPort } from '../model/host-port.js';
import type { JsonObject } from '../model/json.js';
import type { RenderSettings } from '../model/settings.js';
import type { ProxySpec, WeightedUpstream } from './model.js';
import { withTimeouts } from './policy-timeouts.js';
import { dynamicUpstreams, missingInstance, transport, withProxyDefaults } from './upstreams.js';

/** How long a passive failure counts when the manifest does not say: Caddy turns passive checks off without one. */
const DEFAULT_FAIL_DURATION = '30s';

/**
 * The proxy of one rule, its targets in manifest order (weights go by that order).
 * - DNS mode, and every pattern rule, without health checks: dynamic upstreams, one A lookup of
 *   `<dnsName>.<zone>` per target at the instance DNS (`multi` for several; the instance DNS answers
 *   one address per name, so the pool keeps the targets' order), refreshed every
 *   `UPSTREAM_REFRESH`: an instance move needs no config write and takes traffic within that time,
 *   as for plain rules. A pattern's `dnsName` holds placeholders, which Caddy fills per request.
 * - DNS mode with health checks or weights: a static `upstreams` list dialling `<dnsName>.<zone>:<port>`,
 *   resolved through the instance DNS (the transport's resolver) whenever Caddy opens a connection.
 *   Caddy runs active checks only on static upstreams, and keeps passive failure counts of dynamic
 *   ones only while a request uses them. A move needs no config write either, but connections kept
 *   alive to the old address serve until they close (idle for `UPSTREAM_IDLE_TIMEOUT`, or the old
 *   address going away).
 * - Static mode, literal host: the declared instances' addresses; undeclared targets are left out
 *   (render warns), and with none declared the route answers 503 naming them.
 * Selection is `round_robin` unless the rule names a policy.
 */
export function proxyHandler(proxy: ProxySpec, isPattern: boolean, settings: RenderSettings): JsonObject {
  const byDns = isPattern || settings.upstreamMode === 'dns';
  const served = byDns ? proxy.upstreams : proxy.upstreams.filter((u) => u.instance !== undefined);
  if (served.length === 0) return missingInstance(proxy.upstreams.map((u) => u.dnsName).join('", "'));
  const handler: JsonObject = { handler: 'reverse_proxy', load_balancing: loadBalancing(proxy, served) };
  // `health_check: {}` checks nothing: it must not change how targets are reached.
  const checked = proxy.healthCheck?.active !== undefined || proxy.healthCheck?.passive !== undefined;
  // Weights go by position, and Caddy's `multi` source leaves out a target whose lookup fails or
  // is empty: the weights would shift onto the wrong targets. A fixed list keeps every position.
  const weighted = proxy.loadBalancing?.policy === 'weighted_round_robin';
  if (byDns && !checked && !weighted) {
    const sources = served.map((u) => dynamicUpstreams(u, settings));
    handler['dynamic_upstreams'] = sources.length === 1 ? sources[0]! : { source: 'multi', sources };
    handler['transport'] = transport(settings);
  } else if (byDns) {
    handler['upstreams'] = served.map((u) => ({ dial: joinHostPort(`${u.dnsName}.${settings.dnsZone}`, u.port) }));
    // Expected as `udp/host:port` (see dynamicUpstreams); Go's resolver asks it on every dial.
    handler['transport'] = { ...transport(settings), resolver: { addresses: [settings.dnsResolver] } };
  } else {
    handler['upstreams'] = served.map((u: WeightedUpstream) => ({ dial: joinHostPort(u.instance!.address, u.port) }));
    handler['transport'] = transport(settings);
  }
  handler['transport'] = withTimeouts(handler['transport'] as JsonObject, proxy.timeouts);
  const health = healthChecks(proxy);
  if (health !== undefined) handler['health_checks'] = health;
  return withProxyDefaults(handler, settings);
}

function loadBalancing(proxy: ProxySpec, served: readonly WeightedUpstream[]): JsonObject {
  const lb = proxy.loadBalancing;
  const policy = lb?.policy ?? 'round_robin';
  const selection: JsonObject = policy === 'weighted_round_robin' ? { policy, weights: served.map((u) => u.weight) } : { policy };
  const out: JsonObject = { selection_policy: selection };
  if (lb?.retries !== undefined) out['retries'] = lb.retries;
  if (lb?.try_duration !== undefined) out['try_duration'] = lb.try_duration;
  return out;
}

function healthChecks(proxy: ProxySpec): JsonObject | undefined {
  const { active, passive } = proxy.healthCheck ?? {};
  if (active === undefined && passive === undefined) return undefined;
  const out: JsonObject = {};
  if (active !== undefined) {
    const json: JsonObject = { uri: active.path };
    if (active.interval !== undefined) json['interval'] = active.interval;
    if (active.timeout !== undefined) json['timeout'] = active.timeout;
    if (active.expect_status !== undefined) json['expect_status'] = active.expect_status;
    out['active'] = json;
  }
  if (passive !== undefined) {
    const json: JsonObject = { fail_duration: passive.fail_duration ?? DEFAULT_FAIL_DURATION };
    if (passive.max_fails !== undefined) json['max_fails'] = passive.max_fails;
    if (passive.unhealthy_status !== undefined) json['unhealthy_status'] = [...passive.unhealthy_status];
    out['passive'] = json;
  }
  return out;
}
