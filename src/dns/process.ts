/**
 * The body of `ingressd dns`: a long-lived process that serves the registry file over DNS and
 * outlives controller restarts. Its event loop holds only the DNS sockets, one directory watcher,
 * one 1 s poll timer and signal handlers, so a slow controller can never delay an answer.
 */
import { createWriteStream, watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../platform/atomic-file.js';
import { parseRegistry } from './registry-file.js';
import { normalizeZone, startDnsServer, type DnsServer } from './server.js';

export interface RunDnsProcessOptions {
  readonly registryPath: string;
  readonly address: string;
  /** 0 = any free port (reported in the state file). */
  readonly port: number;
  readonly zone: string;
  /** Written atomically once listening; removed on SIGTERM/SIGINT. */
  readonly stateFile: string;
  /** Append JSON log lines here. @default stderr */
  readonly logFile?: string;
  /** Aborting stops the process as SIGTERM does (for embedding). */
  readonly signal?: AbortSignal;
  /** Fallback poll of the registry file, for when fs.watch misses an event. @default 1000 */
  readonly pollIntervalMs?: number;
}

/** The state file's content: how a supervisor finds and checks a running DNS process. */
export interface DnsProcessState {
  readonly pid: number;
  readonly port: number;
  readonly address: string;
  readonly zone: string;
  /** Absolute. */
  readonly registryPath: string;
  /** RFC 3339. */
  readonly startedAt: string;
}

/**
 * Serve until SIGTERM, SIGINT or `signal`; then close the sockets, remove the state file (if it
 * still names this pid) and resolve. Rejects only when the server cannot start (`port_in_use`,
 * `dns_start_failed`, `invalid_option`). A malformed registry file is logged and the previous
 * records stay served; a missing one serves no records. SIGHUP forces a registry reload.
 */
export async function runDnsProcess(options: RunDnsProcessOptions): Promise<void> {
  const log = createLog(options.logFile);
  const registryPath = resolve(options.registryPath);
  const zone = normalizeZone(options.zone);
  await mkdir(dirname(registryPath), { recursive: true });
  let server: DnsServer;
  try {
    server = await startDnsServer({
      address: options.address,
      port: options.port,
      zone,
      onError: (error) => log('warn', 'dns server error', { error: describe(error) }),
    });
  } catch (error) {
    log('error', 'dns server could not start', { error: describe(error) });
    await log.close();
    throw error;
  }
  const loader = createRegistryLoader(registryPath, zone, server, log);
  await loader.check(); // before the state file: a supervisor that sees it gets real answers
  const watcher = watchRegistry(registryPath, options.pollIntervalMs ?? 1000, loader, log);
  const state: DnsProcessState = {
    pid: process.pid,
    port: server.port,
    address: options.address,
    zone,
    registryPath,
    startedAt: new Date().toISOString(),
  };
  await writeFileAtomic(options.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  log('info', 'dns listening', { ...state, udpRecvBufferBytes: server.udpRecvBufferBytes });
  await waitForStop(options.signal, () => void loader.check(true), log);
  watcher.close();
  await server.close();
  await removeStateIfOurs(options.stateFile);
  log('info', 'dns stopped', { pid: process.pid });
  await log.close();
}

/** Read a state file; undefined when it is missing or not a state file. */
export async function readDnsState(path: string): Promise<DnsProcessState | undefined> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const ok =
      Number.isInteger(doc['pid']) &&
      Number.isInteger(doc['port']) &&
      ['address', 'zone', 'registryPath', 'startedAt'].every((k) => typeof doc[k] === 'string');
    return ok ? (doc as unknown as DnsProcessState) : undefined;
  } catch {
    return undefined;
  }
}

interface RegistryLoader {
  /** Reload when the file's identity (inode, size, mtime) changed, or always with `force`. Never rejects. */
  check(force?: boolean): Promise<void>;
}

