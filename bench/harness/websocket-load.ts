/**
 * Scenario 10's traffic: a `ws` echo backend (which also answers plain HTTP), a pool of WebSocket
 * clients through Caddy that can be churned one at a time, and a steady sender that keeps
 * messages and plain requests flowing while Caddy is rewritten. Runs in the benchmark process.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';

export interface EchoBackend {
  close(): Promise<void>;
}

export async function startEchoBackend(host: string, port: number): Promise<EchoBackend> {
  const server: Server = createServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => socket.send(data));
    socket.on('error', () => undefined); // a cut stream may end with an unmasked close frame from Caddy
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fixed number of client sockets to `hosts` (round robin) through Caddy on `port`. */
export class SocketPool {
  readonly #port: number;
  readonly #hosts: readonly string[];
  readonly #sockets: (WebSocket | undefined)[] = [];
  /** Sockets that closed without the pool closing them: cut by Caddy. */
  cut = 0;
  /** Handshakes that failed and were tried again (at most 5 tries, 100 ms apart). */
  connectRetries = 0;

  constructor(port: number, hosts: readonly string[]) {
    this.#port = port;
    this.#hosts = hosts;
  }

  async open(count: number): Promise<void> {
    for (let i = 0; i < count; i++) this.#sockets.push(await this.#connect(i));
  }

  /** Closes socket `index % size` and opens it again: streams spread over the configs Caddy held. */
  async churn(index: number): Promise<void> {
    const i = index % this.#sockets.length;
    this.#close(i);
    this.#sockets[i] = await this.#connect(i);
  }

  openCount(): number {
    return this.#sockets.filter((s) => s?.readyState === WebSocket.OPEN).length;
  }

  /** One message on an open socket (round robin); resolves true when it is echoed within 5 s. */
  async echo(n: number): Promise<boolean> {
    const open = this.#sockets.filter((s): s is WebSocket => s?.readyState === WebSocket.OPEN);
    const socket = open[n % Math.max(open.length, 1)];
    if (socket === undefined) return false;
    const text = `m${n}`;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), 5000);
      const onMessage = (data: Buffer): void => {
        if (data.toString() === text) done(true);
      };
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(ok);
      };
      socket.on('message', onMessage);
      socket.send(text);
    });
  }

  closeAll(): void {
    for (let i = 0; i < this.#sockets.length; i++) this.#close(i);
  }

  #close(i: number): void {
    const socket = this.#sockets[i];
    this.#sockets[i] = undefined;
    socket?.removeAllListeners('close');
    socket?.terminate();
  }

  async #connect(i: number): Promise<WebSocket> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#connectOnce(i);
      } catch (err) {
        if (attempt >= 5) throw err;
        this.connectRetries++;
        await sleep(100);
      }
    }
  }

  async #connectOnce(i: number): Promise<WebSocket> {
    const host = this.#hosts[i % this.#hosts.length]!;
    const socket = new WebSocket(`ws://127.0.0.1:${this.#port}/stream`, { headers: { host }, handshakeTimeout: 5000 });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.once('close', () => this.cut++);
    return socket;
  }
}

/** Sends a WebSocket message (when `pool` is given) and a plain GET every `everyMs` until stopped. */
export class SteadyTraffic {
  readonly #running: Promise<void>;
  #stopped = false;
  requests = 0;
  failures = 0;

  constructor(port: number, host: string, pool: SocketPool | undefined, everyMs: number) {
    this.#running = (async () => {
      for (let n = 0; !this.#stopped; n++) {
        const [get, echo] = await Promise.all([plainGet(port, host), pool === undefined ? Promise.resolve(true) : pool.echo(n)]);
        this.requests += pool === undefined ? 1 : 2;
        if (!get) this.failures++;
        if (!echo) this.failures++;
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}

function plainGet(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
