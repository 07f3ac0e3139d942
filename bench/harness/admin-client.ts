/**
 * The benchmark's own minimal Caddy admin client: a timed `POST /load` and `GET /config/`, each
 * on a fresh connection (as the lab measured: request sent → response fully received).
 */
import { request } from 'node:http';
import { isJsonObject, type JsonObject } from '../../src/model/json.js';
import { LOOPBACK } from './ports.js';

interface Reply {
  readonly status: number;
  readonly body: string;
  /** Caddy 2.6 sends the ETag as an HTTP trailer. */
  readonly etag: string | undefined;
}

function send(port: number, method: 'GET' | 'POST', path: string, body: Buffer | undefined, timeoutMs: number, ifMatch?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (body !== undefined) headers['content-length'] = body.length;
    if (ifMatch !== undefined) headers['if-match'] = ifMatch;
    const req = request({ host: LOOPBACK, port, method, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const etag = res.headers.etag ?? res.trailers['etag'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), etag });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} on :${port} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `POST /load` of an already serialised config; resolves with the wall time in ms. The body is
 * encoded to bytes before the clock starts, as ingressd's client does before it connects.
 * Rejects when Caddy answers anything but 200 (the message quotes Caddy's error).
 */
export async function timedLoad(port: number, body: string, timeoutMs = 60_000): Promise<number> {
  const bytes = Buffer.from(body);
  const started = performance.now();
  const reply = await send(port, 'POST', '/load', bytes, timeoutMs);
  const ms = performance.now() - started;
  if (reply.status !== 200) throw new Error(`POST /load on :${port} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
  return ms;
}

/**
 * The request ingressd's apply makes: `GET /config/` for the ETag (untimed), then a timed
 * `POST /config/<path>` of `body` with `If-Match`. Resolves with the POST's wall time in ms.
 */
export async function timedConditionalPost(port: number, path: string, body: string, timeoutMs = 60_000): Promise<number> {
  const live = await send(port, 'GET', '/config/', undefined, timeoutMs);
  const bytes = Buffer.from(body);
  const started = performance.now();
  const reply = await send(port, 'POST', `/config/${path}`, bytes, timeoutMs, live.etag);
  const ms = performance.now() - started;
  if (reply.status !== 200) throw new Error(`POST /config/${path} on :${port} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
  return ms;
}

/** `GET /config/`: the whole live config (null when Caddy has none). */
export async function getConfig(port: number): Promise<JsonObject | null> {
  const reply = await send(port, 'GET', '/config/', undefined, 30_000);
  if (reply.status !== 200) throw new Error(`GET /config/ on :${port} answered ${reply.status}`);
  const parsed: unknown = JSON.parse(reply.body);
  if (parsed === null) return null;
  if (!isJsonObject(parsed)) throw new Error(`GET /config/ on :${port} returned JSON that is not an object`);
  return parsed;
}

/** True when the admin API answers at all. */
export async function adminAnswers(port: number): Promise<boolean> {
  try {
    await send(port, 'GET', '/config/admin', undefined, 1000);
    return true;
  } catch {
    return false;
  }
}
