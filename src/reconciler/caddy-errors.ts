import { IngressdError, isIngressdError } from '../model/errors.js';
import { isJsonObject } from '../model/json.js';
import type { ProgramState } from './status-types.js';

/**
 * The one place where Caddy admin API failures become typed errors (STYLE §5).
 * Codes: `caddy_unavailable`, `precondition_failed`, `port_in_use`, `caddy_module_missing`,
 * `config_validation_failed`. Branch on `code`; the messages are for people.
 */

const MAX_TEXT_CHARS = 1_000;

/** `listen tcp 127.0.0.1:8080: bind: address already in use`, also `[::]:80`, `:443`, `udp`. */
const PORT_IN_USE = /listen (?:tcp|udp)[46]? ((?:\[[^\]]*\]|[^\s:]*):(\d+)): bind: address already in use/;
const UNKNOWN_MODULE = /unknown module: ([A-Za-z0-9_.-]+)/;

/**
 * Translates a non-2xx admin API response into an error.
 * @param status HTTP status Caddy answered with.
 * @param body the raw response body (Caddy sends `{"error":"..."}`; anything else is used as text).
 * @param request what was asked, for the message, e.g. `POST /load`.
 */
export function toCaddyError(status: number, body: string, request = 'the request'): IngressdError {
  const text = caddyErrorText(body);
  if (status === 412) {
    return new IngressdError(
      'precondition_failed',
      `Caddy refused ${request} (HTTP 412): its config changed since ingressd read it. Read the live config again and retry.`,
      { status },
    );
  }
  if (text.includes('address already in use')) return portInUse(status, text);
  const module = UNKNOWN_MODULE.exec(text)?.[1];
  if (module !== undefined) return moduleMissing(status, text, module);
  const detail = text === '' ? 'no error text (see Caddy\'s log)' : text;
  return new IngressdError(
    'config_validation_failed',
    `Caddy rejected ${request} (HTTP ${status}): ${detail}. The previous config is still being served; fix what the error names and the change is retried.`,
    { status },
  );
}

/** The admin API did not answer: connection refused or reset, DNS failure, or a timeout. */
export function caddyUnavailable(adminUrl: string, cause: unknown, request = 'the request'): IngressdError {
  const reason = describeCause(cause);
  return new IngressdError(
    'caddy_unavailable',
    `Caddy's admin API at ${adminUrl} did not answer ${request} (${reason}). Check that Caddy is running and that its admin.listen is this address.`,
    { cause },
  );
}

/** Caddy's `error` field when the body is `{"error": "..."}`; otherwise the trimmed body, shortened. */
export function caddyErrorText(body: string): string {
  let text = body.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (isJsonObject(parsed) && typeof parsed['error'] === 'string') text = parsed['error'];
  } catch {
    // Not JSON (e.g. `404 page not found`): keep the raw text.
  }
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}…` : text;
}

function portInUse(status: number, text: string): IngressdError {
  const match = PORT_IN_USE.exec(text);
  const address = match?.[1];
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (address === undefined || port === undefined) {
    return new IngressdError(
      'port_in_use',
      `Caddy could not bind a listener: the address is already held by another process (${text}). Stop that process or configure another port.`,
      { status },
    );
  }
  return new IngressdError(
    'port_in_use',
    `Caddy could not listen on ${address}: port ${port} is already bound by another process. ` +
      `Stop that process (\`ss -ltnp 'sport = :${port}'\` shows it) or configure another port.`,
    { status, port },
  );
}

function moduleMissing(status: number, text: string, module: string): IngressdError {
  const hint = module.startsWith('dns.providers.')
    ? `DNS-01 needs a Caddy built with that provider (e.g. \`xcaddy build --with github.com/caddy-dns/${module.slice('dns.providers.'.length)}\`; Debian's caddy package has none): set CADDY_BINARY to such a build, or use the http-01 or tls-alpn-01 challenge.`
    : 'Use a Caddy build that includes it (set CADDY_BINARY to its path), or remove the setting that needs it.';
  return new IngressdError('caddy_module_missing', `Caddy lacks the module '${module}' that the config uses (HTTP ${status}: ${text}). ${hint}`, {
    status,
    module,
  });
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === undefined || cause.message.includes(code) ? cause.message : `${code}: ${cause.message}`;
  }
  return String(cause);
}

/** The states with every occurrence of `secret` in their messages replaced (Caddy's error text can quote config values). */
export function scrubStates(states: ReadonlyMap<string, ProgramState>, secret: string | undefined): ReadonlyMap<string, ProgramState> {
  if (secret === undefined || secret.length === 0) return states;
  return new Map([...states].map(([id, state]) => [id, { ...state, message: state.message.split(secret).join('<redacted>') }]));
}

/** Whether an error (from `CaddySync.sync`, or any client call) means Caddy's admin API could not be reached. */
export function isCaddyUnavailable(err: unknown): boolean {
  return isIngressdError(err, 'caddy_unavailable');
}
