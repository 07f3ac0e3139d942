/**
 * The instance DNS server: answers `<name>.<zone>` and `<id>.<zone>` with each instance's
 * address, over UDP and TCP on the same port. Caddy resolves dynamic upstreams through it
 * about once a second per instance, and one unanswered query stalls all of Caddy's proxied
 * traffic for the Go resolver's timeout (5 s), so every query gets an answer, always.
 */
import { isIP, isIPv4, isIPv6, type Socket } from 'node:net';
import { Packet, TCPServer, UDPServer, type Header } from 'dns2';
import { IngressdError } from '../model/errors.js';
import { joinHostPort } from '../model/host-port.js';

export interface DnsRecord {
  readonly name: string;
  readonly id: string;
  readonly address: string;
}

export interface DnsServerOptions {
  /** Loopback in practice. @default '127.0.0.1' */
  readonly address?: string;
  /** UDP and TCP port; 0 picks a free port that is free for both. @default 0 */
  readonly port?: number;
  /** The zone answered authoritatively, e.g. `ingressd.internal`; case and outer dots are ignored. */
  readonly zone: string;
  /** @default 5 */
  readonly ttlSeconds?: number;
  /** Called with socket errors, unparseable packets and failed sends; never throws into the server. @default ignore */
  readonly onError?: (error: unknown) => void;
}

export interface DnsServer {
  /** The bound port (UDP and TCP). */
  readonly port: number;
  /** The UDP receive buffer the kernel granted (capped by net.core.rmem_max; Linux reports it doubled). */
  readonly udpRecvBufferBytes: number;
  /** Replace the answered set in place, atomically; records with an address that is not an IP are skipped. */
  setRecords(records: readonly DnsRecord[]): void;
  /** Stop both listeners and drop open TCP connections. */
  close(): Promise<void>;
}

/** Addresses answered for one key, IPv6 expanded to 8 groups (dns2's encoder cannot take `::ffff:1.2.3.4`). */
interface Entry {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const { TYPE, CLASS } = Packet;
/** Caddy refreshes every instance in the same second; the default 208 KiB buffer holds ~200 queries. */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
const BIND_ATTEMPTS = 20;

interface Resolved {
  readonly address: string;
  readonly port: number;
  readonly zone: string;
  readonly ttlSeconds: number;
  readonly onError: (error: unknown) => void;
}

/**
 * Start answering on `address:port` (UDP and TCP). Rejects with `invalid_option` for bad options,
 * `port_in_use` when the port is taken, `dns_start_failed` for other bind errors.
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const o = resolveOptions(options);
  let table = new Map<string, Entry>();
  const sockets = new Set<Socket>();
  const handle = (request: Packet, send: Send): void => {
    if (request.header.qr === 1) return; // a response, not a query: answering could loop
    let response: Packet | Buffer;
    try {
      response = answer(request, o, table);
    } catch (err) {
      o.onError(err);
      response = servfail(request);
    }
    if (!trySend(send, response, o.onError)) trySend(send, rawServfail(request.header), o.onError);
  };
  const { udp, tcp, port } = await bindBoth(o, (req, send) => handle(req, send));
  for (const server of [udp, tcp]) {
    server.on('requestError', o.onError);
    server.on('error', o.onError);
  }
  tcp.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  try {
    udp.setRecvBufferSize(RECV_BUFFER_BYTES); // the kernel caps it at net.core.rmem_max
  } catch (err) {
    o.onError(err);
  }
  return {
    port,
    udpRecvBufferBytes: udp.getRecvBufferSize(),
    setRecords: (records) => {
      table = buildTable(records);
    },
    close: async () => {
      const closed = Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
      for (const socket of sockets) socket.destroy(); // else close() waits out the 10 s idle timeout
      await closed;
    },
  };
}

type Send = (response: Packet | Buffer) => Promise<Buffer>;

/** The whole answering decision; pure apart from reading `table`. */
function answer(request: Packet, o: Resolved, table: ReadonlyMap<string, Entry>): Packet {
  const response = Packet.createResponseFromRequest(request);
  const question = request.questions[0];
  if (request.header.opcode !== 0) return withRcode(response, RCODE.NOTIMP);
  if (question === undefined || request.questions.length !== 1) return withRcode(response, RCODE.FORMERR);
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const inZone = name === o.zone || name.endsWith(`.${o.zone}`);
  if (!inZone || (question.class !== CLASS.IN && question.class !== CLASS.ANY)) {
    return withRcode(response, RCODE.REFUSED);
  }
  response.header.aa = 1; // without AA, Go re-asks for every empty AAAA answer ("lame referral")
  const entry = name === o.zone ? undefined : table.get(name.slice(0, -(o.zone.length + 1)));
  if (entry === undefined) return withRcode(response, RCODE.NXDOMAIN);
  const wantA = question.type === TYPE.A || question.type === TYPE.ANY;
  const wantAAAA = question.type === TYPE.AAAA || question.type === TYPE.ANY;
  const add = (type: number, address: string): void => {
    response.answers.push(
      Packet.createResourceFromQuestion(question, { type, class: CLASS.IN, ttl: o.ttlSeconds, address }),
    );
  };
  if (wantA) for (const address of entry.v4) add(TYPE.A, address);
  if (wantAAAA) for (const address of entry.v6) add(TYPE.AAAA, address);
  return response; // NOERROR, possibly with no answers (the other family, or another type)
}

function withRcode(response: Packet, rcode: number): Packet {
  response.header.rcode = rcode;
  return response;
}

function servfail(request: Packet): Packet | Buffer {
  try {
    return withRcode(Packet.createResponseFromRequest(request), RCODE.SERVFAIL);
  } catch {
    return rawServfail(request.header);
  }
}

/** A 12-byte SERVFAIL with no sections, for when dns2 cannot even serialize the question. */
function rawServfail(header: Header): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(header.id & 0xffff, 0);
  out[2] = 0x80 | ((header.opcode & 0xf) << 3) | (header.rd & 1);
  out[3] = RCODE.SERVFAIL;
  return out;
}