function createRegistryLoader(path: string, zone: string, server: DnsServer, log: Log): RegistryLoader {
  let loaded: string | undefined; // signature of what is being served
  let running: Promise<void> | undefined;
  let again = false;
  let forceAgain = false;
  const signature = (s: { ino: number; size: number; mtimeMs: number }): string => `${s.ino}:${s.size}:${s.mtimeMs}`;
  const loadOnce = async (force: boolean): Promise<void> => {
    const seen = await stat(path).then(signature, () => 'missing');
    if (seen === loaded && !force) return;
    if (seen === 'missing') {
      server.setRecords([]);
      loaded = seen;
      log('warn', 'registry file missing; serving no records', { registryPath: path });
      return;
    }
    // Read through one descriptor so the signature matches the bytes parsed.
    const handle = await open(path, 'r');
    try {
      const sig = signature(await handle.stat());
      loaded = sig; // also on a parse error: retry when the file changes, not every second
      const registry = parseRegistry(await handle.readFile('utf8'), path);
      server.setRecords(registry.records);
      if (registry.zone !== zone) log('warn', 'registry zone differs from served zone', { registryZone: registry.zone, zone });
      log('info', 'registry loaded', { records: registry.records.length });
    } finally {
      await handle.close();
    }
  };
  const run = async (force: boolean): Promise<void> => {
    let forceThis = force;
    do {
      again = false;
      forceAgain = false;
      await loadOnce(forceThis).catch((error: unknown) => log('error', 'registry reload failed', { error: describe(error) }));
      forceThis = forceAgain;
    } while (again);
  };
  return {
    check(force = false) {
      if (running !== undefined) {
        again = true; // coalesce: one more pass after the current one
        forceAgain ||= force;
        return running;
      }
      running = run(force).finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}

/** fs.watch on the directory (the file is replaced by rename) plus a stat poll as a fallback. */
function watchRegistry(path: string, pollIntervalMs: number, loader: RegistryLoader, log: Log): { close(): void } {
  const name = basename(path);
  let watcher: FSWatcher | undefined;
  const startWatcher = (): void => {
    try {
      watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) void loader.check();
      });
      watcher.on('error', (error) => {
        log('warn', 'registry watcher failed; polling only', { error: describe(error) });
        watcher?.close();
        watcher = undefined;
      });
    } catch (error) {
      log('warn', 'registry watcher unavailable; polling only', { error: describe(error) });
    }
  };
  startWatcher();
  const timer = setInterval(() => {
    if (watcher === undefined) startWatcher();
    void loader.check();
  }, pollIntervalMs);
  return {
    close() {
      clearInterval(timer);
      watcher?.close();
    },
  };
}

/** Resolve on SIGTERM, SIGINT or abort. Meanwhile SIGHUP reloads and stray errors are logged, not fatal. */
function waitForStop(signal: AbortSignal | undefined, onHangup: () => void, log: Log): Promise<void> {
  return new Promise<void>((resolveStop) => {
    // Dying on a stray exception would leave Caddy without answers (a 5 s stall per lookup) until the
    // controller next checks; the state is a map swapped whole, so carrying on is the lesser risk.
    const onFault = (error: unknown): void => log('error', 'uncaught error', { error: describe(error) });
    const stop = (reason: string): void => {
      process.off('SIGTERM', onTerm).off('SIGINT', onInt).off('SIGHUP', onHangup);
      process.off('uncaughtException', onFault).off('unhandledRejection', onFault);
      signal?.removeEventListener('abort', onAbort);
      log('info', 'dns stopping', { reason });
      resolveStop();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    const onAbort = (): void => stop('abort');
    process.on('SIGTERM', onTerm).on('SIGINT', onInt).on('SIGHUP', onHangup);
    process.on('uncaughtException', onFault).on('unhandledRejection', onFault);
    if (signal?.aborted === true) stop('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

async function removeStateIfOurs(stateFile: string): Promise<void> {
  const state = await readDnsState(stateFile);
  if (state?.pid === process.pid) await unlink(stateFile).catch(() => undefined);
}

type Log = ((level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void) & {
  close(): Promise<void>;
};

/** JSON lines to a file (appended) or stderr. */
function createLog(file: string | undefined): Log {
  const stream = file === undefined ? undefined : createWriteStream(file, { flags: 'a', mode: 0o644 });
  stream?.on('error', () => undefined); // logging must never take the process down
  const write = (level: string, msg: string, fields: Record<string, unknown> = {}): void => {
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`;
    if (stream === undefined) process.stderr.write(line);
    else stream.write(line);
  };
  return Object.assign(write, {
    close: () => new Promise<void>((done) => (stream === undefined ? done() : stream.end(done))),
  });
}

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return code === undefined ? { message: error.message } : { message: error.message, code };
}
