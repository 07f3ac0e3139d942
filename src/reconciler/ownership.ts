/**
 * Which parts of Caddy's config belong to ingressd, and how to put ingressd's parts into a live
 * config without touching anything else. Pure.
 *
 * Owned: `apps.http.http_port`, `https_port` and `grace_period` (`OWNED_HTTP_KEYS`), every `apps.http.servers` entry named
 * `ingress-*`, every `apps.tls.automation.policies` entry whose `@id` is ingressd's, and the
 * top-level `storage` when the desired config has one (CADDY_STORAGE set: unset, ingressd leaves
 * Caddy's storage as it is, so a config without it never removes one).
 * Everything else (admin, logging, other servers and apps) is left as it is.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../model/json.js';
import { isOwnedId, isOwnedServerName } from '../model/ownership.js';

/** The scalar settings of `apps.http` that render writes. */
export const OWNED_HTTP_KEYS = ['http_port', 'https_port', 'grace_period'] as const;
export type OwnedHttpKey = (typeof OWNED_HTTP_KEYS)[number];

/** ingressd's slice of a Caddy config, in a shape that diffs cleanly. */
export interface OwnedConfig extends Readonly<Partial<Record<OwnedHttpKey, JsonValue>>> {
  readonly servers: Readonly<Record<string, JsonValue>>;
  readonly tls_policies: readonly JsonValue[];
  /** The top-level `storage`, when the config has one. */
  readonly storage?: JsonValue;
}

export function ownedOf(config: JsonObject | null): OwnedConfig {
  const http = objectAt(config, ['apps', 'http']);
  const servers: Record<string, JsonValue> = {};
  const liveServers = objectAt(http, ['servers']);
  for (const name of Object.keys(liveServers ?? {}).sort()) {
    if (isOwnedServerName(name)) servers[name] = liveServers![name]!;
  }
  const policies = arrayAt(config, ['apps', 'tls', 'automation', 'policies']).filter((p) => isJsonObject(p) && isOwnedId(p['@id']));
  const scalars: Partial<Record<OwnedHttpKey, JsonValue>> = {};
  for (const key of OWNED_HTTP_KEYS) if (http?.[key] !== undefined) scalars[key] = http[key];
  const storage = config?.['storage'];
  return { ...scalars, servers, tls_policies: policies, ...(storage === undefined ? {} : { storage }) };
}

/**
 * Returns a copy of `live` whose owned parts are replaced by `desired`'s (a config as `render`
 * returns it). Owned TLS policies go first, so a foreign catch-all policy cannot shadow them.
 */
export function mergeOwned(live: JsonObject | null, desired: JsonObject): JsonObject {
  const want = ownedOf(desired);
  // Copies only the objects on the paths it changes (a deep clone of a 10,000-host config costs
  // more than the rest of the merge); everything else is shared with `live`, which is not modified.
  const out: JsonObject = { ...(live ?? {}) };
  if (want.storage !== undefined) out['storage'] = want.storage;
  const apps = copyObject(out, 'apps');
  const http = copyObject(apps, 'http');
  for (const key of OWNED_HTTP_KEYS) {
    if (want[key] === undefined) delete http[key];
    else http[key] = want[key];
  }
  const servers = copyObject(http, 'servers');
  for (const name of Object.keys(servers)) if (isOwnedServerName(name)) delete servers[name];
  Object.assign(servers, want.servers);

  const foreignPolicies = arrayAt(out, ['apps', 'tls', 'automation', 'policies']).filter((p) => !(isJsonObject(p) && isOwnedId(p['@id'])));
  const policies = [...want.tls_policies, ...foreignPolicies];
  if (policies.length > 0) {
    const automation = copyObject(copyObject(apps, 'tls'), 'automation');
    automation['policies'] = policies;
  } else if (isJsonObject(apps['tls'])) {
    const tls = copyObject(apps, 'tls');
    if (isJsonObject(tls['automation'])) {
      const automation = copyObject(tls, 'automation');
      delete automation['policies'];
      if (Object.keys(automation).length === 0) delete tls['automation'];
    }
    if (Object.keys(tls).length === 0) delete apps['tls'];
  }
  return out;
}

function objectAt(value: JsonValue | null | undefined, path: readonly string[]): JsonObject | undefined {
  let cur: JsonValue | null | undefined = value;
  for (const key of path) {
    if (!isJsonObject(cur)) return undefined;
    cur = cur[key];
  }
  return isJsonObject(cur) ? cur : undefined;
}

function arrayAt(value: JsonValue | null, path: readonly string[]): JsonValue[] {
  const parent = objectAt(value, path.slice(0, -1));
  const arr = parent?.[path[path.length - 1]!];
  return Array.isArray(arr) ? arr : [];
}

/** Replaces `parent[key]` with a shallow copy of itself (or a new object) and returns the copy. */
function copyObject(parent: JsonObject, key: string): JsonObject {
  const cur = parent[key];
  const copy: JsonObject = isJsonObject(cur) ? { ...cur } : {};
  parent[key] = copy;
  return copy;
}
