/**
 * The HTTP API server (node:http): routing, authentication, body reading, and the one place where
 * errors become HTTP statuses (`API_ERRORS`). Every JSON answer is written with sorted keys.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { stableStringify } from '../model/canonical.js';
import { isIngressdError, IngressdError } from '../model/errors.js';
import type { Logger } from '../model/logger.js';
import { healthz, Readiness } from './health.js';
import { readBody } from './body.js';
import { createIngress, deleteIngress, getIngress, listIngresses } from './ingresses.js';
import { deleteInstance, getInstance, listInstances, putInstance } from './instances.js';
import { decodeSegment, isDotSegment } from './lookup.js';
import { SyncTracker, type ApiContext } from './settle.js';
import { Mutex } from './store.js';
import { API_ERRORS, ApiError, type ApiRequest, type ControllerView, type Reply } from './types.js';

export interface ApiServerOptions {
  readonly host: string;
  /** 0 picks a free port (see `ApiServer.port`). */
  readonly port: number;
  /** When set, every request but `/healthz` needs `Authorization: Bearer <token>`. */
  readonly token: string | undefined;
  readonly controller: ControllerView;
  readonly metrics: { text(): Promise<string>; readonly contentType: string };
  readonly logger: Logger;
  /** How long create/replace/delete wait for the reconcile before answering 202. @default 10_000 */
  readonly waitTimeoutMs?: number;
  /** Largest accepted request body. @default 1_048_576 */
  readonly maxBodyBytes?: number;
}

export interface ApiServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops accepting requests, ends pending waits (they answer 202) and resolves once closed. */
  close(): Promise<void>;
}

interface Env {
  readonly ctx: ApiContext;
  readonly readiness: Readiness;
  readonly metrics: ApiServerOptions['metrics'];
}
type Handler = (env: Env, req: ApiRequest) => Reply | Promise<Reply>;
interface Route {
  /** Literal segments, or `:param` for the one decoded, validated parameter. */
  readonly path: readonly string[];
  readonly methods: Readonly<Record<string, Handler>>;
  /** Needs the started controller (its reconciler). */
  readonly needsStart?: boolean;
}

const ROUTES: readonly Route[] = [
  { path: ['healthz'], methods: { GET: () => healthz() } },
  { path: ['readyz'], methods: { GET: (env) => env.readiness.readyz() } },
  { path: ['metrics'], methods: { GET: async (env) => ({ status: 200, text: await env.metrics.text(), contentType: env.metrics.contentType }) } },
  { path: ['ingresses'], needsStart: true, methods: { GET: (env) => listIngresses(env.ctx), POST: (env, req) => createIngress(env.ctx, req) } },
  { path: ['ingresses', ':id'], needsStart: true, methods: { GET: (env, req) => getIngress(env.ctx, req), DELETE: (env, req) => deleteIngress(env.ctx, req) } },
  { path: ['instances'], needsStart: true, methods: { GET: (env) => listInstances(env.ctx) } },
  {
    path: ['instances', ':id'],
    needsStart: true,
    methods: { GET: (env, req) => getInstance(env.ctx, req), PUT: (env, req) => putInstance(env.ctx, req), DELETE: (env, req) => deleteInstance(env.ctx, req) },
  },
];

