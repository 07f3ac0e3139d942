/**
 * Makes Caddy hold the desired config in one write, and when Caddy rejects it, finds the
 * ingresses responsible, leaves them out and applies everything else.
 *
 * - No difference → no request but the read (none at all when the live config is remembered).
 * - 412 (someone changed Caddy since the read, or since ingressd's last write) → read again and retry.
 * - `port_in_use` on port P → the ingresses with a rule on P are left out.
 * - a missing DNS provider module → the TLS ingresses are left out.
 * - any other rejection → bisection of the ingress set; successful trial writes grow the
 *   accepted set, so Caddy ends up holding exactly the ingresses that work.
 * - Caddy unreachable → the error propagates (the caller retries with backoff).
 */
import { IngressdError, isIngressdError } from '../model/errors.js';
import { isJsonObject, type JsonObject } from '../model/json.js';
import type { CaddyClient } from './caddy-client.js';
import { diffConfig, type WritePlan } from './diff.js';
import { uncachedLiveConfig, type LiveConfigSource } from './live-config.js';
import { ownedOf } from './ownership.js';
import { portOfListen } from './port-probe.js';
import type { ProgramState } from './status-types.js';

export interface ApplyInput {
  readonly client: CaddyClient;
  /** Where the live config comes from; absent → `client.getConfig()` every time. */
  readonly live?: LiveConfigSource;
  /** Renders the desired config without the given ingress ids. */
  readonly renderWithout: (excluded: ReadonlySet<string>) => JsonObject;
  /** Ids of every ingress in the desired set. */
  readonly ingressIds: readonly string[];
  /** Ingress ids with a listener on a port (rules and redirects). */
  readonly ingressesOnPort: (port: number) => readonly string[];
  /** Ingress ids with TLS rules. */
  readonly tlsIngressIds: readonly string[];
  /** Ingresses Caddy serves already with their current spec: never suspects when bisecting (asked only then). */
  readonly knownGood: () => ReadonlySet<string>;
  /** Ingresses already known to break Caddy (left out without trying them again). */
  readonly preExcluded: ReadonlyMap<string, ProgramState>;
  /** Whether a listen address Caddy does not hold yet is free; absent → Caddy is asked directly. */
  readonly isListenFree?: (listen: string) => Promise<boolean>;
  readonly signal?: AbortSignal;
}

export interface ApplyOutcome {
  /** Successful writes made (0 when Caddy already matched). */
  readonly writes: number;
  /** `GET /config/` requests made (0 when the config ingressd last wrote was trusted). */
  readonly reads: number;
  /** The owned sections that differed when this apply started (see `Diff.changed`). */
  readonly changed: readonly string[];
  /** The full config Caddy holds now. */
  readonly applied: JsonObject;
  /** Ingresses left out, with why. */
  readonly excluded: ReadonlyMap<string, ProgramState>;
  /** Where the time went, summed over every attempt (milliseconds). */
  readonly timings: ApplyTimings;
}

export interface ApplyTimings {
  renderMs: number;
  readMs: number;
  diffMs: number;
  writeMs: number;
}

const MAX_CONFLICT_RETRIES = 5;

export async function applyDesired(input: ApplyInput): Promise<ApplyOutcome> {
  const excluded = new Map(input.preExcluded);
  const timings: ApplyTimings = { renderMs: 0, readMs: 0, diffMs: 0, writeMs: 0 };
  const timed = <T>(key: keyof ApplyTimings, work: () => T): T => {
    const started = performance.now();
    try {
      return work();
    } finally {
      timings[key] += performance.now() - started;
    }
  };
  const timedAsync = async <T>(key: keyof ApplyTimings, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings[key] += performance.now() - started;
    }
  };
  const source = input.live ?? uncachedLiveConfig(input.client);
  let writes = 0;
  let reads = 0;
  let firstChanged: readonly string[] | undefined;
  let conflicts = 0;
  for (;;) {
    input.signal?.throwIfAborted();
    const desired = timed('renderMs', () => input.renderWithout(new Set(excluded.keys())));
    const live = await timedAsync('readMs', () => source.read(input.signal));
    if (!live.cached) reads++;
    const diff = timed('diffMs', () => diffConfig(live.config, desired));
    firstChanged ??= diff.changed;
    if (diff.plan.kind === 'none') return { writes, reads, changed: firstChanged, applied: diff.merged, excluded, timings };
    const busy = new Map<string, ProgramState>();
    for (const port of await busyPorts(input, live.config, desired)) {
      for (const [id, state] of blame(new IngressdError('port_in_use', '', { port }), input, excluded)) busy.set(id, state);
    }
    if (busy.size > 0) {
      for (const [id, state] of busy) excluded.set(id, state);
      continue;
    }
    const plan = diff.plan;
    try {
      await timedAsync('writeMs', () => write(input.client, plan, live.etag, input.signal));
      // Counted as reading: it stands in for the next reconcile's GET.
      timed('readMs', () => source.written(diff.merged));
      writes++;
      return { writes, reads, changed: firstChanged, applied: diff.merged, excluded, timings };
    } catch (err) {
      source.forget();
      if (!isIngressdError(err)) throw err;
      if (err.code === 'precondition_failed' && conflicts++ < MAX_CONFLICT_RETRIES) continue;
      const blamed = blame(err, input, excluded);
      if (blamed.size > 0) {
        for (const [id, state] of blamed) excluded.set(id, state);
        continue;
      }
      if (err.code === 'caddy_unavailable' || err.code === 'precondition_failed') throw err;
      const bisected = await bisect(input, source, excluded, err);
      writes += bisected.writes;
      return { writes, reads, changed: firstChanged, applied: bisected.applied, excluded, timings };
    }
  }
}