/** dns2's TCP send returns undefined (its d.ts says Promise) and may throw while serializing. */
function trySend(send: Send, response: Packet | Buffer, onError: (error: unknown) => void): boolean {
  try {
    const sent = send(response) as Promise<Buffer> | undefined;
    sent?.catch(onError);
    return true;
  } catch (err) {
    onError(err);
    return false;
  }
}

/** Keys are lowercase names and ids; an id wins over another record's equal name. */
function buildTable(records: readonly DnsRecord[]): Map<string, Entry> {
  const byName = new Map<string, { v4: Set<string>; v6: Set<string> }>();
  const byId = new Map<string, { v4: Set<string>; v6: Set<string> }>();
  const put = (map: typeof byName, key: string, address: string): void => {
    if (key === '') return;
    let slot = map.get(key);
    if (slot === undefined) map.set(key, (slot = { v4: new Set(), v6: new Set() }));
    if (isIPv4(address)) slot.v4.add(address);
    else slot.v6.add(address);
  };
  for (const record of records) {
    const address = normalizeAddress(record.address);
    if (address === undefined) continue;
    put(byName, record.name.toLowerCase(), address);
    put(byId, record.id.toLowerCase(), address);
  }
  const table = new Map<string, Entry>();
  for (const map of [byName, byId]) {
    for (const [key, slot] of map) table.set(key, Object.freeze({ v4: [...slot.v4].sort(), v6: [...slot.v6].sort() }));
  }
  return table;
}

/** IPv4 as is; IPv6 expanded to 8 four-digit groups; anything else (or a scoped IPv6) → undefined. */
export function normalizeAddress(address: string): string | undefined {
  if (isIPv4(address)) return address;
  if (!isIPv6(address) || address.includes('%')) return undefined;
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((g) => g.padStart(4, '0')).join(':');
}

/** Lowercase, without leading or trailing dots: the form zones are compared and stored in. */
export function normalizeZone(zone: string): string {
  return zone.toLowerCase().replace(/^\.+|\.+$/g, '');
}

function resolveOptions(options: DnsServerOptions): Resolved {
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? 0;
  const ttlSeconds = options.ttlSeconds ?? 5;
  const zone = normalizeZone(options.zone);
  const fail = (message: string): never => {
    throw new IngressdError('invalid_option', message);
  };
  if (isIP(address) === 0) fail(`dns address must be an IP address, got ${JSON.stringify(address)}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`dns port must be an integer 0-65535, got ${port}`);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > 0x7fffffff) {
    fail(`dns ttlSeconds must be a non-negative integer, got ${ttlSeconds}`);
  }
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(zone)) fail(`dns zone must be a DNS name, got ${JSON.stringify(options.zone)}`);
  return Object.freeze({ address, port, zone, ttlSeconds, onError: options.onError ?? (() => {}) });
}

interface Bound {
  readonly udp: UDPServer;
  readonly tcp: TCPServer;
  readonly port: number;
}

/**
 * Bind UDP, then TCP on the same port. With port 0 the kernel picks the UDP port, which may be
 * taken for TCP; then try again with fresh sockets (a closed dgram socket cannot be rebound).
 * dns2's createServer().listen is not used: with port 0 it binds TCP to `::` on another port.
 */
async function bindBoth(o: Resolved, handle: (request: Packet, send: Send) => void): Promise<Bound> {
  for (let attempt = 1; ; attempt++) {
    const udp = new UDPServer({ type: isIPv6(o.address) ? 'udp6' : 'udp4' });
    const tcp = new TCPServer();
    udp.on('request', (request, send) => handle(request, send));
    tcp.on('request', (request, send) => handle(request, send));
    let port = o.port;
    try {
      port = await listenOnce(udp, port, o.address, (cb) => udp.bind({ port, address: o.address, exclusive: true }, cb));
      await listenOnce(tcp, port, o.address, (cb) => tcp.listen({ port, host: o.address, exclusive: true }, cb));
      return { udp, tcp, port };
    } catch (err) {
      closeQuietly(udp);
      const retry = o.port === 0 && attempt < BIND_ATTEMPTS && err instanceof IngressdError && err.code === 'port_in_use';
      if (!retry) throw err;
    }
  }
}

function closeQuietly(udp: UDPServer): void {
  try {
    udp.close();
  } catch {
    // never bound, or already closed
  }
}

function listenOnce(server: UDPServer | TCPServer, port: number, address: string, start: (cb: () => void) => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = joinHostPort(address, port);
      reject(
        err.code === 'EADDRINUSE'
          ? new IngressdError('port_in_use', `DNS port ${where} is already in use`, { port, cause: err })
          : new IngressdError('dns_start_failed', `DNS server could not bind ${where}: ${err.message}`, { port, cause: err }),
      );
    };
    server.once('error', onError);
    start(() => {
      server.removeListener('error', onError);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
    });
  });
}
