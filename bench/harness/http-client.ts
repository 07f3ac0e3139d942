/**
 * Requests through Caddy from the benchmark's own process: one GET, waiting until a host answers
 * from an expected backend, and sweeping many hosts. Loopback only; the backend is told by the
 * `x-backend` header (the backend's own address).
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOOPBACK } from './ports.js';

/** A host (and path) served on a port, and the backend address that should answer it. */
export interface Target {
  readonly port: number;
  readonly host: string;
  readonly backend: string;
  /** The request path; `/` when absent. */
  readonly path?: string;
  /** Backends that answer it as well as `backend`: a rule balancing over several targets. */
  readonly orBackends?: readonly string[];
  /** Request headers besides Host (credentials for a route with basic auth). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Answer {
  readonly status: number;
  readonly backend: string | undefined;
}

/** GET `path` with the given Host header (and `headers`). Rejects on connection errors and after `timeoutMs`. */
export function get(port: number, host: string, agent: Agent | false, timeoutMs = 5000, path = '/', headers: Readonly<Record<string, string>> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, path, headers: { ...headers, host }, agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        const backend = res.headers['x-backend'];
        resolve({ status: res.statusCode ?? 0, backend: typeof backend === 'string' ? backend : undefined });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export function isAnsweredBy(answer: Answer, target: Target): boolean {
  if (answer.status !== 200 || answer.backend === undefined) return false;
  return answer.backend === target.backend || (target.orBackends?.includes(answer.backend) ?? false);
}

/** `waitUntilAnswered`, resolving with undefined instead of rejecting when `timeoutMs` passes. */
export function answeredWithin(target: Target, timeoutMs: number): Promise<number | undefined> {
  return waitUntilAnswered(target, timeoutMs).catch(() => undefined);
}

/**
 * Requests `target` every `everyMs` over one keep-alive connection until it answers 200 from its
 * backend; errors and other answers are retried. Resolves with `performance.now()` at the
 * matching response; rejects after `timeoutMs` or when `signal` aborts.
 */
export async function waitUntilAnswered(target: Target, timeoutMs = 20_000, everyMs = 5, signal?: AbortSignal): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      try {
        const answer = await get(target.port, target.host, agent, 2000, target.path, target.headers);
        if (isAnsweredBy(answer, target)) return performance.now();
      } catch {
        // a reload closes keep-alive connections: try again on a new one
      }
      if (performance.now() > deadline) throw new Error(`${target.host}:${target.port} not answered by ${target.backend} within ${timeoutMs} ms`);
      signal?.throwIfAborted();
      await sleep(everyMs);
    }
  } finally {
    agent.destroy();
  }
}

/**
 * Requests every pending target (`concurrency` at a time) until each has answered from its
 * backend once, or `timeoutMs` passed. Resolves with `performance.now()` at the end and how many
 * targets never answered.
 */
export async function waitUntilAllAnswered(targets: readonly Target[], timeoutMs: number, concurrency = 8, pauseMs = 20): Promise<{ readonly at: number; readonly pending: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const pending = new Set(targets);
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      const queue = [...pending];
      const worker = async (): Promise<void> => {
        for (let t = queue.pop(); t !== undefined; t = queue.pop()) {
          const answer = await get(t.port, t.host, agent, 2000, t.path, t.headers).catch(() => undefined);
          if (answer !== undefined && isAnsweredBy(answer, t)) pending.delete(t);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      if (pending.size === 0 || performance.now() > deadline) return { at: performance.now(), pending: pending.size };
      await sleep(pauseMs);
    }
  } finally {
    agent.destroy();
  }
}

/**
 * `waitUntilAllAnswered` without sweeping while ingressd is still at work: polls only `sentinel`
 * (the target written last) every 5 ms; once it answers, sweeps every target. When they all answer
 * and `configWrites` (Caddy's own count of config writes) did not move between the sentinel's
 * answer and the end of the sweep, every target answered from the config that answered the
 * sentinel, so the time is the sentinel's. Otherwise the pending ones are swept until none is, and
 * the time is the end of that sweep.
 *
 * Why: a sweep of 1,000 hosts through Caddy takes 0.3-0.5 s on 2 cores, so sweeping from the start
 * both rounds the figure up to whole sweeps and takes the CPU that ingressd is reading files with
 * (measured at N=1,000: Caddy updated 0.42 s after the first file without sweeps, 1.4 s with).
 */
export async function waitUntilAllAnsweredAfter(
  sentinel: Target,
  targets: readonly Target[],
  configWrites: () => Promise<number>,
  timeoutMs: number,
): Promise<{ readonly at: number; readonly pending: number; readonly proved: boolean }> {
  const deadline = performance.now() + timeoutMs;
  const sentinelAt = await answeredWithin(sentinel, timeoutMs);
  if (sentinelAt === undefined) return { ...(await waitUntilAllAnswered(targets, 0)), proved: false };
  const writesAtSentinel = await configWrites();
  const first = await waitUntilAllAnswered(targets, 0); // a timeout of 0: exactly one sweep
  if (first.pending === 0 && (await configWrites()) === writesAtSentinel) return { at: sentinelAt, pending: 0, proved: true };
  return { ...(await waitUntilAllAnswered(targets, Math.max(0, deadline - performance.now()))), proved: false };
}

/** `count` sequential requests over one keep-alive connection; latencies in ms (failures throw). */
export async function sequentialLatencies(target: Target, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const answer = await get(target.port, target.host, agent, 5000, target.path, target.headers);
      out.push(performance.now() - started);
      if (!isAnsweredBy(answer, target)) throw new Error(`${target.host}: status ${answer.status} from ${answer.backend ?? '?'}, wanted ${target.backend}`);
    }
    return out;
  } finally {
    agent.destroy();
  }
}
