/**
 * A WebSocket (the `ws` client library, a `ws` echo server behind) through host A while 50
 * unrelated ingress files are added, one Caddy write each, counted in Caddy's own log.
 * - Caddy 2.7+ (`stream_close_delay` rendered from STREAM_CLOSE_DELAY): the socket keeps echoing
 *   after every write.
 * - Caddy 2.6.2 (no such field): the first unrelated write cuts it; this documents the cut.
 * The expectation is chosen from `caddy version` of CADDY_BINARY.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { SINCE } from '../../src/model/caddy-version.js';
import { CADDY as CADDY_BINARY, isCaddyAtLeast } from '../helpers/caddy-under-test.js';
import {
  adminRequest,
  caddyWrites,
  get,
  killDaemons,
  removeDir,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  writeJson,
  type IngressdProcess,
} from '../helpers/processes.js';

const PORTS = { admin: 30019, dns: 30053 };
const INGRESS_PORT = 30080;
const BACKEND = { host: '127.0.0.20', port: 30101 };
const CHANGES = 50;
const keepsStreams = isCaddyAtLeast(SINCE.streamCloseDelay);

/** A `ws` connection with its messages and close queued, so the test can wait on either. */
interface Socket {
  echo(text: string): Promise<string>;
  readonly closed: Promise<number>;
  isOpen(): boolean;
  close(): void;
}

async function openSocket(host: string): Promise<Socket> {
  const ws = new WebSocket(`ws://127.0.0.1:${INGRESS_PORT}/chat`, { headers: { host }, handshakeTimeout: 5000 });
  const waiting: ((text: string) => void)[] = [];
  ws.on('message', (data: Buffer) => waiting.shift()?.(data.toString()));
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => undefined);
  return {
    echo: (text) =>
      new Promise<string>((resolve, reject) => {
        if (ws.readyState !== WebSocket.OPEN) return reject(new Error(`socket is not open (state ${ws.readyState})`));
        waiting.push(resolve);
        ws.send(text);
        void closed.then((code) => reject(new Error(`socket closed (${code}) before echoing "${text}"`)));
      }),
    closed,
    isOpen: () => ws.readyState === WebSocket.OPEN,
    close: () => ws.terminate(),
  };
}

function rule(hostname: string): object {
  return { rules: [{ match: { hostname, port: INGRESS_PORT }, target: { instance: 'echo', port: BACKEND.port } }] };
}

describe(`a WebSocket across ${CHANGES} unrelated Caddy writes (${CADDY_BINARY}, ${keepsStreams ? 'kept' : 'cut'})`, () => {
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let server: WebSocketServer;

  beforeAll(async () => {
    dir = await tempDir('ws-reload');
    dataDir = await tempDir('ws-reload-data');
    server = new WebSocketServer({ host: BACKEND.host, port: BACKEND.port });
    server.on('connection', (socket) => {
      socket.on('message', (data: Buffer) => socket.send(`echo:${data.toString()}`));
      // When Caddy cuts a stream it sends the backend a close frame without a mask, which `ws`
      // (rightly) reports as a protocol error: part of the cut, not a failure of the backend.
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    await writeJson(join(dir, 'echo.json'), { kind: 'Instance', name: 'echo', address: BACKEND.host });
    await writeJson(join(dir, 'a.json'), rule('a.ws.test'));
    ingressd = startIngressd({
      dir,
      dataDir,
      ports: PORTS,
      // The wiring from the detected Caddy version is not in this tree yet: ask explicitly on 2.7+.
      env: { CADDY_BINARY, ...(keepsStreams ? { STREAM_CLOSE_DELAY: '5m' } : {}) },
    });
    await waitReady(ingressd);
    // Caddy finds the instance through the instance DNS, which picks up the registry just after the
    // first sync: a request in between gets 503. The backend answers plain HTTP with 426.
    await waitFor('a.ws.test reaching its backend', async () => (await get(INGRESS_PORT, 'a.ws.test')).status === 426 || undefined, 15_000);
  }, 40_000);

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('Caddy holds stream_close_delay on every proxy only where it has the field, and a bounded grace_period', async () => {
    const config = JSON.parse((await adminRequest(PORTS.admin, 'GET', '/config/')).body) as { apps: { http: { grace_period?: string } } };
    expect(config.apps.http.grace_period).toBe('10s');
    const handlers = collectProxies(config);
    expect(handlers.length).toBeGreaterThan(0);
    for (const handler of handlers) expect(handler['stream_close_delay']).toBe(keepsStreams ? '5m' : undefined);
  });

  test(keepsStreams ? 'keeps echoing after every one of the writes' : 'is cut by the first unrelated write', async () => {
    const socket = await openSocket('a.ws.test');
    expect(await socket.echo('hello')).toBe('echo:hello');
    let writes = await caddyWrites(dataDir);
    const before = writes;
    let cut = false;
    for (let n = 1; n <= CHANGES && !cut; n++) {
      await writeJson(join(dir, `other-${n}.json`), rule(`other-${n}.ws.test`));
      const previous = writes;
      writes = await waitFor(`Caddy write #${n}`, async () => {
        const now = await caddyWrites(dataDir);
        return now > previous ? now : undefined;
      }, 15_000);
      if (keepsStreams) {
        expect(await socket.echo(`after write ${n}`)).toBe(`echo:after write ${n}`);
      } else {
        await socket.closed;
        cut = true;
      }
    }
    if (keepsStreams) {
      expect(writes - before).toBeGreaterThanOrEqual(CHANGES);
      expect(socket.isOpen()).toBe(true);
    } else {
      expect(cut).toBe(true);
      expect(socket.isOpen()).toBe(false);
      // The route itself still works: a new socket echoes.
      const again = await openSocket('a.ws.test');
      expect(await again.echo('again')).toBe('echo:again');
      again.close();
    }
    socket.close();
  }, 180_000);
});

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Every `reverse_proxy` handler object anywhere in `value`. */
function collectProxies(value: unknown): Record<string, Json>[] {
  if (Array.isArray(value)) return value.flatMap(collectProxies);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, Json>;
  const own = object['handler'] === 'reverse_proxy' ? [object] : [];
  return [...own, ...Object.values(object).flatMap(collectProxies)];
}
