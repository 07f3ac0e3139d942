/**
 * Thrown errors come from the edges (files, Caddy, processes, the HTTP API).
 * Each has a stable snake_case code; branch on codes, never on message text.
 */
export const ERROR_CODES = {
  /** Caddy's admin API did not answer (connection refused, timeout). */
  caddy_unavailable: 'the Caddy admin API is unreachable',
  /** Caddy refused a write because its config changed since it was read (HTTP 412). */
  precondition_failed: 'Caddy config changed since it was read',
  /** Caddy could not bind a listener: another process holds the port. */
  port_in_use: 'a listen port is held by another process',
  /** Caddy lacks a module the config needs (e.g. dns.providers.cloudflare). */
  caddy_module_missing: 'the Caddy binary lacks a required module',
  /** Caddy rejected the config for another reason. */
  config_validation_failed: 'Caddy rejected the config',
  /** The Caddy binary was not found or could not be started. */
  caddy_start_failed: 'Caddy could not be started',
  /** The instance DNS server could not be started or adopted. */
  dns_start_failed: 'the instance DNS server could not be started',
  /** A configuration option (environment variable or flag) is invalid. */
  invalid_option: 'a configuration option is invalid',
  /** A lookup found nothing. */
  not_found: 'no resource matches',
  /** A lookup matched several resources. */
  ambiguous: 'several resources match',
  /** Anything unexpected. */
  internal_error: 'an unexpected error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorContext {
  readonly file?: string;
  readonly pointer?: string;
  readonly port?: number;
  readonly status?: number;
  readonly module?: string;
  readonly cause?: unknown;
}

export class IngressdError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly pointer: string | undefined;
  readonly port: number | undefined;
  readonly status: number | undefined;
  readonly module: string | undefined;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'IngressdError';
    this.code = code;
    this.file = context.file;
    this.pointer = context.pointer;
    this.port = context.port;
    this.status = context.status;
    this.module = context.module;
  }
}

export function isIngressdError(err: unknown, code?: ErrorCode): err is IngressdError {
  return err instanceof IngressdError && (code === undefined || err.code === code);
}
