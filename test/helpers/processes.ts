/**
 * Real components for integration tests: backends, an `ingressd run` process, a bare Caddy, HTTP
 * requests through Caddy, and Caddy's own log to count config writes. Everything binds loopback
 * addresses only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ingressd-${prefix}-`));
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Backend {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An HTTP server answering `<name>` with status 200 on host:port. */
export async function startBackend(name: string, host: string, port: number): Promise<Backend> {
  const server: Server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.setHeader('x-backend', name);
    res.end(name);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** GET http://127.0.0.1:<port><path> with the given Host header (a fresh connection each time). */
export function get(port: number, host: string, path = '/', timeoutMs = 5000): Promise<HttpAnswer> {
  return getAt('127.0.0.1', port, host, path, timeoutMs);
}

/** GET http://<address>:<port><path> with the given Host header, on a fresh connection. */
export function getAt(address: string, port: number, host: string, path = '/', timeoutMs = 5000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: address, port, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export interface IngressdPorts {
  readonly admin: number;
  readonly dns: number;
  readonly api?: number;
}

export interface IngressdProcess {
  readonly dir: string;
  readonly dataDir: string;
  readonly ports: IngressdPorts;
  readonly output: () => string;
  /** The `ingressd run` process id (to pause it with SIGSTOP, for instance). */
  readonly pid: number | undefined;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `ingressd run` as a real process, like a user would, driving the Caddy under test. */
export function startIngressd(options: {
  readonly dir: string;
  readonly dataDir: string;
  readonly ports: IngressdPorts;
  readonly env?: Readonly<Record<string, string>>;
}): IngressdProcess {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    DATA_DIR: options.dataDir,
    CADDY_LISTEN_ADDRESS: '127.0.0.1',
    CADDY_ADMIN_PORT: String(options.ports.admin),
    INTERNAL_DNS_PORT: String(options.ports.dns),
    API_LISTEN: options.ports.api === undefined ? 'off' : `127.0.0.1:${options.ports.api}`,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'debug',
    // The Caddy under test (global-setup.ts chose it), unless the test names another.
    ...(process.env['CADDY_BINARY'] === undefined ? {} : { CADDY_BINARY: process.env['CADDY_BINARY'] }),
    ...options.env,
  };
  const child: ChildProcess = spawn(process.execPath, [CLI, 'run', '--dir', options.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    dir: options.dir,
    dataDir: options.dataDir,
    ports: options.ports,
    output: () => output,
    pid: child.pid,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until ingressd logged its first successful sync. */
export async function waitReady(p: IngressdProcess, timeoutMs = 20_000): Promise<void> {
  try {
    await waitFor('ingressd to be ready', () => p.output().includes('ready: the first sync') || undefined, timeoutMs);
  } catch (err) {
    // What ingressd said is what tells why: keep its last lines in the failure.
    throw new Error(`${(err as Error).message}\n--- ingressd output (last 3000 chars) ---\n${p.output().slice(-3000)}`);
  }
}

/**
 * Ports handed out by freePort: below the kernel's ephemeral range (32768–60999 here), so no
 * outgoing connection (ingressd to its Caddy, a client to a backend) can take one between the
 * moment it is chosen and the moment its listener binds it. Each jest worker has its own slice,
 * so two test files running at once never pick the same port; within a file, ports are handed
 * out in turn from a random start and each is probed before it is returned.
 */
const FREE_PORT_FIRST = 10_000;
const FREE_PORT_SLICE = 2_400;
const FREE_PORT_SLICES = 4;
const workerId = Number(process.env['JEST_WORKER_ID'] ?? '1');
const sliceStart = FREE_PORT_FIRST + (Number.isInteger(workerId) && workerId > 0 ? (workerId - 1) % FREE_PORT_SLICES : 0) * FREE_PORT_SLICE;
let nextOffset = Math.floor(Math.random() * FREE_PORT_SLICE);

/** A loopback port nobody holds right now (TCP or UDP) and no other caller of freePort in this test file was given. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < FREE_PORT_SLICE; tries++) {
    const port = sliceStart + (nextOffset++ % FREE_PORT_SLICE);
    if ((await canListen(port)) && (await canBindUdp(port))) return port;
  }
  throw new Error(`no free port in ${sliceStart}-${sliceStart + FREE_PORT_SLICE - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createNetServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The instance DNS listens on UDP as well: a port one of its processes still holds is not free. */
function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** A plain `caddy run` (Debian's binary) with only an admin listener: for tests of Caddy's admin API itself. */
export interface BareCaddy {
  readonly adminPort: number;
  /** Kills Caddy, waits for it to exit and removes its directory. */
  stop(): Promise<void>;
}

/** Starts a BareCaddy on a free port, in a temp directory of its own; resolves once `GET /config/` answers 200. */
export async function startBareCaddy(prefix: string): Promise<BareCaddy> {
  const dir = await tempDir(prefix);
  const adminPort = await freePort();
  const configFile = join(dir, 'init.json');
  await writeFile(configFile, JSON.stringify({ admin: { listen: `127.0.0.1:${adminPort}` } }));
  const log = openSync(join(dir, 'caddy.log'), 'a');
  const caddy = spawn(process.env['CADDY_BINARY'] ?? 'caddy', ['run', '--config', configFile], {
    env: { ...process.env, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const stop = async (): Promise<void> => {
    if (caddy.exitCode === null && caddy.signalCode === null) {
      const exited = new Promise((resolve) => caddy.once('exit', resolve));
      caddy.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('Caddy\'s admin API', async () => (await adminRequest(adminPort, 'GET', '/config/')).status === 200, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { adminPort, stop };
}

/** One request to a Caddy admin API on loopback; `body` is sent as JSON. */
export function adminRequest(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent: false, headers: data === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** `GET /config/` requests Caddy received (its own admin log), not counting ingressd's liveness pings. */
export async function caddyReads(dataDir: string): Promise<number> {
  const log = await readFile(join(dataDir, 'caddy', 'caddy.log'), 'utf8').catch(() => '');
  return log.split('\n').filter((line) => line.includes('received request') && line.includes('"method":"GET"') && line.includes('"uri":"/config/"')).length;
}

/** Config writes Caddy received, counted from Caddy's own log (admin requests other than GET). */
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

/** Kills the Caddy and DNS processes a test's ingressd left running (they outlive ingressd by design). */
export async function killDaemons(dataDir: string): Promise<void> {
  for (const file of [join(dataDir, 'caddy', 'caddy.pid'), join(dataDir, 'dns', 'dns.json')]) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const pid = Number(/"pid":\s*(\d+)/.exec(text)?.[1] ?? text.trim());
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Write-then-rename, as a careful tool would; the watcher's settle time covers plain writes too.
  const tmp = join(dirname(path), `.${Date.now()}-${Math.random().toString(36).slice(2)}.tmp`);
  await writeFile(tmp, JSON.stringify(value, null, 2));
  const { rename } = await import('node:fs/promises');
  await rename(tmp, path);
}

export async function readStatus(dir: string, stem: string): Promise<StatusView | undefined> {
  const text = await readFile(join(dir, `${stem}.status.json`), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as StatusView);
}

export interface StatusView {
  readonly kind: string;
  readonly name: string;
  readonly id: string;
  readonly observedGeneration: string;
  readonly conditions: readonly { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[];
  readonly errors: readonly { code: string; path: string; message: string }[];
  readonly routes?: readonly unknown[];
  readonly certificates?: readonly { hostname: string; served: boolean; notAfter?: string; issuer?: string }[];
}

export function condition(status: StatusView | undefined, type: string): { status: string; reason: string; message: string } | undefined {
  return status?.conditions.find((c) => c.type === type);
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** Runs the built `ingressd` CLI with `env` (and PATH) and resolves with its exit code and output. */
export function runCliAsync(args: readonly string[], env: Readonly<Record<string, string>>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
