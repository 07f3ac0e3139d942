/**
 * The `reverse_proxy` handler of a rule beyond the original shape (several targets, load
 * balancing, health checks): see `ProxySpec`. Pure.
 */
import { joinHostPort } from '../model/host-port.js';
import type { JsonObject } from '../model/json.js';
import type { RenderSettings } from '../model/settings.js';
import type { ProxySpec, WeightedUpstream } from './model.js';
import { missingInstance, transport, withStreamCloseDelay } from './upstreams.js';

/** How long a passive failure counts when the manifest does not say: Caddy turns passive checks off without one. */
const DEFAULT_FAIL_DURATION = '30s';

/**
 * A static `upstreams` list, one entry per target, so that Caddy balances, retries and health-checks
 * them (active health checks run only on static upstreams; dynamic ones cannot name several
 * instances with weights either).
 * - DNS mode, and every pattern rule: each target dials `<dnsName>.<zone>:<port>` and the
 *   transport's resolver is the instance DNS, so a new connection resolves the instance again and
 *   an instance move needs no config write (kept-alive connections live up to the idle timeout).
 *   A pattern's `dnsName` holds placeholders, which Caddy fills per request.
 * - Static mode, literal host: the declared instances' addresses; undeclared targets are left out
 *   (render warns), and with none declared the route answers 503 naming them.
 * Selection is `round_robin` unless the rule names a policy; weights go with `weighted_round_robin`
 * in the same order as the upstreams.
 */
export function proxyHandler(proxy: ProxySpec, isPattern: boolean, settings: RenderSettings): JsonObject {
  const byDns = isPattern || settings.upstreamMode === 'dns';
  const served = byDns ? proxy.upstreams : proxy.upstreams.filter((u) => u.instance !== undefined);
  if (served.length === 0) return missingInstance(proxy.upstreams.map((u) => u.dnsName).join('", "'));
  const dial = (u: WeightedUpstream): string => (byDns ? joinHostPort(`${u.dnsName}.${settings.dnsZone}`, u.port) : joinHostPort(u.instance!.address, u.port));
  const handler: JsonObject = {
    handler: 'reverse_proxy',
    upstreams: served.map((u) => ({ dial: dial(u) })),
    // Expected as `udp/host:port` (see dynamicUpstreams); Go's resolver asks it on every dial.
    transport: byDns ? { ...transport(settings), resolver: { addresses: [settings.dnsResolver] } } : transport(settings),
    load_balancing: loadBalancing(proxy, served),
  };
  const health = healthChecks(proxy);
  if (health !== undefined) handler['health_checks'] = health;
  return withStreamCloseDelay(handler, settings);
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
