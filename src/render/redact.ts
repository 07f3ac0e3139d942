import type { JsonObject, JsonValue } from '../model/json.js';
import { isJsonObject } from '../model/json.js';

const SECRET_KEYS: ReadonlySet<string> = new Set(['api_token']);
/** Keys that are secret only inside a DNS provider of that name (`key` is common elsewhere). */
const PROVIDER_SECRET_KEYS: ReadonlyMap<string, ReadonlySet<string>> = new Map([['rfc2136', new Set(['key'])]]);
/** Keys that are secret only inside a module of that name (the Redis storage). */
const MODULE_SECRET_KEYS: ReadonlyMap<string, ReadonlySet<string>> = new Map([['redis', new Set(['password', 'sentinel_password', 'encryption_key'])]]);
export const REDACTED = '<redacted>';

/**
 * A copy of a Caddy config with every secret value replaced by `"<redacted>"`, for printing and
 * logging: `api_token` at any depth, `key` in an `rfc2136` DNS provider, and `password`,
 * `sentinel_password` and `encryption_key` in the `redis` storage module. A Caddy placeholder
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
    out[key] = secret ? REDACTED : redactValue(value);
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
