/**
 * Shared types of the HTTP API: the error codes it answers with (and their HTTP status, the one
 * table `server.ts` translates through), replies, and the slice of the controller it needs.
 */
import type { Issue } from '../model/issues.js';

/** Every code an API error body can carry, with its HTTP status. Codes are API: never rename one. */
export const API_ERRORS = {
  /** Malformed request: body, content type, name or id. */
  invalid_request: 400,
  /** A resource of that kind already has this name. */
  already_exists: 409,
  /** Another ingress already serves the hostname on that port. */
  hostname_in_use: 409,
  /** A literal-host rule targets an instance that no Instance declares. */
  instance_not_found: 400,
  /** A TLS hostname is not covered by TLS_ALLOWED_DOMAINS. */
  domain_not_allowed: 400,
  /** TLS requested but ACME is not configured. */
  tls_not_configured: 400,
  /** A manifest path exists but cannot be read (only ever seen on files written by hand). */
  unreadable_file: 400,
  /** Caddy could not bind a listen port: another process holds it. */
  port_in_use: 409,
  /** Caddy rejected the config the resource needs (including a missing Caddy module). */
  config_validation_failed: 400,
  /** No resource matches the id, name or prefix. */
  not_found: 404,
  /** Several resources match the prefix (or name). */
  ambiguous: 409,
  /** API_TOKEN is set and the request lacks the right bearer token. */
  unauthorized: 401,
  /** The manifest tree cannot take the API's writes (read-only, swapped by a link, API_WRITES=off): change the desired state at its source. */
  read_only_source: 409,
  /** The request body exceeds the limit. */
  payload_too_large: 413,
  /** The path exists but not with this method. */
  method_not_allowed: 405,
  /** ingressd is still starting (Caddy, instance DNS, initial scan). */
  not_ready: 503,
  /** Anything unexpected; details are logged, not returned. */
  internal_error: 500,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Thrown by handlers; `server.ts` turns it into `{code, message}` with the code's HTTP status. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ApiErrorCode, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.headers = headers;
  }
}

/** An issue from the pure core as an API error (issue codes are a subset of API codes). */
export function issueError(found: Issue): ApiError {
  const where = found.path === '' ? '' : `${found.path}: `;
  return new ApiError(found.code, `${where}${found.message}`);
}

/** A successful answer: JSON (written with sorted keys) or text. */
export type Reply =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly text: string; readonly contentType: string }
  | { readonly status: 204 };

/** The request as handlers see it: the validated path parameter and a lazy body reader. */
export interface ApiRequest {
  readonly method: string;
  /** Decoded, validated `{id}` / `{name}` path segment ('' when the route has none). */
  readonly param: string;
  /** The body as UTF-8 text: JSON content type checked, size limited. Throws `ApiError`. */
  readonly body: () => Promise<string>;
}

/** What the API reads from the reconciler, and the controller it drives (the port of controller/port.ts). */
export type { ControllerPort as ControllerView, ReconcilerView } from '../controller/port.js';
