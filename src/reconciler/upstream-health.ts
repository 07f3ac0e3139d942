/**
 * Pure: upstream health as Caddy reports it, and what it means for a status.
 *
 * The source is Caddy's admin `/metrics`, gauge `caddy_reverse_proxy_upstreams_healthy{upstream="<dial>"}`
 * (1 healthy, 0 unhealthy), present on every Caddy ingressd supports (2.6.2 to 2.11.9). Rejected:
 * `/reverse_proxy/upstreams`, which lists only `address`, `num_requests` and `fails` (no health
 * flag, and a passive failure count is not the verdict). Caddy sets the gauge from
 * `Upstream.Healthy()` (active and passive checks alike) when a config is loaded and then every
 * 10 s (measured on 2.6.2, 2.10.2 and 2.11.9), so a status follows a target's health within 10 s
 * plus one Caddy sync (repeated every 10 s while a rule has health checks). The gauge is keyed by
 * the dial address, which Caddy's health state is keyed by too: two rules dialling the same
 * `<instance>.<zone>:<port>` share one verdict.
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
 * are skipped (never throws). A value other than 0 counts as healthy. Scans with `indexOf` for
 * the gauge's lines only: 20,000 upstreams (1.7 MB of text) take ~25 ms on a 2-core VM.
 */
export function parseUpstreamHealth(text: string): Map<string, boolean> {
  const health = new Map<string, boolean>();
  const marker = `${GAUGE}{`;
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + 1)) {
    if (at > 0 && text[at - 1] !== '\n') continue; // only where a line starts
    const end = text.indexOf('\n', at);
    const sample = sampleOf(text.slice(at + marker.length, end === -1 ? text.length : end));
    if (sample !== undefined) health.set(sample[0], sample[1]);
  }
  return health;
}

/** `[upstream, healthy]` from what follows `caddy_reverse_proxy_upstreams_healthy{` on a line: `labels} value [timestamp]`. */
function sampleOf(rest: string): [string, boolean] | undefined {
  const close = rest.lastIndexOf('}');
  const after = close === -1 ? '' : rest.slice(close + 1).trim();
  if (after === '') return undefined;
  const value = Number(after.split(' ')[0]);
  const upstream = labelValue(rest.slice(0, close), 'upstream');
  return upstream === undefined || !Number.isFinite(value) ? undefined : [upstream, value !== 0];
}

/** The value of label `name` in a Prometheus label set (`a="x",b="y"`), unescaped. */
function labelValue(labels: string, name: string): string | undefined {
  const key = `${name}="`;
  const found = labels.startsWith(key) ? 0 : labels.indexOf(`,${key}`) + 1;
  if (found === 0 && !labels.startsWith(key)) return undefined;
  const start = found + key.length;
  let end = labels.indexOf('"', start);
  while (end !== -1 && isEscaped(labels, end)) end = labels.indexOf('"', end + 1);
  if (end === -1) return undefined;
  const raw = labels.slice(start, end);
  return raw.includes('\\') ? raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : raw;
}

/** Whether the character at `at` follows an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let slashes = 0;
  for (let i = at - 1; i >= 0 && text[i] === '\\'; i--) slashes++;
  return slashes % 2 === 1;
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
