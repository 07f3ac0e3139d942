/**
 * The thing measured: a real `ingressd run` process (dist/src/cli/main.js), its JSON log,
 * and the Caddy and DNS processes it starts (which outlive it by design, so the benchmark stops
 * them by pid).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { benchCaddy } from './caddy-only.js';
import type { Cleanup } from './cleanup.js';
import { HTTP_PORT, HTTPS_PORT, INGRESSD_ADMIN_PORT, INGRESSD_DNS_PORT, LOOPBACK } from './ports.js';
import { commandLine, cpuTimeMs, memoryOf, terminate, type MemoryStatus } from './proc.js';

/** Stages of a Caddy reconcile (its `reconciled:` line). Status files are written after it, in their own pass. */
export const STAGES = ['evaluateMs', 'renderMs', 'readMs', 'diffMs', 'writeMs'] as const;
export type Stage = (typeof STAGES)[number];
/** The log line of a status-file pass. */
const STATUS_PASS = 'status files updated';

/** One "reconciled: ..." line of ingressd's log. */
export interface Reconcile {
  /** performance.now() in the benchmark when the line arrived. */
  readonly at: number;
  readonly writes: number;
  /** Accepted ingresses in the set this reconcile applied. */
  readonly ingresses: number;
  readonly durationMs: number;
  readonly timings: Readonly<Record<Stage, number>>;
}

