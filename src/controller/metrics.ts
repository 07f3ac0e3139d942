/**
 * Prometheus metrics, in a registry of their own (never prom-client's global one). Counters and the
 * duration histogram follow the controller's events; gauges are read from the controller when
 * scraped, so they are never stale.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { atLeast, etagScheme, formatCaddyVersion, SINCE, type CaddyInfo } from '../model/caddy-version.js';
import type { Emitter } from '../platform/emitter.js';
import { joinHostPort } from '../model/host-port.js';
import type { CaddySyncResult, Reconciler, ReconcilerEvents } from '../reconciler/reconciler.js';
import type { ResourceStatus } from '../reconciler/status-types.js';

/** What the gauges read (the real `Controller` satisfies it). */
export interface MetricsSource {
  /** Throws until the controller has started. */
  readonly reconciler: Pick<Reconciler, 'files' | 'manifest' | 'status' | 'caddy'>;
  readonly queueDepth: number;
  readonly caddyReachable: boolean;
  /** Why status files are not written, else undefined. */
  readonly statusWarning?: string | undefined;
  /** ms since the epoch of the last successful Caddy reconcile. */
  readonly lastSyncAt: number | undefined;
  /** What the counters follow. */
  readonly events: Pick<Emitter<ReconcilerEvents>, 'on'>;
}

export interface Metrics {
  /** Counts one Caddy reconcile: an Error is a failed one (`observe` feeds this from the events). */
  readonly onCaddySync: (result: CaddySyncResult | Error) => void;
  /** Points the gauges and counters at the controller (call once, after constructing it). */
  observe(source: MetricsSource): void;
  /** The Prometheus text exposition of every metric, and its content type. */
  text(): Promise<string>;
  readonly contentType: string;
}

