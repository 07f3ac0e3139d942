import { access, constants, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { delimiter, join } from 'node:path';
import { IngressdError } from '../model/errors.js';
import { joinHostPort } from '../model/host-port.js';
import { isJsonObject, type JsonObject } from '../model/json.js';
import { commandLineOf, logTail, readPidFile, spawnDetached, terminate, waitUntilAnswering } from '../platform/detached-process.js';
import { isProcessAlive, waitForExit } from '../platform/process-alive.js';
import type { CaddyClient } from '../reconciler/caddy-client.js';

export interface CaddyDaemonOptions {
  /** Path or bare name (looked up in PATH) of the Caddy executable. */
  readonly binary: string;
  /** Host of the admin listener Caddy must use, e.g. `127.0.0.1`. */
  readonly adminAddress: string;
  readonly adminPort: number;
  /** ingressd's data directory; Caddy's files live in `<dataDir>/caddy/`. */
  readonly dataDir: string;
  /** How long a started or adopted Caddy may take to answer its admin API. @default 10_000 */
  readonly startTimeoutMs?: number;
  readonly logger: { info(msg: string, meta?: object): void; warn(msg: string, meta?: object): void };
}

/** How ensureCaddy got its Caddy: an admin API already answering, a pid file, or a new process. */
export type CaddyOrigin = 'adopted-admin' | 'adopted-pid' | 'started';

export interface CaddyDaemon {
  readonly origin: CaddyOrigin;
  /** The Caddy process id when known (started, or named by a live pid file). */
  readonly pid: number | undefined;
  /** true when this process (or an earlier ingressd run) started it: it is ours to restart */
  readonly managed: boolean;
  /** Whether the known pid is a live process; false when the pid is unknown. */
  isProcessAlive(): boolean;
  /** Starts Caddy again (ending the old process first if it still lives); origin becomes `started`. */
  restart(): Promise<void>;
  /** Asks Caddy to stop through the admin API, then signals the pid; removes the pid file. */
  stop(): Promise<void>;
}

/** Everything under `<dataDir>/caddy/`: config.json, caddy.pid, caddy.log, data/ and config/ (the XDG dirs). */
interface Paths {
  readonly configFile: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly xdgData: string;
  readonly xdgConfig: string;
}

const INSTALL_HINT = 'Install Caddy (`apt-get install caddy` on Debian/Ubuntu) or set CADDY_BINARY to the path of a Caddy executable.';
const POLL_MS = 100;
const LOG_TAIL_LINES = 15;
/** How long a Caddy asked to stop with SIGTERM may take before SIGKILL. */
const TERM_GRACE_MS = 2_000;

/**
 * Finds or starts the Caddy that ingressd drives, in this order (after the seed's daemon.go):
 * 1. the admin API already answers → `adopted-admin` (managed if `<dataDir>/caddy/caddy.pid`
 *    names a live caddy process);
 * 2. the pid file names a live caddy process → wait up to `startTimeoutMs` for its admin API →
 *    `adopted-pid` (managed);
 * 3. otherwise start `<binary> run --config <dataDir>/caddy/config.json`, detached, output
 *    appended to `<dataDir>/caddy/caddy.log` → `started` (managed).
 * Rejects with `caddy_start_failed` when the binary is missing, the process exits or its admin
 * API stays silent (the message quotes the log), or an adopted pid's admin never answers.
 */
export async function ensureCaddy(options: CaddyDaemonOptions, client: CaddyClient): Promise<CaddyDaemon> {
  const dir = join(options.dataDir, 'caddy');
  const paths: Paths = {
    configFile: join(dir, 'config.json'), pidFile: join(dir, 'caddy.pid'), logFile: join(dir, 'caddy.log'),
    xdgData: join(dir, 'data'), xdgConfig: join(dir, 'config'),
  };
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const ctx: Context = { options, client, paths, startTimeoutMs };
  const ownPid = await livePidFromFile(paths.pidFile);

  if (await client.ping()) {
    options.logger.info('adopting the running Caddy (admin API answers)', { adminUrl: client.adminUrl, pid: ownPid, managed: ownPid !== undefined });
    return new Daemon(ctx, 'adopted-admin', ownPid);
  }
  if (ownPid !== undefined) {
    if (!(await waitForAdmin(client, startTimeoutMs, () => isProcessAlive(ownPid)))) {
      throw new IngressdError(
        'caddy_start_failed',
        `Caddy (pid ${ownPid}, from ${paths.pidFile}) is running but its admin API at ${client.adminUrl} did not answer within ${startTimeoutMs} ms. ` +
          `Check admin.listen in ${paths.configFile} and ${paths.logFile}, or stop that process (kill ${ownPid}) so ingressd can start its own.`,
        { file: paths.pidFile },
      );
    }
    options.logger.info('adopting the Caddy named by the pid file', { pid: ownPid, adminUrl: client.adminUrl });
    return new Daemon(ctx, 'adopted-pid', ownPid);
  }
  return new Daemon(ctx, 'started', await startCaddy(ctx));
}

type Context = { readonly options: CaddyDaemonOptions; readonly client: CaddyClient; readonly paths: Paths; readonly startTimeoutMs: number };

class Daemon implements CaddyDaemon {
  readonly #ctx: Context;
  #origin: CaddyOrigin;
  #pid: number | undefined;
  #pending: Promise<void> | undefined;

  constructor(ctx: Context, origin: CaddyOrigin, pid: number | undefined) {
    this.#ctx = ctx;
    this.#origin = origin;
    this.#pid = pid;
  }

  get origin(): CaddyOrigin { return this.#origin; }
  get pid(): number | undefined { return this.#pid; }
  get managed(): boolean { return this.#pid !== undefined; }

  isProcessAlive(): boolean {
    return this.#pid !== undefined && isProcessAlive(this.#pid);
  }

  restart(): Promise<void> {
    // One lifecycle operation at a time: a second caller shares the running one.
    this.#pending ??= this.#restart().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  stop(): Promise<void> {
    this.#pending ??= this.#stop().finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  async #restart(): Promise<void> {
    const old = this.#pid;
    if (old !== undefined && isProcessAlive(old)) await terminate(old, TERM_GRACE_MS);
    this.#pid = await startCaddy(this.#ctx);
    this.#origin = 'started';
  }

  async #stop(): Promise<void> {
    const { options, paths } = this.#ctx;
    await postStop(options.adminAddress, options.adminPort);
    const pid = this.#pid;
    if (pid !== undefined && !(await waitForExit(pid, 5_000))) await terminate(pid, TERM_GRACE_MS);
    if (pid !== undefined && (await readPidFile(paths.pidFile)) === pid) await rm(paths.pidFile, { force: true });
    options.logger.info('Caddy stopped', { pid });
  }
}

/** Starts Caddy and waits for its admin API; returns its pid. See ensureCaddy step 3. */
async function startCaddy({ options, client, paths, startTimeoutMs }: Context): Promise<number> {
  const binary = await resolveBinary(options.binary);
  await mkdir(paths.xdgData, { recursive: true });
  await mkdir(paths.xdgConfig, { recursive: true });
  await prepareConfigFile(paths.configFile, joinHostPort(options.adminAddress, options.adminPort), options.logger);
  let child;
  try {
    child = await spawnDetached({
      command: binary,
      args: ['run', '--config', paths.configFile],
      logFile: paths.logFile,
      env: { ...process.env, XDG_DATA_HOME: paths.xdgData, XDG_CONFIG_HOME: paths.xdgConfig },
    });
  } catch (err) {
    const cause = err as NodeJS.ErrnoException;
    throw new IngressdError('caddy_start_failed', `Could not run ${binary} (${cause.code ?? cause.message}). ${INSTALL_HINT}`, { cause });
  }
  const { pid } = child;
  await writeFile(paths.pidFile, `${pid}\n`).catch((cause: unknown) =>
    options.logger.warn('could not write the Caddy pid file', { file: paths.pidFile, error: String(cause) }),
  );

  if (await waitForAdmin(client, startTimeoutMs, () => child.ended() === undefined)) {
    options.logger.info('Caddy started', { pid, adminUrl: client.adminUrl, log: paths.logFile });
    return pid;
  }
  const exit = child.ended();
  const how = exit?.signal === undefined ? `exit code ${exit?.code}` : `signal ${exit.signal}`;
  const why = exit === undefined ? `its admin API at ${client.adminUrl} did not answer within ${startTimeoutMs} ms` : `it exited (${how})`;
  if (exit === undefined) await terminate(pid, 0);
  await rm(paths.pidFile, { force: true });
  throw new IngressdError(
    'caddy_start_failed',
    `Caddy (${binary}, pid ${pid}) failed to start: ${why}. Last lines of ${paths.logFile}:\n${await logTail(paths.logFile, LOG_TAIL_LINES)}`,
    { file: paths.logFile },
  );
}

/** Asks the admin API every 100 ms until it answers (true), the deadline passes or `keepWaiting` says stop (false). */
function waitForAdmin(client: CaddyClient, timeoutMs: number, keepWaiting: () => boolean): Promise<boolean> {
  return waitUntilAnswering(() => client.ping(Math.min(1_000, timeoutMs)), { timeoutMs, everyMs: POLL_MS, keepWaiting });
}

/** A missing, unparsable or non-object file becomes `{"admin":{"listen":…}}`; otherwise only admin.listen is fixed. */
async function prepareConfigFile(file: string, listen: string, logger: CaddyDaemonOptions['logger']): Promise<void> {
  let config: JsonObject | undefined;
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (isJsonObject(parsed)) config = parsed;
    else logger.warn('Caddy config file is not a JSON object; replacing it', { file });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn('Caddy config file is unreadable or not JSON; replacing it', { file, error: String(err) });
  }
  const admin = config !== undefined && isJsonObject(config['admin']) ? config['admin'] : {};
  if (config !== undefined && admin['listen'] === listen) return;
  if (config !== undefined) logger.info('setting admin.listen in the Caddy config file', { file, was: admin['listen'] ?? null, now: listen });
  const next: JsonObject = { ...config, admin: { ...admin, listen } };
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`);
  await rename(temp, file);
}

async function resolveBinary(binary: string): Promise<string> {
  const candidates = binary.includes('/') ? [binary] : (process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  const where = binary.includes('/') ? `${binary} does not exist or is not executable` : `'${binary}' is not on PATH`;
  throw new IngressdError('caddy_start_failed', `Caddy binary not found: ${where}. ${INSTALL_HINT}`);
}

/** The pid file's pid if it is alive and its command line mentions caddy (not a recycled pid). */
async function livePidFromFile(pidFile: string): Promise<number | undefined> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return undefined;
  return commandLineOf(pid)?.some((arg) => arg.includes('caddy')) === true ? pid : undefined;
}

/** POST /stop; any failure is ignored (the caller falls back to signals). */
function postStop(host: string, port: number): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest({ host, port, method: 'POST', path: '/stop', agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', () => resolve());
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve());
    req.end();
  });
}
