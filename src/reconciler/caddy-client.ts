import { request as httpRequest, type IncomingMessage } from 'node:http';
import { IngressdError } from '../model/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../model/json.js';
import { caddyUnavailable, toCaddyError } from './caddy-errors.js';
import { joinHostPort } from '../model/host-port.js';

/** Caddy's config as `GET /config/` returned it. */
export interface LiveConfig {
  /** The whole config; `null` for a Caddy that has none. */
  readonly config: JsonObject | null;
  /** `"/config/ <hash>"`, usable as `If-Match` on a later write; undefined if Caddy sent none. */
  readonly etag: string | undefined;
  /** Size of the response body. */
  readonly bytes: number;
}

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Caddy's admin API. Every method rejects with an `IngressdError` translated by
 * `caddy-errors.ts` (`caddy_unavailable`, `precondition_failed`, `port_in_use`,
 * `caddy_module_missing`, `config_validation_failed`), or with `signal.reason` when the
 * caller aborts. One request at a time per call; no retries (the work queue retries).
 */
export interface CaddyClient {
  /** `http://<address>:<port>`, for messages. */
  readonly adminUrl: string;
  /** GET /config/ — etag read from the ETag header, else from the HTTP trailer (Caddy 2.6 sends it as a trailer; 2.8+ as a header). */
  getConfig(signal?: AbortSignal): Promise<LiveConfig>;
  /** One mutation at `/config/<path>` (path without leading slash, '' for the root); `ifMatch` sent as If-Match. */
  write(method: WriteMethod, path: string, body: JsonValue | undefined, ifMatch: string | undefined, signal?: AbortSignal): Promise<void>;
  /** POST /load (no If-Match: Caddy ignores it there). */
  load(config: JsonObject, signal?: AbortSignal): Promise<void>;
  /** GET /metrics: Caddy's Prometheus text exposition (read for upstream health: upstream-health.ts). */
  metrics(signal?: AbortSignal): Promise<string>;
  /** Cheap liveness probe: true when the admin API answers at all. Never rejects. @default timeoutMs 1_000 */
  ping(timeoutMs?: number): Promise<boolean>;
}

export interface CaddyClientOptions {
  /** Host of Caddy's admin listener: `127.0.0.1`, `::1`, `localhost`. */
  readonly adminAddress: string;
  readonly adminPort: number;
  /** Bound on each whole request, connect to last byte. @default 30_000 */
  readonly timeoutMs?: number;
}

interface RawResponse {
  readonly status: number;
  readonly body: string;
  readonly bytes: number;
  readonly etag: string | undefined;
}

interface RawRequest {
  readonly method: 'GET' | WriteMethod;
  readonly path: string;
  /** Encoded once: Content-Length and the socket take the bytes as they are (for a 191 KiB string each pass costs ~1 ms). */
  readonly body?: Buffer;
  readonly ifMatch?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs: number;
}

/** Throws `invalid_option` for an empty address or a port outside 1–65535. */
export function createCaddyClient(options: CaddyClientOptions): CaddyClient {
  const { adminAddress, adminPort } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (adminAddress.trim() === '') throw new IngressdError('invalid_option', 'Caddy admin address must not be empty');
  if (!Number.isInteger(adminPort) || adminPort < 1 || adminPort > 65_535) {
    throw new IngressdError('invalid_option', `Caddy admin port must be an integer from 1 to 65535, got ${adminPort}`);
  }
  const adminUrl = `http://${joinHostPort(adminAddress, adminPort)}`;
  const send = (req: RawRequest): Promise<RawResponse> => sendRequest(adminAddress, adminPort, adminUrl, req);

  const expectOk = async (req: RawRequest): Promise<RawResponse> => {
    const res = await send(req);
    if (res.status < 200 || res.status > 299) throw toCaddyError(res.status, res.body, `${req.method} ${req.path}`);
    return res;
  };

  return {
    adminUrl,
    async getConfig(signal) {
      const res = await expectOk({ method: 'GET', path: '/config/', signal, timeoutMs });
      return { config: parseConfig(res.body, adminUrl), etag: res.etag, bytes: res.bytes };
    },
    async write(method, path, body, ifMatch, signal) {
      const encoded = path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/');
      const json = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      await expectOk({ method, path: `/config/${encoded}`, ...(json === undefined ? {} : { body: json }), ifMatch, signal, timeoutMs });
    },
    async load(config, signal) {
      await expectOk({ method: 'POST', path: '/load', body: Buffer.from(JSON.stringify(config)), signal, timeoutMs });
    },
    async metrics(signal) {
      return (await expectOk({ method: 'GET', path: '/metrics', signal, timeoutMs })).body;
    },
    async ping(pingTimeoutMs = 1_000) {
      try {
        // Small subtree instead of the whole config: any HTTP answer means the API is up.
        await send({ method: 'GET', path: '/config/admin', timeoutMs: pingTimeoutMs });
        return true;
      } catch {
        return false;
      }
    },
  };
}

function parseConfig(body: string, adminUrl: string): JsonObject | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new IngressdError('internal_error', `GET ${adminUrl}/config/ answered 200 with a body that is not JSON; is that really Caddy?`, { cause });
  }
  if (parsed === null || isJsonObject(parsed)) return parsed as JsonObject | null;
  throw new IngressdError('internal_error', `GET ${adminUrl}/config/ answered 200 with JSON that is not an object or null`);
}

function sendRequest(host: string, port: number, adminUrl: string, req: RawRequest): Promise<RawResponse> {
  const what = `${req.method} ${req.path}`;
  return new Promise<RawResponse>((resolve, reject) => {
    const { signal } = req;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
    if (req.body !== undefined) headers['Content-Length'] = req.body.length;
    if (req.ifMatch !== undefined) headers['If-Match'] = req.ifMatch;
    // agent: false — Caddy closes the connection after every changing write, so pooling only
    // hands out dead sockets.
    const clientReq = httpRequest({ host, port, method: req.method, path: req.path, headers, agent: false });
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (err: unknown): void => {
      settle(() => reject(signal?.aborted ? signal.reason : caddyUnavailable(adminUrl, err, what)));
      clientReq.destroy();
    };
    const onAbort = (): void => fail(signal?.reason);
    const timer = setTimeout(() => fail(new Error(`no complete answer within ${req.timeoutMs} ms`)), req.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    clientReq.on('error', fail);
    clientReq.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error('connection closed before the response was complete'));
      });
      res.on('end', () => {
        // Trailers are only populated once the body has been read to the end.
        const etag = res.headers.etag ?? res.trailers['etag'];
        const bytes = Buffer.concat(chunks);
        settle(() => resolve({ status: res.statusCode ?? 0, body: bytes.toString('utf8'), bytes: bytes.length, etag }));
      });
    });
    clientReq.end(req.body);
  });
}
