import type { JsonObject, JsonValue } from '../model/json.js';
import { isJsonObject } from '../model/json.js';

const SECRET_KEYS: ReadonlySet<string> = new Set(['api_token']);
export const REDACTED = '<redacted>';

/**
 * A copy of a Caddy config with every secret value (`api_token`, at any depth) replaced by
 * `"<redacted>"`, for printing and logging. The input is not modified; key order is kept.
 */
export function redactSecrets(config: JsonObject): JsonObject {
  return redactObject(config);
}

function redactObject(object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) out[key] = SECRET_KEYS.has(key) ? REDACTED : redactValue(value);
  return out;
}

function redactValue(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(redactValue);
  if (isJsonObject(value)) return redactObject(value);
  return value;
}
