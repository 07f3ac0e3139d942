/**
 * `ingressd fleet URL... [--wait DURATION] [-o table|json]`: asks every node's HTTP API what it
 * serves (`/readyz`, `/ingresses`, `/instances`) and says whether the fleet has converged
 * (fleet-convergence.ts). Exit status 0 when converged, 1 when not (so a deploy script can wait on
 * it), 2 on a usage error. Nodes are asked, not their status directories: each node keeps its own
 * STATUS_DIR on its own host, while its API is reachable from wherever the deploy runs.
 */
import { stableStringify } from '../../model/canonical.js';
import { parseDurationMs } from '../../model/duration.js';
import { fleetVerdict, short, type FleetVerdict, type NodeReport, type ReportedResource } from './fleet-convergence.js';
import { parse, UsageError, type CommandIo } from './args.js';

export const FLEET_HELP = `Usage: ingressd fleet URL... [--wait DURATION] [-o table|json]

Asks the HTTP API of every node of a fleet (URL: http://host:port, or host:port; or a
comma-separated list in FLEET_NODES) what it serves, and says whether the fleet has converged:
every node ready, every node declaring the same resources, and for each resource the same
observedGeneration and the same known Ready status on every node. API_TOKEN, when set, is sent
to every node as its bearer token.

Table: one row per resource, one column per node (NODE_NAME) showing the generation served and
Ready; then why the fleet has not converged, if it has not.
Exit status: 0 converged, 1 not converged (or a node cannot be asked), 2 usage error.

Options:
  --wait DURATION        ask again every second until converged, for at most DURATION (e.g. 2m)
  -o, --output FORMAT    table (default), or json: {converged, nodes, resources, problems}`;

const REQUEST_TIMEOUT_MS = 5_000;
const POLL_MS = 1_000;

export async function fleetCommand(io: CommandIo): Promise<number> {
  const { flags, positionals } = parse(io, { wait: { type: 'string' }, output: { type: 'string', short: 'o' } }, true);
  if (flags['help']) {
    io.stdout(`${FLEET_HELP}\n`);
    return 0;
  }
  const urls = [...positionals, ...(io.env['FLEET_NODES'] ?? '').split(',')].map((u) => u.trim()).filter((u) => u.length > 0).map(normaliseUrl);
  if (urls.length === 0) throw new UsageError('name the nodes: ingressd fleet http://10.0.0.11:8089 http://10.0.0.12:8089 (or set FLEET_NODES)');
  const output = typeof flags['output'] === 'string' ? flags['output'] : 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output must be table or json, got "${output}"`);
  const waitText = typeof flags['wait'] === 'string' ? flags['wait'] : undefined;
  const waitMs = waitText === undefined ? 0 : parseDurationMs(waitText);
  if (waitMs === undefined) throw new UsageError(`--wait must be a duration such as 30s or 2m, got "${waitText}"`);

  const token = io.env['API_TOKEN'];
  const deadline = Date.now() + waitMs;
  let verdict = fleetVerdict(await Promise.all(urls.map((url) => askNode(url, token))));
  while (!verdict.converged && Date.now() + POLL_MS <= deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    verdict = fleetVerdict(await Promise.all(urls.map((url) => askNode(url, token))));
  }
  io.stdout(output === 'json' ? stableStringify(toJson(verdict)) : table(verdict));
  return verdict.converged ? 0 : 1;
}

function normaliseUrl(text: string): string {
  const withScheme = /^https?:\/\//.test(text) ? text : `http://${text}`;
  try {
    return new URL(withScheme).origin;
  } catch {
    throw new UsageError(`"${text}" is not a node's API address: write http://host:port or host:port`);
  }
}

/** One node's answers; a failure of any request is the node's `error`, never a throw. */
async function askNode(url: string, token: string | undefined): Promise<NodeReport> {
  const headers: Record<string, string> = token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` };
  const get = async (path: string, okStatuses: readonly number[]): Promise<unknown> => {
    const res = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body: unknown = await res.json().catch(() => undefined);
    if (!okStatuses.includes(res.status)) {
      const message = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : res.statusText;
      throw new Error(`GET ${path} answered ${res.status}: ${message}`);
    }
    return body;
  };
  try {
    const readyz = (await get('/readyz', [200, 503])) as { ready?: unknown; node?: unknown; reason?: unknown } | undefined;
    const [ingresses, instances] = await Promise.all([get('/ingresses', [200]), get('/instances', [200])]);
    return {
      url,
      node: typeof readyz?.node === 'string' ? readyz.node : undefined,
      error: undefined,
      ready: readyz?.ready === true,
      reason: typeof readyz?.reason === 'string' ? readyz.reason : undefined,
      resources: [...items('Ingress', ingresses), ...items('Instance', instances)],
    };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { url, node: undefined, error: `${err instanceof Error ? err.message : String(err)}${cause}`, ready: false, reason: undefined, resources: [] };
  }
}

function items(kind: ReportedResource['kind'], list: unknown): ReportedResource[] {
  if (!Array.isArray(list)) throw new Error(`GET /${kind.toLowerCase()}s did not answer a list`);
  return list.map((item: { name?: unknown; status?: unknown }) => ({
    kind,
    name: String(item.name),
    status: (item.status ?? null) as ReportedResource['status'],
  }));
}

function toJson(verdict: FleetVerdict): unknown {
  return {
    converged: verdict.converged,
    nodes: verdict.nodes,
    resources: verdict.rows.map((row) => ({
      kind: row.kind,
      name: row.name,
      agreed: row.agreed,
      nodes: Object.fromEntries([...row.cells].map(([label, cell]) => [label, cell === null ? null : { observedGeneration: cell.generation, ready: cell.ready, reason: cell.reason }])),
    })),
    problems: verdict.problems,
  };
}

function table(verdict: FleetVerdict): string {
  const header = ['KIND', 'NAME', ...verdict.nodes, 'AGREED'];
  const rows = verdict.rows.map((row) => [
    row.kind,
    row.name,
    ...verdict.nodes.map((label) => {
      const cell = row.cells.get(label);
      return cell === undefined ? '-' : cell === null ? 'no status' : `${short(cell.generation)} ${cell.ready}`;
    }),
    row.agreed ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const verdictLine = verdict.converged
    ? `converged: ${verdict.nodes.length} nodes serve the same ${verdict.rows.length} resources\n`
    : `not converged:\n${verdict.problems.map((p) => `  - ${p}`).join('\n')}\n`;
  return `${[header, ...rows].map(line).join('\n')}\n${verdictLine}`;
}
