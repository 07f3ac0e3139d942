/**
 * Whether a fleet of ingress nodes has converged, from what each node's API reported. Pure.
 *
 * Converged means: every node answered and is ready; every node declares the same resources; and
 * for each resource every node has a status for the same `observedGeneration` (the same version
 * of the file) with the same `Ready` status, which is not `Unknown`. A resource that is not Ready
 * on every node alike (an invalid file) still converges: the fleet agrees; `ready` says it is not.
 */
import { CONFLICT_REASONS } from '../../reconciler/status.js';
import type { ConditionStatus, ResourceStatus } from '../../reconciler/status-types.js';

/** One resource as one node reports it (an item of `GET /ingresses` or `GET /instances`). */
export interface ReportedResource {
  readonly kind: 'Ingress' | 'Instance';
  readonly name: string;
  readonly status: ResourceStatus | null;
}

/** What one node answered. */
export interface NodeReport {
  /** The API's URL, as given. */
  readonly url: string;
  /** NODE_NAME from `/readyz`; undefined when the node did not answer. */
  readonly node: string | undefined;
  /** Why the node could not be asked (connection refused, 401, a timeout); undefined when it answered. */
  readonly error: string | undefined;
  readonly ready: boolean;
  /** `/readyz`'s reason when not ready. */
  readonly reason: string | undefined;
  readonly resources: readonly ReportedResource[];
}

/** One resource on one node: its generation and Ready condition, or undefined without a status. */
export interface Cell {
  readonly generation: string;
  readonly ready: ConditionStatus;
  readonly reason: string;
}

export interface FleetRow {
  readonly kind: 'Ingress' | 'Instance';
  readonly name: string;
  /** Per node label (NODE_NAME, else the URL), in node order; absent: the node does not declare it; null: no status yet. */
  readonly cells: ReadonlyMap<string, Cell | null>;
  /** True when every node serves the same generation with the same known Ready status. */
  readonly agreed: boolean;
}

export interface FleetVerdict {
  readonly converged: boolean;
  /** Node labels, in the order the nodes were given. */
  readonly nodes: readonly string[];
  /** Sorted by kind, then name. */
  readonly rows: readonly FleetRow[];
  /** Why the fleet has not converged, for people, most basic first (empty when converged). */
  readonly problems: readonly string[];
}

/**
 * The labels nodes are shown under, in order: each NODE_NAME, or the URL of a node that did not
 * answer; a name two nodes share is shown with the URL (`edge (http://10.0.0.2:8089)`).
 */
function nodeLabels(reports: readonly NodeReport[]): string[] {
  const count = new Map<string, number>();
  for (const r of reports) if (r.node !== undefined) count.set(r.node, (count.get(r.node) ?? 0) + 1);
  return reports.map((r) => (r.node === undefined ? r.url : (count.get(r.node) ?? 0) > 1 ? `${r.node} (${r.url})` : r.node));
}

export function fleetVerdict(reports: readonly NodeReport[]): FleetVerdict {
  const problems: string[] = [];
  const labels = nodeLabels(reports);
  const firstUrl = new Map<string, string>();
  for (const [i, report] of reports.entries()) {
    const label = labels[i]!;
    const other = report.node === undefined ? undefined : firstUrl.get(report.node);
    if (report.node !== undefined && other === undefined) firstUrl.set(report.node, report.url);
    if (report.node !== undefined && other !== undefined) problems.push(`${other} and ${report.url} both call themselves ${report.node}: give each node its own NODE_NAME`);
    if (report.error !== undefined) problems.push(`${label}: cannot be asked: ${report.error}`);
    else if (!report.ready) problems.push(`${label}: not ready${report.reason === undefined ? '' : `: ${report.reason}`}`);
  }
  const keys = new Map<string, { readonly kind: 'Ingress' | 'Instance'; readonly name: string }>();
  for (const report of reports) for (const r of report.resources) keys.set(`${r.kind}/${r.name}`, { kind: r.kind, name: r.name });
  const rows: FleetRow[] = [];
  for (const [key, { kind, name }] of [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const cells = new Map<string, Cell | null>();
    reports.forEach((report, i) => {
      if (report.error !== undefined) return;
      const found = report.resources.find((r) => `${r.kind}/${r.name}` === key);
      if (found !== undefined) cells.set(labels[i]!, cellOf(found.status));
    });
    const answered = labels.filter((_, i) => reports[i]!.error === undefined);
    const rowProblems = disagreements(`${kind} ${name}`, answered, cells);
    problems.push(...rowProblems);
    rows.push({ kind, name, cells, agreed: rowProblems.length === 0 });
  }
  return { converged: problems.length === 0, nodes: labels, rows, problems };
}

function cellOf(status: ResourceStatus | null): Cell | null {
  if (status === null) return null;
  const ready = status.conditions.find((c) => c.type === 'Ready');
  return { generation: status.observedGeneration, ready: ready?.status ?? 'Unknown', reason: ready?.reason ?? 'NoReadyCondition' };
}

/** Why the nodes that answered do not agree on one resource (empty when they do). */
function disagreements(what: string, answered: readonly string[], cells: ReadonlyMap<string, Cell | null>): string[] {
  const out: string[] = [];
  const missing = answered.filter((label) => !cells.has(label));
  if (missing.length > 0) out.push(`${what}: not declared on ${missing.join(', ')} (its manifest tree differs: is the replication behind?)`);
  const pending = [...cells].filter(([, cell]) => cell === null).map(([label]) => label);
  if (pending.length > 0) out.push(`${what}: no status yet on ${pending.join(', ')}`);
  const known = [...cells].filter((entry): entry is [string, Cell] => entry[1] !== null);
  const generations = new Set(known.map(([, c]) => c.generation));
  if (generations.size > 1) out.push(`${what}: nodes serve different versions of the file: ${known.map(([l, c]) => `${l} ${short(c.generation)}`).join(', ')}`);
  const unknown = known.filter(([, c]) => c.ready === 'Unknown');
  if (unknown.length > 0) out.push(`${what}: Ready is Unknown on ${unknown.map(([l, c]) => `${l} (${c.reason})`).join(', ')}`);
  const readiness = new Set(known.map(([, c]) => c.ready));
  if (generations.size <= 1 && readiness.size > 1) {
    // Each node settles a conflict by which file it accepted first (its own status files): a node
    // that saw the files arrive in another order, or started with an empty STATUS_DIR, can differ.
    const settledApart = known.some(([, c]) => CONFLICT_REASONS.has(c.reason));
    const hint = settledApart ? ': the nodes settled a conflict differently (each keeps the file it accepted first); remove the conflict from the tree' : '';
    out.push(`${what}: Ready differs: ${known.map(([l, c]) => `${l} ${c.ready} (${c.reason})`).join(', ')}${hint}`);
  }
  return out;
}


/** The first 12 characters of a generation hash: enough to tell versions apart in a table. */
export function short(generation: string): string {
  return generation.slice(0, 12);
}
