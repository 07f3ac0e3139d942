/**
 * Checks, before each N, that every port the benchmark binds is free, and waits a while when
 * another session holds one: a busy port otherwise shows up as ingressd refusing every ingress.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BACKEND_ADDRESSES,
  BACKEND_PORT,
  CADDY_ONLY_ADMIN_PORT,
  CADDY_ONLY_PORT_OFFSET,
  EXTRA_PORTS,
  HTTP_PORT,
  HTTPS_PORT,
  INGRESSD_ADMIN_PORT,
  INGRESSD_DNS_PORT,
  LOOPBACK,
  MAIN_PORT,
  PATHS_ADMIN_PORT,
  PATHS_DNS_PORT,
  PATHS_LISTEN_PORT,
} from './ports.js';

const LISTENER_PORTS = [MAIN_PORT, ...EXTRA_PORTS, HTTP_PORT, HTTPS_PORT, PATHS_LISTEN_PORT];

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

/** `host:port` of every TCP port in use among the benchmark's own (DNS: also UDP). */
async function busyPorts(includeBackends: boolean): Promise<string[]> {
  const tcp: [string, number][] = [
    ...[CADDY_ONLY_ADMIN_PORT, INGRESSD_ADMIN_PORT, INGRESSD_DNS_PORT, PATHS_ADMIN_PORT, PATHS_DNS_PORT, ...LISTENER_PORTS, ...LISTENER_PORTS.map((p) => p + CADDY_ONLY_PORT_OFFSET)].map((p): [string, number] => [LOOPBACK, p]),
    ...(includeBackends ? BACKEND_ADDRESSES.map((a): [string, number] => [a, BACKEND_PORT]) : []),
  ];
  const busy: string[] = [];
  for (const [host, port] of tcp) if (!(await tcpFree(host, port))) busy.push(`${host}:${port}`);
  if (!(await udpFree(LOOPBACK, INGRESSD_DNS_PORT))) busy.push(`udp ${LOOPBACK}:${INGRESSD_DNS_PORT}`);
  return busy;
}

function holders(): string {
  try {
    return execFileSync('ss', ['-ltunpH'], { encoding: 'utf8' }).split('\n').filter((l) => /:28[0-9]{3}\b/.test(l)).join('\n');
  } catch {
    return '(ss unavailable)';
  }
}

/** Waits up to `timeoutMs` for the benchmark's ports to be free; throws naming the busy ones and their holders. */
export async function ensurePortsFree(includeBackends: boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const busy = await busyPorts(includeBackends);
    if (busy.length === 0) return;
    if (performance.now() > deadline) throw new Error(`ports in use by another process: ${busy.join(', ')}\n${holders()}`);
    await sleep(2000);
  }
}
