/**
 * Pure: upstream health as Caddy reports it, and what it means for a status.
 *
 * The source is Caddy's admin `/metrics`, gauge `caddy_reverse_proxy_upstreams_healthy{upstream="<dial>"}`
 * (1 healthy, 0 unhealthy), present on every Caddy ingressd supports (2.6.2 to 2.11.9). Rejected:
 * `/reverse_proxy/upstreams`, which lists only `address`, `num_requests` and `fails` (no health
 * flag, and a passive failure count is not the verdict). Caddy refreshes the gauge from its own
 * health state every 10 s (measured on 2.6.2, 2.10.2 and 2.11.9), so a status follows a target's
 * health within 10 s plus one Caddy sync (repeated every 10 s while a rule has health checks). The gauge is keyed by the dial address, which Caddy's health
 * state is keyed by too: two rules dialling the same `<instance>.<zone>:<port>` share one verdict.
 * Only rules with health checks dial a fixed upstream list that the gauge covers (see
 * render/proxy.ts); pattern rules dial per request and report no health.
 */
import type { Rule } from '../model/resource.js';
import type { RouteStatus } from './status-types.js';

/** Dial address (`host:port` as rendered) → healthy. */
export type UpstreamHealth = ReadonlyMap<string, boolean>;

export const NO_HEALTH: UpstreamHealth = new Map();

const GAUGE = 'caddy_reverse_proxy_upstreams_healthy';

/**
 * The health gauge's samples from a Prometheus text exposition; other metrics and malformed lines
 * are skipped (never throws). A value other than 0 counts as healthy.
 */
export function parseUpstreamHealth(text: string): Map<string, boolean> {
  const health = new Map<string, boolean>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${GAUGE}{`)) continue;
    const match = /^[a-z_]+\{(.*)\}\s+(\S+)/.exec(line);
    if (match === null) continue;
    const upstream = labelValue(match[1]!, 'upstream');
    const value = Number(match[2]);
    if (upstream === undefined || !Number.isFinite(value)) continue;
    health.set(upstream, value !== 0);
  }
  return health;
}

/** The value of `name` in a Prometheus label set (`a="x",b="y"`), unescaped. */
function labelValue(labels: string, name: string): string | undefined {
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(labels); m !== null; m = re.exec(labels)) {
    if (m[1] === name) return m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return undefined;
}

/** Whether a rule has health checks (active or passive): only those report target health. */
export function isHealthChecked(rule: Pick<Rule, 'health_check'>): boolean {
  const check = rule.health_check;
  return check !== undefined && (check.active !== undefined || check.passive !== undefined);
}

/**
 * Why an ingress is not Ready on health grounds: the rules whose every target Caddy reports
 * unhealthy (a target whose health is unknown does not count as unhealthy); undefined when none.
 */
export function noHealthyTargetsMessage(routes: readonly RouteStatus[] | undefined): string | undefined {
  const down = (routes ?? []).filter((r) => r.targets !== undefined && r.targets.length > 0 && r.targets.every((t) => t.health === 'unhealthy'));
  if (down.length === 0) return undefined;
  const named = down.map((r) => `${r.hostname}:${r.port}${r.path === undefined ? '' : ` ${r.pathType ?? 'prefix'} ${r.path}`} (${r.targets!.map((t) => `${t.upstream}:${t.upstreamPort}`).join(', ')})`);
  return `Caddy's health checks report every target unhealthy for ${named.join('; ')}: requests there get 503 until a target passes its check again. Check that the backends run and answer their health path.`;
}
