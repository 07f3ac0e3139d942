/**
 * 12. Policies (issue 15): throughput and latency of a route with every policy beside a bare
 * route, in the same run, to the same backend, on a fresh `ingressd run` of its own (own Caddy,
 * DNS and ports; the workload's ingressd idles). One Ingress, two rules on POLICIES_LISTEN_PORT:
 * `bare.policies.test` (no policy) and `full.policies.test` (every policy in POLICIES that this
 * Caddy serves; the others are named in a note). Measured:
 * - throughput: `loadReps` runs loading both hosts at once, half of `loadConnections` keep-alive
 *   connections each, so both meet the same moments of a shared machine; req/s and p99 per host;
 * - latency: sequential keep-alive requests, p50 and p99, the hosts in interleaved rounds
 *   (`interleavedLatencies`, as scenario 6);
 * - failed requests (a policy that refused a request, such as the rate limit, would show here).
 * No target: the issue asks for the figures side by side.
 */
import { join } from 'node:path';
import type { JsonValue } from '../../src/model/json.js';
import { unmetRequirement } from '../../src/model/caddy-version.js';
import type { Rule } from '../../src/model/resource.js';
import { ruleRequirements } from '../../src/render/requirements.js';
import { renderSettingsFor } from '../harness/configs.js';
import { figuresOf, reference, type FigureInput } from '../harness/figures.js';
import { waitUntilAnswered, type Target } from '../harness/http-client.js';
import { daemonPids, Ingressd, ingressdEnv, stopDaemons } from '../harness/ingressd.js';
import { interleavedLatencies } from '../harness/latency.js';
import type { LoadPlan, LoadResult } from '../harness/load-protocol.js';
import { addressOf, instanceManifest, instanceName, writeManifests } from '../harness/manifests.js';
import { BACKEND_PORT, POLICIES_ADMIN_PORT, POLICIES_DNS_PORT, POLICIES_LISTEN_PORT } from '../harness/ports.js';
import { summarize } from '../harness/stats.js';
import type { Scenario } from './types.js';

/**
 * Every policy the full route carries, one line each. The rate limit is far above what the
 * machine can serve, the allow list holds the load's source, every request carries the basic-auth
 * credentials (Caddy's hash_cache checks the bcrypt hash once, then remembers them), the backend's
 * 2-byte answers are below compress's minimum length, and no error occurs for the error pages to
 * answer: every request passes every policy, so the figures are the policies' cost on a request
 * that is served.
 */
export const POLICIES: readonly (readonly [field: keyof Rule, value: JsonValue])[] = [
  ['allow_ips', ['127.0.0.0/8']],
  ['deny_ips', ['192.0.2.0/24']],
  // bench:bench, bcrypt cost 10 (`caddy hash-password --algorithm bcrypt --bcrypt-cost 10 --plaintext bench`).
  ['basic_auth', { realm: 'bench', users: [{ username: 'bench', password_hash: '$2a$10$VPloJ/e9lblStlmTtcSegu09w9l7jGhQQHCmVBeHAkPmYboNDxwRm' }] }],
  ['rate_limit', { requests: 100_000, window: '1s' }],
  ['max_request_body', '10MB'],
  ['headers', { request: { set: { 'X-Tenant': 'bench' }, delete: ['X-Debug'] }, response: { set: { 'X-Frame-Options': 'DENY' }, delete: ['X-Powered-By'] } }],
  ['compress', true],
  ['timeouts', { dial: '3s', response_header: '30s' }],
  ['error_pages', { '5xx': { body: 'the bench backend failed', content_type: 'text/plain' } }],
];

/** The credentials of the basic_auth entry above, sent with every request to the full route. */
const CREDENTIALS = { authorization: `Basic ${Buffer.from('bench:bench').toString('base64')}` };

const BARE_HOST = 'bare.policies.test';
const FULL_HOST = 'full.policies.test';