interface LogLine {
  readonly at: number;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The environment of every `ingressd run` the benchmark starts; `overrides` win. */
export function ingressdEnv(dataDir: string, overrides: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    DATA_DIR: dataDir,
    CADDY_BINARY: benchCaddy(),
    CADDY_ADMIN_PORT: String(INGRESSD_ADMIN_PORT),
    INTERNAL_DNS_PORT: String(INGRESSD_DNS_PORT),
    CADDY_LISTEN_ADDRESS: LOOPBACK,
    CADDY_HTTP_PORT: String(HTTP_PORT),
    CADDY_HTTPS_PORT: String(HTTPS_PORT),
    API_LISTEN: 'off',
    // Long, so a periodic resync never lands inside another measurement; the at-rest scenario sets 1s.
    RESYNC_INTERVAL: '10m',
    UPSTREAM_MODE: 'dns',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

export class Ingressd {
  readonly #child: ChildProcess;
  readonly #lines: LogLine[] = [];
  readonly #log: WriteStream;
  readonly #unregister: () => void;
  readonly pid: number;
  readonly dataDir: string;
  /** Spawn → "ready: the first sync" line, ms. */
  startupMs = Number.NaN;
  /** performance.now() of the "ready: the first sync" line. */
  readyAt = Number.NaN;

  private constructor(child: ChildProcess, pid: number, dataDir: string, logFile: string, cleanup: Cleanup) {
    this.#child = child;
    this.pid = pid;
    this.dataDir = dataDir;
    this.#log = createWriteStream(logFile, { flags: 'a' });
    this.#unregister = cleanup.add(`ingressd (pid ${pid})`, () => terminate(pid, 10_000));
    let pending = '';
    const onData = (chunk: Buffer): void => {
      this.#log.write(chunk);
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      const at = performance.now();
      for (const part of parts) if (part.trim() !== '') this.#lines.push(parseLine(part, at));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  }

  /**
   * Starts `ingressd run --dir <dir>` and resolves once it logged its first successful sync.
   * `logFile` receives its raw output. Rejects (and stops it) when it exits or is not ready in time.
   */
  static async start(options: { readonly cli: string; readonly dir: string; readonly env: Readonly<Record<string, string>>; readonly logFile: string; readonly cleanup: Cleanup; readonly readyTimeoutMs?: number }): Promise<Ingressd> {
    const started = performance.now();
    const child = spawn(process.execPath, [options.cli, 'run', '--dir', options.dir], { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('could not start ingressd');
    const dataDir = options.env['DATA_DIR'] ?? '';
    const ingressd = new Ingressd(child, child.pid, dataDir, options.logFile, options.cleanup);
    const deadline = started + (options.readyTimeoutMs ?? 900_000);
    for (;;) {
      const ready = ingressd.#lines.find((l) => l.message.startsWith('ready: the first sync'));
      if (ready !== undefined) {
        ingressd.startupMs = ready.at - started;
        ingressd.readyAt = ready.at;
        return ingressd;
      }
      if (child.exitCode !== null || performance.now() > deadline) {
        await ingressd.stop();
        const tail = ingressd.#lines.slice(-8).map((l) => l.message).join('\n  ');
        throw new Error(`ingressd ${child.exitCode !== null ? `exited (${child.exitCode})` : 'was not ready in time'}; last lines:\n  ${tail}`);
      }
      await sleep(10);
    }
  }

  /** Position in the log; pass it to the `*Since` methods. */
  mark(): number {
    return this.#lines.length;
  }

  reconcilesSince(mark: number): Reconcile[] {
    return this.#lines.slice(mark).filter((l) => l.message.startsWith('reconciled:')).map(toReconcile);
  }

  /** Lines at warn or error level since `mark`, for the report. */
  warningsSince(mark: number): string[] {
    return this.#lines.slice(mark).filter((l) => l.fields['level'] === 'warn' || l.fields['level'] === 'error').map((l) => l.message);
  }

  /** Milliseconds of each status-file pass since `mark` (they follow the Caddy reconciles). */
  statusPassesSince(mark: number): number[] {
    return this.#lines.slice(mark).filter((l) => l.message === STATUS_PASS).map((l) => Number(l.fields['statusMs'] ?? Number.NaN));
  }

  /**
   * Resolves with performance.now() of the status pass by which this process had written `files`
   * status files in all (every manifest's, at a cold start); NaN after `timeoutMs`.
   */
  async statusFilesWritten(files: number, timeoutMs = 120_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      let total = 0;
      for (const line of this.#lines) {
        if (line.message !== STATUS_PASS) continue;
        total += Number(line.fields['statusWrites'] ?? 0);
        if (total >= files) return line.at;
      }
      if (performance.now() > deadline) return Number.NaN;
      await sleep(20);
    }
  }

  /** Resolves with the first reconcile since `mark` that made a Caddy write; rejects after `timeoutMs`. */
  async waitForWrite(mark: number, timeoutMs = 10_000): Promise<Reconcile> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.reconcilesSince(mark).find((r) => r.writes > 0);
      if (found !== undefined) return found;
      if (performance.now() > deadline) throw new Error(`no reconcile with a Caddy write within ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  /**
   * Resolves with the first reconcile since `mark` that applied exactly `ingresses` ingresses (so
   * ingressd has finished applying a new set, status files included), or with undefined after
   * `timeoutMs` (a watcher event was lost; the caller records it).
   */
  async waitForSet(mark: number, ingresses: number, timeoutMs = 60_000): Promise<Reconcile | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.reconcilesSince(mark).find((r) => r.ingresses === ingresses);
      if (found !== undefined) return found;
      if (performance.now() > deadline) return undefined;
      await sleep(20);
    }
  }

  /** Ingresses in the last set ingressd reconciled (NaN before any). */
  lastSetSize(): number {
    return this.reconcilesSince(0).at(-1)?.ingresses ?? Number.NaN;
  }

  /** Waits until no reconcile line arrived for `quietMs` (at most `timeoutMs`). */
  async waitQuiet(quietMs = 1000, timeoutMs = 60_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const last = this.#lines.findLast((l) => l.message.startsWith('reconciled:') || l.message === STATUS_PASS)?.at ?? 0;
      if (performance.now() - last >= quietMs) return;
      if (performance.now() > deadline) return;
      await sleep(50);
    }
  }

  cpuTimeMs(): number {
    return cpuTimeMs(this.pid);
  }

  /**
   * Waits until this process used less than `maxCpuPerS` ms of CPU in each of `windows` consecutive
   * 1 s windows (its start-up work — the status pass, adopting 100,000 status files — is over), at
   * most `timeoutMs`. Resolves with whether it settled. A log line says nothing here: at N=100,000
   * the work after "ready" runs for seconds without logging a reconcile.
   */
  async waitCpuQuiet(maxCpuPerS = 400, windows = 2, timeoutMs = 120_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    let quiet = 0;
    let before = this.cpuTimeMs();
    while (performance.now() < deadline) {
      await sleep(1000);
      const now = this.cpuTimeMs();
      quiet = now - before < maxCpuPerS ? quiet + 1 : 0;
      before = now;
      if (quiet >= windows) return true;
    }
    return false;
  }

  memory(): MemoryStatus {
    return memoryOf(this.pid);
  }

  /** SIGTERM (ingressd finishes its reconcile and exits; Caddy and the DNS process keep running). */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      this.#child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000, undefined, { ref: false })]); // unref'd: the bench's own exit does not wait for it
      if (this.#child.exitCode === null && this.#child.signalCode === null) await terminate(this.pid, 0);
    }
    this.#unregister();
    await new Promise<void>((resolve) => this.#log.end(() => resolve()));
  }
}

function parseLine(text: string, at: number): LogLine {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const fields = parsed as Record<string, unknown>;
      return { at, message: typeof fields['message'] === 'string' ? fields['message'] : '', fields };
    }
  } catch {
    // not JSON: keep the text
  }
  return { at, message: text, fields: {} };
}

function toReconcile(line: LogLine): Reconcile {
  const timingsField = line.fields['timings'];
  const source = typeof timingsField === 'object' && timingsField !== null ? (timingsField as Record<string, unknown>) : {};
  const timings = Object.fromEntries(STAGES.map((s) => [s, Number(source[s] ?? Number.NaN)])) as Record<Stage, number>;
  return { at: line.at, writes: Number(line.fields['writes'] ?? 0), ingresses: Number(line.fields['ingresses'] ?? Number.NaN), durationMs: Number(line.fields['durationMs'] ?? Number.NaN), timings };
}

/** Config writes Caddy received (admin.api "received request" lines, non-GET), from its own log. */
export async function caddyWrites(dataDir: string): Promise<number> {
  const log = await readFile(join(dataDir, 'caddy', 'caddy.log'), 'utf8').catch(() => '');
  let writes = 0;
  for (const line of log.split('\n')) {
    if (!line.includes('"admin.api"') || !line.includes('received request')) continue;
    const method = /"method":"([A-Z]+)"/.exec(line)?.[1];
    const uri = /"uri":"([^"]*)"/.exec(line)?.[1] ?? '';
    if (method !== undefined && method !== 'GET' && (uri.startsWith('/config') || uri.startsWith('/load') || uri.startsWith('/id'))) writes++;
  }
  return writes;
}

/** Pids of the Caddy and DNS processes ingressd started for `dataDir` (undefined when none). */
export async function daemonPids(dataDir: string): Promise<{ readonly caddy: number | undefined; readonly dns: number | undefined }> {
  const caddyText = await readFile(join(dataDir, 'caddy', 'caddy.pid'), 'utf8').catch(() => '');
  const dnsText = await readFile(join(dataDir, 'dns', 'dns.json'), 'utf8').catch(() => '');
  const caddy = Number(caddyText.trim());
  const dns = Number(/"pid":\s*(\d+)/.exec(dnsText)?.[1]);
  return { caddy: Number.isInteger(caddy) && caddy > 0 ? caddy : undefined, dns: Number.isInteger(dns) && dns > 0 ? dns : undefined };
}

/** Stops the Caddy and DNS processes ingressd left running for `dataDir`, checking they are what the pid files say. */
export async function stopDaemons(dataDir: string, known: Iterable<number> = []): Promise<void> {
  const pids = await daemonPids(dataDir);
  const candidates = new Set([...known, ...[pids.caddy, pids.dns].filter((p): p is number => p !== undefined)]);
  for (const pid of candidates) {
    const cmd = commandLine(pid);
    // Only processes whose command line names this data directory: never a stranger with a recycled pid.
    if (cmd.includes(dataDir) && (cmd.includes('caddy') || cmd.includes(' dns '))) await terminate(pid);
  }
}