const KINDS = ['Ingress', 'Instance'] as const;
const READY = ['true', 'false', 'unknown'] as const;
const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Creates the metrics: `ingressd_reconciles_total{result}`, `ingressd_reconcile_duration_seconds`
 * (successful reconciles; a failure carries no duration), `ingressd_caddy_writes_total`,
 * `ingressd_queue_depth`, `ingressd_resources{kind,ready}`,
 * `ingressd_last_successful_sync_timestamp_seconds` (0 before the first), `ingressd_caddy_reachable`,
 * `ingressd_upstream_healthy{ingress,hostname,port,path,upstream}` (from the status files' target
 * health: `path` is `prefix /api`, `exact /x` or empty; `upstream` is `host:port` as Caddy dials it),
 * `ingressd_status_files_writable` (0 once status writes were refused), `ingressd_cross_checks_total{result}` (the incremental state compared with a full evaluation:
 * `match`, or `mismatch`, then repaired), `ingressd_caddy_info{version,plugins,etag,streams}` (always
 * 1: which Caddy ingressd renders for; `streams` is `kept` where upgraded connections outlive a
 * reload, `cut_on_reload` before Caddy 2.7), `ingressd_node_info{node}` (always 1: this node's
 * NODE_NAME, to join a fleet's series on), plus prom-client's default process metrics.
 */
export function createMetrics(node: string): Metrics {
  const registry = new Registry();
  new Gauge({ name: 'ingressd_node_info', help: 'Always 1: the name of this node in a fleet (NODE_NAME).', labelNames: ['node'], registers: [registry] }).set({ node }, 1);
  let source: MetricsSource | undefined;
  const reconciles = new Counter({ name: 'ingressd_reconciles_total', help: 'Caddy reconciles, by result.', labelNames: ['result'], registers: [registry] });
  const duration = new Histogram({
    name: 'ingressd_reconcile_duration_seconds',
    help: 'Duration of successful Caddy reconciles (evaluate, render, diff, apply, status writes).',
    buckets: DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const writes = new Counter({ name: 'ingressd_caddy_writes_total', help: 'Config writes sent to Caddy\'s admin API.', registers: [registry] });
  reconciles.inc({ result: 'success' }, 0);
  reconciles.inc({ result: 'error' }, 0);
  const crossChecks = new Counter({
    name: 'ingressd_cross_checks_total',
    help: 'Comparisons of the incremental evaluation and render with a full one, by result (a mismatch is repaired at once).',
    labelNames: ['result'],
    registers: [registry],
  });
  crossChecks.inc({ result: 'match' }, 0);
  crossChecks.inc({ result: 'mismatch' }, 0);

  new Gauge({
    name: 'ingressd_queue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [registry],
    collect() {
      this.set(source?.queueDepth ?? 0);
    },
  });
  new Gauge({
    name: 'ingressd_resources',
    help: 'Resources in the watched directory, by kind and Ready condition.',
    labelNames: ['kind', 'ready'],
    registers: [registry],
    collect() {
      this.reset();
      for (const kind of KINDS) for (const ready of READY) this.set({ kind, ready }, 0);
      for (const [key, count] of countResources(source)) {
        const [kind = 'Unknown', ready = 'unknown'] = key.split('/');
        this.set({ kind, ready }, count);
      }
    },
  });
  new Gauge({
    name: 'ingressd_last_successful_sync_timestamp_seconds',
    help: 'Unix time of the last successful Caddy reconcile (0 before the first).',
    registers: [registry],
    collect() {
      this.set((source?.lastSyncAt ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'ingressd_caddy_reachable',
    help: '1 when Caddy\'s admin API answers, else 0.',
    registers: [registry],
    collect() {
      this.set(source === undefined || source.caddyReachable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ingressd_status_files_writable',
    help: '1 while status files can be written; 0 once a write was refused (a read-only manifest tree: set STATUS_DIR).',
    registers: [registry],
    collect() {
      this.set(source?.statusWarning === undefined ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ingressd_caddy_info',
    help: 'The Caddy ingressd renders for (always 1): version, plugin modules, ETag scheme, and whether upgraded connections (WebSockets) outlive a reload.',
    labelNames: ['version', 'plugins', 'etag', 'streams'],
    registers: [registry],
    collect() {
      this.reset();
      const caddy = caddyOf(source);
      if (caddy !== undefined) this.set(caddyLabels(caddy), 1);
    },
  });
  new Gauge({
    name: 'ingressd_upstream_healthy',
    help: 'Caddy\'s health-check verdict per target of a rule with health checks (1 healthy, 0 unhealthy; absent while unknown).',
    labelNames: ['ingress', 'hostname', 'port', 'path', 'upstream'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, healthy] of upstreamHealth(source)) this.set(labels, healthy ? 1 : 0);
    },
  });
  collectDefaultMetrics({ register: registry });

  const onCaddySync = (result: CaddySyncResult | Error): void => {
    if (result instanceof Error) {
      reconciles.inc({ result: 'error' });
      return;
    }
    reconciles.inc({ result: 'success' });
    duration.observe(result.durationMs / 1000);
    writes.inc(result.writes);
    const check = result.crossCheck;
    if (check !== undefined) crossChecks.inc({ result: check.files.length + check.sections.length === 0 ? 'match' : 'mismatch' });
  };
  return {
    onCaddySync,
    observe(next) {
      source = next;
      next.events.on('caddySynced', ({ result }) => onCaddySync(result));
      next.events.on('caddySyncFailed', (error) => onCaddySync(error));
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** `kind/ready` → number of resources, from each manifest's last status. */
function countResources(source: MetricsSource | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  let reconciler: MetricsSource['reconciler'];
  try {
    if (source === undefined) return counts;
    reconciler = source.reconciler;
  } catch {
    return counts; // not started yet
  }
  for (const file of reconciler.files()) {
    const status = reconciler.status(file);
    const kind = status?.kind ?? reconciler.manifest(file)?.kind ?? 'Unknown';
    const key = `${kind}/${readyLabel(status)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

type UpstreamLabels = Record<'ingress' | 'hostname' | 'port' | 'path' | 'upstream', string>;

/** Every target whose health Caddy reported, from each ingress's last status (one pass over the statuses, no Caddy request). */
function upstreamHealth(source: MetricsSource | undefined): [UpstreamLabels, boolean][] {
  const out: [UpstreamLabels, boolean][] = [];
  let reconciler: MetricsSource['reconciler'];
  try {
    if (source === undefined) return out;
    reconciler = source.reconciler;
  } catch {
    return out; // not started yet
  }
  for (const file of reconciler.files()) {
    const status = reconciler.status(file);
    for (const route of status?.routes ?? []) {
      const path = route.path === undefined ? '' : `${route.pathType ?? 'prefix'} ${route.path}`;
      for (const target of route.targets ?? []) {
        if (target.health === undefined || target.health === 'unknown') continue;
        const labels = { ingress: status!.name, hostname: route.hostname, port: String(route.port), path, upstream: joinHostPort(target.upstream, target.upstreamPort) };
        out.push([labels, target.health === 'healthy']);
      }
    }
  }
  return out;
}

function readyLabel(status: ResourceStatus | undefined): (typeof READY)[number] {
  const ready = status?.conditions.find((c) => c.type === 'Ready')?.status;
  return ready === 'True' ? 'true' : ready === 'False' ? 'false' : 'unknown';
}

function caddyOf(source: MetricsSource | undefined): CaddyInfo | undefined {
  try {
    return source?.reconciler.caddy;
  } catch {
    return undefined; // not started yet
  }
}

/** Plugins are the modules outside Caddy's standard set that ingressd can use. */
const PLUGIN_PREFIXES = ['dns.providers.', 'http.handlers.rate_limit', 'caddy.storage.redis'];

function caddyLabels(caddy: CaddyInfo): Record<'version' | 'plugins' | 'etag' | 'streams', string> {
  return {
    version: formatCaddyVersion(caddy.version),
    plugins: caddy.modules.filter((m) => PLUGIN_PREFIXES.some((p) => m.startsWith(p))).join(','),
    etag: etagScheme(caddy),
    streams: atLeast(caddy.version, SINCE.streamCloseDelay) ? 'kept' : 'cut_on_reload',
  };
}