/** Ports of listen addresses that `desired` adds to what Caddy serves and that another process holds. */
async function busyPorts(input: ApplyInput, live: JsonObject | null, desired: JsonObject): Promise<number[]> {
  if (input.isListenFree === undefined) return [];
  const listens = (config: JsonObject | null): Set<string> => {
    const out = new Set<string>();
    for (const server of Object.values(ownedOf(config).servers)) {
      const listen = isJsonObject(server) ? server['listen'] : undefined;
      if (Array.isArray(listen)) for (const l of listen) if (typeof l === 'string') out.add(l);
    }
    return out;
  };
  const served = listens(live);
  const added = [...listens(desired)].filter((l) => !served.has(l));
  const free = await Promise.all(added.map((l) => input.isListenFree!(l)));
  return added.filter((_, i) => !free[i]).map(portOfListen);
}

/** The ingresses an error names directly, without trial writes. */
function blame(err: IngressdError, input: ApplyInput, excluded: ReadonlyMap<string, ProgramState>): Map<string, ProgramState> {
  const out = new Map<string, ProgramState>();
  const add = (ids: readonly string[], state: ProgramState): void => {
    for (const id of ids) if (!excluded.has(id)) out.set(id, state);
  };
  if (err.code === 'port_in_use' && err.port !== undefined) {
    add(input.ingressesOnPort(err.port), {
      status: 'False',
      reason: 'PortInUse',
      message: `port ${err.port} is already bound by another process; free it or move these rules to another port`,
    });
  } else if (err.code === 'caddy_module_missing' && err.module?.startsWith('dns.providers.')) {
    const provider = err.module.slice('dns.providers.'.length);
    add(input.tlsIngressIds, {
      status: 'False',
      reason: 'CaddyModuleMissing',
      message:
        `this Caddy has no ${err.module} module, so it cannot solve ACME dns-01 challenges: ` +
        `build Caddy with the caddy-dns/${provider} module (xcaddy build --with github.com/caddy-dns/${provider}) and point CADDY_BINARY at it, ` +
        'or use ACME_CHALLENGE=http-01 or tls-alpn-01 for hostnames without patterns',
    });
  }
  return out;
}

/**
 * Finds the ingresses Caddy rejects. Ingresses that Caddy already serves with the same spec
 * (`knownGood`) form the base, so bisecting never takes a working route away; only new or changed
 * ingresses are suspects. Successful trials are real writes that grow the served set.
 */
async function bisect(
  input: ApplyInput,
  source: LiveConfigSource,
  excluded: Map<string, ProgramState>,
  failure: IngressdError,
): Promise<{ writes: number; applied: JsonObject }> {
  const included = input.ingressIds.filter((id) => !excluded.has(id));
  const knownGood = input.knownGood();
  const good = new Set(included.filter((id) => knownGood.has(id)));
  let writes = 0;
  let applied: JsonObject | undefined;
  const trial = async (set: readonly string[]): Promise<IngressdError | undefined> => {
    const include = new Set([...good, ...set]);
    const without = new Set(input.ingressIds.filter((id) => !include.has(id)));
    const live = await source.read(input.signal);
    const diff = diffConfig(live.config, input.renderWithout(without));
    try {
      if (diff.plan.kind !== 'none') {
        await write(input.client, diff.plan, live.etag, input.signal);
        source.written(diff.merged);
        writes++;
      }
    } catch (err) {
      source.forget();
      if (!isIngressdError(err) || err.code === 'caddy_unavailable' || err.code === 'precondition_failed') throw err;
      return err;
    }
    applied = diff.merged;
    for (const id of set) good.add(id);
    return undefined;
  };
  const isolate = async (set: readonly string[], knownError: IngressdError | undefined): Promise<void> => {
    if (set.length === 0) return;
    const error = knownError ?? (await trial(set));
    if (error === undefined) return;
    if (set.length === 1) {
      excluded.set(set[0]!, rejection(error));
      return;
    }
    const half = Math.ceil(set.length / 2);
    await isolate(set.slice(0, half), undefined);
    await isolate(set.slice(half), undefined);
  };
  if ((await trial([])) !== undefined) {
    // Even the served set fails now (Caddy restarted, a port got taken): suspect everything.
    good.clear();
    const baseError = await trial([]);
    if (baseError !== undefined) throw baseError;
  }
  await isolate(included.filter((id) => !good.has(id)), failure);
  return { writes, applied: applied! };
}

function rejection(err: IngressdError): ProgramState {
  switch (err.code) {
    case 'port_in_use':
      return { status: 'False', reason: 'PortInUse', message: err.message };
    case 'caddy_module_missing':
      return { status: 'False', reason: 'CaddyModuleMissing', message: err.message };
    default:
      return { status: 'False', reason: 'ConfigRejected', message: `Caddy rejected this ingress's config: ${err.message}` };
  }
}

async function write(client: CaddyClient, plan: Exclude<WritePlan, { kind: 'none' }>, etag: string | undefined, signal?: AbortSignal): Promise<void> {
  await client.write(plan.method, plan.path, plan.body, etag, signal);
}

