/**
 * The controller's side of the DNS process: adopt the one already running for this data
 * directory, or start a detached one that outlives the controller (restarting the controller
 * must never interrupt DNS answers, or Caddy stalls for 5 s per lookup).
 */
import { mkdir, unlink } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UDPClient } from 'dns2';
import { IngressdError } from '../model/errors.js';
import { commandLineOf, logTail, spawnDetached, terminate, type DetachedProcess } from '../platform/detached-process.js';
import { isProcessAlive } from '../platform/process-alive.js';
import { readDnsState, type DnsProcessState } from './process.js';
import { normalizeZone } from './server.js';

export interface DnsProcessOptions {
  /** The DNS files live in `<dataDir>/dns/`: registry.json, dns.json (state), dns.log. */
  readonly dataDir: string;
  readonly address: string;
  /** 0 = any free port; then any running process for this data directory is adopted. */
  readonly port: number;
  readonly zone: string;
  /** argv to start the `dns` command, e.g. [process.execPath, '/path/dist/src/cli/main.js', 'dns'] */
  readonly command: readonly string[];
  /** @default 15_000 (a loaded machine can take seconds to start node) */
  readonly startTimeoutMs?: number;
}

export interface DnsProcessHandle {
  readonly pid: number;
  readonly port: number;
  /** True when an already running process was reused. */
  readonly adopted: boolean;
  readonly registryPath: string;
  /** Cheap and synchronous: the process exists and is not a zombie. */
  isAlive(): boolean;
  /** SIGTERM, wait up to 5 s, then SIGKILL. Resolves once the process is gone. */
  stop(): Promise<void>;
}

interface Paths {
  readonly dir: string;
  readonly registryPath: string;
  readonly stateFile: string;
  readonly logFile: string;
}

const PROBE_TIMEOUT_MS = 500;
const STOP_TIMEOUT_MS = 5000;

/**
 * Adopt the DNS process named by the state file when its pid is alive, it answers a real query,
 * and its zone and address (and port, when `port` is not 0) match; stop it first when it answers
 * but does not match. Otherwise start a detached one and wait until it answers.
 * Rejects with `dns_start_failed` (naming the log file) when it does not answer within `startTimeoutMs`.
 */
export async function ensureDnsProcess(options: DnsProcessOptions): Promise<DnsProcessHandle> {
  const paths = dnsPaths(options.dataDir);
  const zone = normalizeZone(options.zone);
  await mkdir(paths.dir, { recursive: true });
  const running = await findRunning(paths);
  if (running !== undefined) {
    const matches =
      running.zone === zone &&
      running.address === options.address &&
      running.registryPath === paths.registryPath &&
      (options.port === 0 || running.port === options.port);
    if (matches) return createHandle(running, paths, true, undefined);
    await stopPid(running.pid, paths.stateFile);
  }
  await unlink(paths.stateFile).catch(() => undefined); // stale: the new process's file must be the one we see
  return startProcess(options, zone, paths);
}

function dnsPaths(dataDir: string): Paths {
  const dir = join(resolve(dataDir), 'dns');
  return {
    dir,
    registryPath: join(dir, 'registry.json'),
    stateFile: join(dir, 'dns.json'),
    logFile: join(dir, 'dns.log'),
  };
}

/** The state of a process that is alive and answering; a hung process of ours is killed. */
async function findRunning(paths: Paths): Promise<DnsProcessState | undefined> {
  const state = await readDnsState(paths.stateFile);
  if (state === undefined || !isProcessAlive(state.pid)) return undefined;
  if (await probe(state.address, state.port, state.zone, PROBE_TIMEOUT_MS)) return state;
  if (await probe(state.address, state.port, state.zone, PROBE_TIMEOUT_MS)) return state; // one retry: UDP
  // Alive but silent: hung, or the pid now belongs to someone else. Kill it only if it is ours.
  if (isOurProcess(state.pid, paths.stateFile)) await stopPid(state.pid, paths.stateFile);
  return undefined;
}

async function startProcess(options: DnsProcessOptions, zone: string, paths: Paths): Promise<DnsProcessHandle> {
  const [file, ...args] = options.command;
  if (file === undefined) throw new IngressdError('invalid_option', 'the dns command must not be empty');
  const flags = ['--registry', paths.registryPath, '--address', options.address, '--port', String(options.port)];
  flags.push('--zone', zone, '--state-file', paths.stateFile);
  let child: DetachedProcess;
  try {
    child = await spawnDetached({ command: file, args: [...args, ...flags], logFile: paths.logFile });
  } catch (err) {
    throw await startFailed(paths, `the DNS process could not start (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
  }
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ended = child.ended();
    if (ended !== undefined) {
      const how = ended.signal === undefined ? `exited with code ${ended.code}` : `was killed by ${ended.signal}`;
      throw await startFailed(paths, `the DNS process ${how}`, undefined);
    }
    const state = await readDnsState(paths.stateFile);
    const left = deadline - Date.now();
    if (state !== undefined && (await probe(state.address, state.port, zone, Math.max(100, Math.min(PROBE_TIMEOUT_MS, left))))) {
      return createHandle(state, paths, false, child);
    }
    await sleep(50);
  }
  await stopPid(child.pid, paths.stateFile);
  throw await startFailed(paths, `the DNS process did not answer within ${timeoutMs} ms`, undefined);
}

async function startFailed(paths: Paths, what: string, cause: unknown): Promise<IngressdError> {
  const tail = await logTail(paths.logFile, 5);
  return new IngressdError('dns_start_failed', `${what}; see ${paths.logFile}; its last lines:\n${tail}`, { file: paths.logFile, cause });
}

function createHandle(state: DnsProcessState, paths: Paths, adopted: boolean, child: DetachedProcess | undefined): DnsProcessHandle {
  const { pid, port } = state;
  return Object.freeze({
    pid,
    port,
    adopted,
    registryPath: paths.registryPath,
    isAlive: () => (child === undefined || child.ended() === undefined) && isProcessAlive(pid),
    stop: () => stopPid(pid, paths.stateFile),
  });
}

/** SIGTERM, wait, SIGKILL; then remove the state file if it still names `pid` (SIGKILL skips the process's own cleanup). */
async function stopPid(pid: number, stateFile: string): Promise<void> {
  await terminate(pid, STOP_TIMEOUT_MS);
  const state = await readDnsState(stateFile);
  if (state?.pid === pid) await unlink(stateFile).catch(() => undefined);
}

/** Whether `pid` runs with `--state-file <stateFile>`; false when /proc cannot tell (never kill a stranger). */
function isOurProcess(pid: number, stateFile: string): boolean {
  const argv = commandLineOf(pid);
  const at = argv?.indexOf('--state-file') ?? -1;
  return at >= 0 && argv?.[at + 1] === stateFile;
}

/** A real query: an authoritative answer (NXDOMAIN or NOERROR) for a name in `zone`. */
async function probe(address: string, port: number, zone: string, timeoutMs: number): Promise<boolean> {
  const target = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  const query = UDPClient({ dns: target, port, timeout: timeoutMs, socketType: isIPv6(target) ? 'udp6' : 'udp4' });
  try {
    const response = await query(`_ingressd-probe.${zone}`, 'A');
    return response.header.aa === 1 && (response.header.rcode === 3 || response.header.rcode === 0);
  } catch {
    return false;
  }
}