export const policiesScenario: Scenario = {
  id: 12,
  name: 'policies',
  async run(ctx) {
    const root = join(ctx.root, 'policies');
    const dir = join(root, 'manifests');
    const dataDir = join(root, 'data');
    const env = ingressdEnv(dataDir, { CADDY_ADMIN_PORT: String(POLICIES_ADMIN_PORT), INTERNAL_DNS_PORT: String(POLICIES_DNS_PORT) });
    const settings = renderSettingsFor(env, ctx.shared.caddy);
    const base = { match: { hostname: FULL_HOST, port: POLICIES_LISTEN_PORT }, target: { instance: instanceName(0), port: BACKEND_PORT }, tls: false, redirect_http: false };
    // Only what this Caddy serves: a policy it lacks would leave the whole rule out (CaddyModuleMissing / CaddyTooOld).
    const served = POLICIES.filter(([field, value]) => ruleRequirements({ ...base, [field]: value } as Rule, settings).every((r) => unmetRequirement(ctx.shared.caddy, r) === undefined));
    const left = POLICIES.filter((p) => !served.includes(p)).map(([field]) => field);
    const rules = [
      { match: { hostname: BARE_HOST, port: POLICIES_LISTEN_PORT }, target: base.target },
      { match: base.match, target: base.target, ...Object.fromEntries(served) },
    ];
    await writeManifests(dir, [instanceManifest(0, addressOf(0)), { file: 'policies.json', text: `${JSON.stringify({ kind: 'Ingress', name: 'policies', rules }, null, 2)}\n` }]);
    const stopCaddy = ctx.shared.cleanup.add(`Caddy and DNS of scenario 12 (${dataDir})`, () => stopDaemons(dataDir));
    const ingressd = await Ingressd.start({ cli: ctx.shared.cli, dir, env, logFile: join(root, 'ingressd.log'), cleanup: ctx.shared.cleanup });
    ctx.shared.own.add(ingressd.pid);
    const daemons = await daemonPids(dataDir);
    const daemonPidList = [daemons.caddy, daemons.dns].filter((pid): pid is number => pid !== undefined);
    for (const pid of daemonPidList) ctx.shared.own.add(pid);
    try {
      const bare: Target = { port: POLICIES_LISTEN_PORT, host: BARE_HOST, backend: addressOf(0) };
      const full: Target = { ...bare, host: FULL_HOST, headers: CREDENTIALS };
      await waitUntilAnswered(bare, 60_000);
      await waitUntilAnswered(full, 60_000);
      const { plan } = ctx;
      const each = Math.max(1, Math.floor(plan.loadConnections / 2));
      const both: LoadPlan = {
        groups: [
          { label: 'bare', targets: [bare], connections: each, spread: 'first' },
          { label: 'full', targets: [full], connections: each, spread: 'first' },
        ],
        warmupMs: plan.loadWarmupMs,
        durationMs: plan.loadDurationMs,
      };
      const runs: Record<'bare' | 'full', LoadResult[]> = { bare: [], full: [] };
      for (let r = 0; r < plan.loadReps; r++) {
        const report = await ctx.quietly('policies: throughput, both hosts at once', () => ctx.shared.load.run(both));
        for (const side of ['bare', 'full'] as const) {
          const group = report.groups[side];
          if (group === undefined) throw new Error(`scenario 12: the load report has no group ${side}`);
          runs[side].push(group);
        }
      }
      const [latBare, latFull] = await ctx.quietly('policies: sequential latency', () => interleavedLatencies([bare, full], plan.routingRequests));
      const rps = { bare: summarize(runs.bare.map((x) => x.rps)), full: summarize(runs.full.map((x) => x.rps)) };
      const p99 = { bare: summarize(runs.bare.map((x) => x.p99Ms)), full: summarize(runs.full.map((x) => x.p99Ms)) };
      const failed = (xs: readonly LoadResult[]): number => xs.reduce((acc, x) => acc + x.failed, 0);
      const bareRef = (value: number | ReturnType<typeof summarize>) => reference('bare route, same run', value);
      const note = `${served.map(([f]) => f).join(', ')}${left.length === 0 ? '' : `; not on this Caddy: ${left.join(', ')}`}`;
      const rows: FigureInput[] = [
        { name: `req/s, ${each} connections, every policy`, unit: 'req/s', value: rps.full, reference: bareRef(rps.bare), note: `${note}; both hosts loaded at once, ${each} connections each` },
        { name: '  p99 under that load', unit: 'ms', value: p99.full, reference: bareRef(p99.bare) },
        { name: 'sequential p50, every policy', unit: 'ms', value: latFull!.p50, reference: bareRef(latBare!.p50) },
        { name: '  sequential p99', unit: 'ms', value: latFull!.p99, reference: bareRef(latBare!.p99) },
        { name: '  failed, load runs', unit: 'count', value: failed(runs.full), reference: bareRef(failed(runs.bare)), target: { text: '0 (every request passes every policy)', pass: failed(runs.full) === 0 } },
      ];
      return figuresOf('12 policies', ctx.n, rows);
    } finally {
      for (const pid of [ingressd.pid, ...daemonPidList]) ctx.shared.own.delete(pid);
      await ingressd.stop();
      await stopDaemons(dataDir);
      stopCaddy();
    }
  },
};
