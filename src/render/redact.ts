import { Buffer } from 'node:buffer';
import type { JsonObject, JsonValue } from '../model/json.js';
import { isJsonObject } from '../model/json.js';

const SECRET_KEYS: ReadonlySet<string> = new Set(['api_token']);
/**
 * Secrets Caddy reads as base64 (a basic-auth account's `password`, its bcrypt hash): redacted to
 * `REDACTED` base64-encoded, so a redacted config still loads (`caddy validate`) while no password
 * matches it.
 */
const BASE64_SECRET_KEYS: ReadonlySet<string> = new Set(['password']);
/** Keys that are secret only inside a DNS provider of that name (`key` is common elsewhere). */
const PROVIDER_SECRET_KEYS: ReadonlyMap<string, ReadonlySet<string>> = new Map([['rfc2136', new Set(['key'])]]);
/** Keys that are secret only inside a module of that name (the Redis storage). */
const MODULE_SECRET_KEYS: ReadonlyMap<string, ReadonlySet<string>> = new Map([['redis', new Set(['password', 'sentinel_password', 'encryption_key'])]]);
export const REDACTED = '<redacted>';
export const REDACTED_BASE64 = Buffer.from(REDACTED, 'utf8').toString('base64');

/**
 * A copy of a Caddy config with every secret value replaced by `"<redacted>"`, for printing and
 * logging: `api_token` at any depth, `key` in an `rfc2136` DNS provider, and `password`,
 * `sentinel_password` and `encryption_key` in the `redis` storage module; a basic-auth
 * `password` (a bcrypt hash) elsewhere by `REDACTED_BASE64`, at any depth. A Caddy placeholder
 * (`{file./path}`, `{env.NAME}`) is not a secret and is kept. The input is not modified; key
 * order is kept.
 */
export function redactSecrets(config: JsonObject): JsonObject {
  return redactObject(config);
}

function redactObject(object: JsonObject): JsonObject {
  const providerKeys = typeof object['name'] === 'string' ? PROVIDER_SECRET_KEYS.get(object['name']) : undefined;
  const moduleKeys = typeof object['module'] === 'string' ? MODULE_SECRET_KEYS.get(object['module']) : undefined;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    const secret = (SECRET_KEYS.has(key) || providerKeys?.has(key) === true || moduleKeys?.has(key) === true) && !isPlaceholder(value);
    out[key] = secret ? REDACTED : BASE64_SECRET_KEYS.has(key) && typeof value === 'string' ? REDACTED_BASE64 : redactValue(value);
  }
  return out;
}

function isPlaceholder(value: JsonValue): boolean {
  return typeof value === 'string' && /^\{(?:file|env)\.[^{}]+\}$/.test(value);
}

function redactValue(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(redactValue);
  if (isJsonObject(value)) return redactObject(value);
  return value;
}
