/**
 * A fleet of three ingress nodes on loopback, each a whole stack: `ingressd run` with its own
 * DATA_DIR and STATUS_DIR, its Caddy listening on :80 and :443 of its own address (127.0.0.11,
 * .12, .13), its instance DNS on a free port, all reading ONE shared manifest directory. Caddy's
 * admin API of each node is on 127.0.0.1 at a free port. Fixed ports 80 and 443 are used only by
 * the fleet tests (the tests run as root; other suites keep to free ports).
 *
 * Also a tiny UDP DNS server answering every A query with one address (Pebble's DNS in the fleet
 * TLS tests: every name resolves to node 2, so validation always lands there), and plain HTTP and
 * HTTPS requests to a node's own address.
 */
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  freePort,
  killDaemons,
  removeDir,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  type IngressdPorts,
  type IngressdProcess,
} from './processes.js';

const execFileAsync = promisify(execFile);

export const NODE_ADDRESSES = ['127.0.0.11', '127.0.0.12', '127.0.0.13'] as const;

export interface FleetNode {
  /** `node-1` … `node-3`. */
  readonly name: string;
  /** The address its Caddy listens on (ports 80 and 443). */
  readonly address: string;
  readonly dataDir: string;
  readonly statusDir: string;
  readonly ports: IngressdPorts;
  /** Its HTTP API (`http://127.0.0.1:<port>`), for `ingressd fleet`. */
  readonly apiUrl: string;
  /** The `ingressd run` process now (replaced by `start`). */
  ingressd(): IngressdProcess;
  /** Starts `ingressd run` again (after `stopIngressd` or `kill`) and waits until it is ready. */
  start(): Promise<void>;
  /** SIGTERM (or `signal`) to ingressd only: Caddy and the DNS process keep serving. */
  stopIngressd(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL to ingressd and to its Caddy (the DNS process lives on, as it would on a crash of the two). */
  kill(): Promise<void>;
  /** The Caddy pid from its pid file, or undefined. */
  caddyPid(): Promise<number | undefined>;
}

export interface Fleet {
  readonly manifestDir: string;
  readonly nodes: readonly FleetNode[];
  /** Stops every ingressd, kills every Caddy and DNS process they left, removes their directories. */
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** Environment for every node (ACME_*, CADDY_STORAGE, …); CADDY_BINARY defaults to the Caddy under test. */
  readonly env?: Readonly<Record<string, string>>;
  /** The shared manifest directory, already filled; a new empty one when absent. */
  readonly manifestDir?: string;
}

/** Starts the three nodes at once and resolves when every one logged its first successful sync. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const manifestDir = options.manifestDir ?? (await tempDir('fleet-manifests'));
  const nodes: FleetNode[] = [];
  for (const [i, address] of NODE_ADDRESSES.entries()) {
    nodes.push(await createNode(`node-${i + 1}`, address, manifestDir, options.env ?? {}));
  }
  const fleet: Fleet = {
    manifestDir,
    nodes,
    async stop() {
      await Promise.all(nodes.map((node) => node.stopIngressd()));
      for (const node of nodes) {
        await killDaemons(node.dataDir);
        await removeDir(node.dataDir);
        await removeDir(node.statusDir);
      }
      if (options.manifestDir === undefined) await removeDir(manifestDir);
    },
  };
  try {
    await Promise.all(nodes.map((node) => waitReady(node.ingressd(), 30_000)));
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  return fleet;
}

async function createNode(name: string, address: string, manifestDir: string, env: Readonly<Record<string, string>>): Promise<FleetNode> {
  const dataDir = await tempDir(`fleet-${name}-data`);
  const statusDir = await tempDir(`fleet-${name}-status`);
  const ports: IngressdPorts = { admin: await freePort(), dns: await freePort(), api: await freePort() };
  const launch = (): IngressdProcess =>
    startIngressd({
      dir: manifestDir,
      dataDir,
      ports,
      env: { NODE_NAME: name, CADDY_LISTEN_ADDRESS: address, CADDY_HTTP_PORT: '80', CADDY_HTTPS_PORT: '443', STATUS_DIR: statusDir, RESYNC_INTERVAL: '5s', ...env },
    });
  let current = launch();
  const caddyPid = async (): Promise<number | undefined> => {
    const pid = Number((await readFile(join(dataDir, 'caddy', 'caddy.pid'), 'utf8').catch(() => '')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  return {
    name,
    address,
    dataDir,
    statusDir,
    ports,
    apiUrl: `http://127.0.0.1:${ports.api}`,
    ingressd: () => current,
    async start() {
      current = launch();
      await waitReady(current, 30_000);
    },
    async stopIngressd(signal = 'SIGTERM') {
      await current.stop(signal);
    },
    async kill() {
      const pid = await caddyPid();
      await current.stop('SIGKILL');
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await waitGone(pid);
      }
    },
    caddyPid,
  };
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface DnsResponder {
  /** `127.0.0.1:<port>`, for Pebble's `-dnsserver`. */
  readonly address: string;
  /** How many queries it answered, by type (`A`, `AAAA`, `CAA`, …, or the number). */
  readonly queries: () => Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

const TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'A', 28: 'AAAA', 257: 'CAA', 16: 'TXT', 5: 'CNAME' };

/**
 * A DNS server on 127.0.0.1 (UDP, a free port) that answers every A query with `ipv4` (TTL 0) and
 * every other query with NOERROR and no records (so no AAAA, no CAA: issuance is allowed). It
 * reads one question per message, which is what Pebble sends. `beforeAnswerA`, when given, is
 * awaited before each A answer is sent (a test holds Pebble's validation with it).
 */
export async function startDnsResponder(ipv4: string, options: { readonly beforeAnswerA?: () => Promise<void> } = {}): Promise<DnsResponder> {
  const socket = createSocket('udp4');
  const counts: Record<string, number> = {};
  const rdata = Buffer.from(ipv4.split('.').map(Number));
  socket.on('message', (msg, peer) => {
    if (msg.length < 12) return;
    let offset = 12;
    while (offset < msg.length && msg[offset] !== 0) offset += msg[offset]! + 1;
    const end = offset + 5;
    if (end > msg.length) return;
    const qtype = msg.readUInt16BE(offset + 1);
    const type = TYPE_NAMES[qtype] ?? String(qtype);
    counts[type] = (counts[type] ?? 0) + 1;
    const isA = qtype === 1;
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2);
    // QR, opcode 0, AA, RD copied from the query; RA; RCODE 0.
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(isA ? 1 : 0, 6);
    const question = msg.subarray(12, end);
    const answer = isA ? Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]), rdata]) : Buffer.alloc(0);
    const send = (): void => socket.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
    if (isA && options.beforeAnswerA !== undefined) void options.beforeAnswerA().then(send, send);
    else send();
  });
  const port = await new Promise<number>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
  });
  return {
    address: `127.0.0.1:${port}`,
    queries: () => ({ ...counts }),
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface RedisServer {
  readonly port: number;
  /** `redis-cli` against it, with the password; resolves with its stdout. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Debian's `redis-server` on 127.0.0.1 at a free port, nothing saved to disk, with `password` required. */
export async function startRedis(password: string): Promise<RedisServer> {
  const port = await freePort();
  const dir = await tempDir('redis');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', password], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cli = async (...args: string[]): Promise<string> =>
    (await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', '-a', password, ...args], { timeout: 5_000 })).stdout;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await removeDir(dir);
  };
  try {
    await waitFor('redis-server to answer PING', async () => (await cli('PING')).trim() === 'PONG', 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, cli, stop };
}