/** Starts the API server on host:port. Rejects with `invalid_option` when the address cannot be bound. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const abort = new AbortController();
  const syncs = new SyncTracker(options.controller);
  const ctx: ApiContext = { controller: options.controller, syncs, lock: new Mutex(), waitTimeoutMs: options.waitTimeoutMs ?? 10_000, signal: abort.signal };
  const readiness = new Readiness(options.controller, syncs);
  const env: Env = { ctx, readiness, metrics: options.metrics };
  const unsubscribe = [options.controller.events.on('caddySynced', () => readiness.observe()), options.controller.events.on('caddySyncFailed', () => readiness.observe())];
  const tokenHash = options.token === undefined ? undefined : sha256(options.token);
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;

  const server = createServer({ requestTimeout: 60_000 }, (req, res) => {
    const started = performance.now();
    void handle(env, req, tokenHash, maxBodyBytes)
      .catch((err: unknown) => errorReply(err, options.logger))
      .then((reply) => {
        send(res, reply);
        options.logger.debug('api request', { method: req.method, path: req.url, status: reply.status, ms: Math.round(performance.now() - started) });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new IngressdError('invalid_option', `API_LISTEN ${options.host}:${options.port} cannot be bound (${err.code ?? err.message}); pick another address or set API_LISTEN=off`, { port: options.port, cause: err })),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  options.logger.info('HTTP API listening', { host: options.host, port: typeof address === 'object' && address !== null ? address.port : options.port, auth: tokenHash !== undefined });
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close() {
      for (const off of unsubscribe) off();
      abort.abort();
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 2_000).unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

async function handle(env: Env, req: IncomingMessage, tokenHash: Buffer | undefined, maxBodyBytes: number): Promise<Reply> {
  const method = req.method ?? 'GET';
  const raw = (req.url ?? '/').split('?')[0] ?? '/';
  const segments = raw.split('/').slice(1);
  if (raw !== '/healthz' && tokenHash !== undefined && !hasToken(req, tokenHash)) {
    throw new ApiError('unauthorized', 'missing or wrong bearer token: send Authorization: Bearer <API_TOKEN>', { 'www-authenticate': 'Bearer realm="ingressd"' });
  }
  if (segments.some(isDotSegment)) throw new ApiError('invalid_request', 'path segments "." and ".." are not allowed');
  const route = ROUTES.find((r) => r.path.length === segments.length && r.path.every((p, i) => p.startsWith(':') || p === segments[i]));
  if (route === undefined) throw new ApiError('not_found', `no endpoint ${raw}`);
  const handler = route.methods[method];
  if (handler === undefined) {
    const allow = Object.keys(route.methods).join(', ');
    throw new ApiError('method_not_allowed', `${method} is not allowed on ${raw}; use ${allow}`, { allow });
  }
  let param = '';
  const index = route.path.findIndex((p) => p.startsWith(':'));
  if (index >= 0) {
    const decoded = decodeSegment(segments[index] ?? '');
    if (!decoded.ok) throw new ApiError('invalid_request', decoded.message);
    param = decoded.value;
  }
  if (route.needsStart === true && !isStarted(env.ctx.controller)) {
    throw new ApiError('not_ready', 'ingressd is still starting (Caddy, instance DNS, initial scan); retry shortly', { 'retry-after': '1' });
  }
  return handler(env, { method, param, body: () => readBody(req, maxBodyBytes) });
}

function isStarted(controller: ControllerView): boolean {
  try {
    return controller.reconciler !== undefined;
  } catch {
    return false;
  }
}

function hasToken(req: IncomingMessage, tokenHash: Buffer): boolean {
  const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1];
  // Hashing first makes both sides the same length, so the comparison time says nothing about the token.
  return given !== undefined && timingSafeEqual(sha256(given), tokenHash);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The one error → HTTP translation. Unexpected errors are logged and answered without details. */
function errorReply(err: unknown, logger: Logger): Reply {
  if (err instanceof ApiError) {
    return { status: API_ERRORS[err.code], json: { code: err.code, message: err.message }, headers: err.headers };
  }
  if (isIngressdError(err) && err.code in API_ERRORS) {
    const code = err.code as keyof typeof API_ERRORS;
    return { status: API_ERRORS[code], json: { code, message: err.message } };
  }
  logger.error('HTTP API request failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return { status: 500, json: { code: 'internal_error', message: 'internal error; see the ingressd log' } };
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  res.setHeader('cache-control', 'no-store');
  if ('text' in reply) {
    res.writeHead(reply.status, { 'content-type': reply.contentType });
    res.end(reply.text);
  } else if ('json' in reply) {
    res.writeHead(reply.status, { ...reply.headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(stableStringify(reply.json));
  } else {
    res.writeHead(reply.status);
    res.end();
  }
}
