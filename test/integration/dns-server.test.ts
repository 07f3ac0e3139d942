import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { Packet, TCPClient, UDPClient } from 'dns2';
import { isIngressdError } from '../../src/model/errors.js';
import { startDnsServer, type DnsRecord, type DnsServer } from '../../src/dns/server.js';

const ZONE = 'ingressd.internal';
const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, REFUSED: 5 } as const;
const RECORDS: readonly DnsRecord[] = [
  { name: 'web', id: 'w1d2e3f4a5b6c7d8e9f0a1b2', address: '127.0.0.2' },
  { name: 'api', id: 'a1b2c3d4e5f6a7b8c9d0e1f2', address: 'fd00::1' },
  { name: 'mapped', id: 'm1b2c3d4e5f6a7b8c9d0e1f2', address: '::ffff:127.0.0.3' },
];

let server: DnsServer;
const udp = (name: string, type: string) => UDPClient({ dns: '127.0.0.1', port: server.port, timeout: 2000 })(name, type);
const tcp = (name: string, type: string) => TCPClient({ dns: '127.0.0.1', port: server.port })(name, type);

beforeAll(async () => {
  server = await startDnsServer({ zone: ZONE });
  server.setRecords(RECORDS);
});
afterAll(async () => {
  await server.close();
});

