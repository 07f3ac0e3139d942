/**
 * Which Caddy ingressd drives: its version and modules, asked of the binary that runs (the
 * process's `/proc/<pid>/exe`, so a binary replaced on disk is not mistaken for the running one)
 * or, when the process is unknown (an adopted Caddy without a pid), of the configured binary.
 *
 * `CaddyIdentity.check()` is cheap (one stat) and tells when the running Caddy changed (a restart
 * into an upgraded binary, another process on the admin port): the caller then renders again.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { atLeast, DEFAULT_CADDY, formatCaddyVersion, parseCaddyVersion, SINCE, type CaddyInfo } from '../model/caddy-version.js';
import type { Logger } from '../model/logger.js';

const run = promisify(execFile);
const ASK_TIMEOUT_MS = 10_000;

/** What `CaddyIdentity` found: the info, where it came from, and the key it is cached under. */
export interface LearntCaddy extends CaddyInfo {
  /** The executable asked (`/proc/<pid>/exe` or the configured binary). */
  readonly binary: string;
  /** Process and executable (device:inode), or the configured binary's; changes when Caddy does. */
  readonly key: string;
}

/** `caddy version` and `caddy list-modules` of `binary`; version undefined (and no modules) when it does not answer. */
export async function askCaddy(binary: string): Promise<CaddyInfo> {
  try {
    const [version, modules] = await Promise.all([
      run(binary, ['version'], { timeout: ASK_TIMEOUT_MS }),
      run(binary, ['list-modules'], { timeout: ASK_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }),
    ]);
    return { version: parseCaddyVersion(version.stdout), modules: parseModuleList(modules.stdout) };
  } catch {
    return { version: undefined, modules: [] };
  }
}

/** Module ids from `caddy list-modules` output (one per line, then summary lines such as `  Standard modules: 120`). */
export function parseModuleList(text: string): string[] {
  return [...new Set(text.split('\n').map((line) => line.trim()).filter((line) => /^[a-z0-9_]+(\.[a-z0-9_]+)*$/.test(line)))].sort();
}

/** One line for logs and `diff`: `2.11.9 (dns.providers.cloudflare, …)`. */
export function describeCaddy(info: CaddyInfo): string {
  const plugins = info.modules.filter((m) => m.startsWith('dns.providers.') || m === 'http.handlers.rate_limit' || (m.startsWith('caddy.storage.') && m !== 'caddy.storage.file_system'));
  return `${formatCaddyVersion(info.version)}${plugins.length === 0 ? '' : ` with ${plugins.join(', ')}`}`;
}

export interface CaddyIdentityOptions {
  /** The configured binary (a path or a name on PATH). */
  readonly binary: string;
  /** The running Caddy's pid when known. */
  readonly pid: () => number | undefined;
  /** The admin port, to find the process when the pid is unknown. */
  readonly adminPort: number;
}

export class CaddyIdentity {
  readonly #options: CaddyIdentityOptions;
  #learnt: LearntCaddy | undefined;

  constructor(options: CaddyIdentityOptions) {
    this.#options = options;
  }

  get current(): LearntCaddy | undefined {
    return this.#learnt;
  }

  /** The Caddy running now; asked again only when its process or executable changed. */
  async learn(): Promise<LearntCaddy> {
    const { binary, key } = await this.#locate();
    if (this.#learnt?.key === key) return this.#learnt;
    const info = await askCaddy(binary);
    this.#learnt = { ...info, binary, key };
    return this.#learnt;
  }

  /** True when the running Caddy is another one than `current` (cheap: a stat, and a /proc scan only without a pid). */
  async changed(): Promise<boolean> {
    if (this.#learnt === undefined) return true;
    return (await this.#locate()).key !== this.#learnt.key;
  }

  async #locate(): Promise<{ binary: string; key: string }> {
    const pid = this.#options.pid() ?? (await pidListeningOn(this.#options.adminPort));
    if (pid !== undefined) {
      const exe = `/proc/${pid}/exe`;
      const info = await stat(exe).catch(() => undefined);
      if (info !== undefined) return { binary: exe, key: `${pid}:${info.dev}:${info.ino}:${info.mtimeMs}` };
    }
    const info = await stat(this.#options.binary).catch(() => undefined);
    return { binary: this.#options.binary, key: `binary:${this.#options.binary}:${info?.ino ?? 'unknown'}:${info?.mtimeMs ?? ''}` };
  }
}

/**
 * The pid of the process with a TCP socket listening on `port` (IPv4 or IPv6), from /proc; undefined
 * when there is none or /proc cannot tell (not Linux, another user's process).
 */
export async function pidListeningOn(port: number): Promise<number | undefined> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HOST:PORT in hex; state 0A is LISTEN; field 9 is the socket's inode.
      if (fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A' && fields[9] !== undefined) inodes.add(fields[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return Number(pid);
    }
  }
  return undefined;
}

/** The part of what was learnt that render uses. */
export function infoOf(learnt: LearntCaddy): CaddyInfo {
  return { version: learnt.version, modules: learnt.modules };
}

export function sameCaddy(a: CaddyInfo, b: CaddyInfo): boolean {
  return formatCaddyVersion(a.version) === formatCaddyVersion(b.version) && a.modules.join() === b.modules.join();
}

/** The log line at start and on a change of Caddy, with a warning where this Caddy cuts streams. */
export function logCaddy(logger: Logger, message: string, caddy: LearntCaddy): void {
  logger.info(message, { caddy: describeCaddy(caddy), binary: caddy.binary });
  if (caddy.version === undefined) logger.warn(`${caddy.binary} did not say its version; rendering for Caddy ${formatCaddyVersion(DEFAULT_CADDY.version)}`);
  else if (!atLeast(caddy.version, SINCE.streamCloseDelay)) {
    logger.warn(`Caddy ${formatCaddyVersion(caddy.version)} closes every upgraded connection (WebSockets) on every config change; Caddy 2.7 or later keeps them (npm run build:caddy)`);
  }
}
