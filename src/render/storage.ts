import type { JsonObject } from '../model/json.js';
import { assertNever } from '../model/resource.js';
import type { StorageSettings } from '../model/settings.js';

/**
 * Caddy's top-level `storage` for CADDY_STORAGE, or undefined when it is unset (Caddy's default
 * storage, left as it is). Redis renders the fields of pberkel/caddy-storage-redis; what is left
 * out takes the module's default (client `simple`, timeout 5 s, key prefix `caddy`, no
 * compression, no encryption). The password is rendered as given: `redactSecrets` hides it.
 */
export function renderStorage(storage: StorageSettings | undefined): JsonObject | undefined {
  if (storage === undefined) return undefined;
  switch (storage.module) {
    case 'file_system':
      return { module: 'file_system', root: storage.root };
    case 'redis': {
      // `address` as one host:port (IPv6 in brackets) rather than `host`/`port`, which the module joins the same way.
      const host = storage.host.includes(':') ? `[${storage.host}]` : storage.host;
      const json: JsonObject = { module: 'redis', address: [`${host}:${storage.port}`], db: storage.db };
      if (storage.username !== '') json['username'] = storage.username;
      if (storage.password !== '') json['password'] = storage.password;
      if (storage.keyPrefix !== '') json['key_prefix'] = storage.keyPrefix;
      if (storage.tls) json['tls_enabled'] = true;
      return json;
    }
    default:
      return assertNever(storage);
  }
}