describe('instance DNS server', () => {
  test('answers A for an instance name, authoritatively, with TTL 5', async () => {
    const r = await udp('web.ingressd.internal', 'A');
    expect(r.header.rcode).toBe(RCODE.NOERROR);
    expect(r.header.aa).toBe(1);
    expect(r.answers).toHaveLength(1);
    expect(r.answers[0]).toMatchObject({ type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 5, address: '127.0.0.2' });
  });

  test('answers A for an instance id', async () => {
    const r = await udp('w1d2e3f4a5b6c7d8e9f0a1b2.ingressd.internal', 'A');
    expect(r.answers.map((a) => a.address)).toEqual(['127.0.0.2']);
  });

  test('matches names case-insensitively and echoes the question name', async () => {
    const r = await udp('WeB.IngressD.INTERNAL', 'A');
    expect(r.answers.map((a) => [a.name, a.address])).toEqual([['WeB.IngressD.INTERNAL', '127.0.0.2']]);
  });

  test('answers AAAA for an IPv6 instance, including IPv4-mapped addresses', async () => {
    const v6 = await udp('api.ingressd.internal', 'AAAA');
    expect(v6.header.aa).toBe(1);
    expect(v6.answers).toEqual([expect.objectContaining({ type: Packet.TYPE.AAAA, ttl: 5, address: 'fd00::1' })]);
    const mapped = await udp('mapped.ingressd.internal', 'AAAA');
    expect(mapped.answers.map((a) => a.address)).toEqual(['::ffff:7f00:3']);
  });

  test('answers NOERROR with no records, AA set, for the missing address family', async () => {
    const noV6 = await udp('web.ingressd.internal', 'AAAA');
    expect([noV6.header.rcode, noV6.header.aa, noV6.answers.length]).toEqual([RCODE.NOERROR, 1, 0]);
    const noV4 = await udp('api.ingressd.internal', 'A');
    expect([noV4.header.rcode, noV4.header.aa, noV4.answers.length]).toEqual([RCODE.NOERROR, 1, 0]);
  });

  test('answers NXDOMAIN, AA set, for unknown names in the zone and for the apex', async () => {
    for (const name of ['nope.ingressd.internal', 'x.web.ingressd.internal', 'ingressd.internal']) {
      const r = await udp(name, 'A');
      expect([name, r.header.rcode, r.header.aa, r.answers.length]).toEqual([name, RCODE.NXDOMAIN, 1, 0]);
    }
  });

  test('answers REFUSED, not authoritative, for names outside the zone', async () => {
    for (const name of ['example.com', 'web.ingressd.internal.evil', 'xingressd.internal']) {
      const r = await udp(name, 'A');
      expect([name, r.header.rcode, r.header.aa]).toEqual([name, RCODE.REFUSED, 0]);
    }
  });

  test('answers over TCP on the same port', async () => {
    const a = await tcp('web.ingressd.internal', 'A');
    expect([a.header.aa, a.answers.map((x) => x.address)]).toEqual([1, ['127.0.0.2']]);
    const missing = await tcp('nope.ingressd.internal', 'A');
    expect(missing.header.rcode).toBe(RCODE.NXDOMAIN);
  });

  test('setRecords replaces the answers in place, without a restart', async () => {
    const own = await startDnsServer({ zone: ZONE, ttlSeconds: 7 });
    try {
      const ask = (name: string) => UDPClient({ dns: '127.0.0.1', port: own.port, timeout: 2000 })(name, 'A');
      own.setRecords([{ name: 'db', id: 'd1', address: '127.0.0.10' }]);
      expect((await ask('db.ingressd.internal')).answers.map((a) => [a.address, a.ttl])).toEqual([['127.0.0.10', 7]]);
      own.setRecords([{ name: 'db', id: 'd1', address: '127.0.0.11' }, { name: 'cache', id: 'c1', address: '127.0.0.12' }]);
      expect((await ask('db.ingressd.internal')).answers.map((a) => a.address)).toEqual(['127.0.0.11']);
      expect((await ask('c1.ingressd.internal')).answers.map((a) => a.address)).toEqual(['127.0.0.12']);
      own.setRecords([]);
      expect((await ask('db.ingressd.internal')).header.rcode).toBe(RCODE.NXDOMAIN);
    } finally {
      await own.close();
    }
  });

  test('answers every one of a burst of 2,000 UDP queries', async () => {
    const socket = await openUdp();
    const answered = new Map<number, Packet>();
    socket.on('message', (message) => {
      const r = Packet.parse(message);
      answered.set(r.header.id, r);
    });
    const names = ['web', 'api', 'nope', 'WEB', 'w1d2e3f4a5b6c7d8e9f0a1b2'];
    // All sent in one tick: they queue in the server's socket before it reads any (hence its 4 MiB buffer).
    for (let id = 0; id < 2000; id++) socket.send(query(id, `${names[id % names.length]}.${ZONE}`), server.port, '127.0.0.1');
    await waitFor(() => answered.size === 2000, 10_000);
    socket.close();
    expect(answered.size).toBe(2000);
    const web = answered.get(0);
    expect(web?.answers.map((a) => a.address)).toEqual(['127.0.0.2']);
    expect(answered.get(2)?.header.rcode).toBe(RCODE.NXDOMAIN);
  });

  test('survives malformed packets and answers a query with an unreadable question with FORMERR', async () => {
    const socket = await openUdp();
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    socket.send(Buffer.from([1, 2, 3]), server.port, '127.0.0.1'); // not even a header: nothing to answer
    const broken = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff]); // qdcount 1, bad name
    socket.send(broken, server.port, '127.0.0.1');
    await waitFor(() => replies.length === 1, 2000);
    socket.close();
    const r = Packet.parse(replies[0]!);
    expect([r.header.id, r.header.qr, r.header.rcode]).toEqual([0x1234, 1, RCODE.FORMERR]);
    expect((await udp('web.ingressd.internal', 'A')).answers).toHaveLength(1);
  });

  test('rejects with port_in_use when the port is taken', async () => {
    const err = await startDnsServer({ zone: ZONE, port: server.port }).catch((e: unknown) => e);
    expect(isIngressdError(err, 'port_in_use')).toBe(true);
  });

  test('close() resolves promptly with an idle TCP connection open', async () => {
    const own = await startDnsServer({ zone: ZONE });
    const client = connect(own.port, '127.0.0.1');
    client.on('error', () => undefined);
    await new Promise((resolve) => client.once('connect', resolve));
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(2000);
    client.destroy();
  });
});

function query(id: number, name: string): Buffer {
  const p = new Packet();
  p.header.id = id;
  p.header.rd = 1;
  p.questions.push(new Packet.Question(name, Packet.TYPE.A, Packet.CLASS.IN));
  return p.toBuffer();
}

async function openUdp(): Promise<UdpSocket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
