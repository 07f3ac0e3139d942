/**
 * Compares ingressd's slice of the live config with the desired one and plans the single write
 * that makes them equal. Pure.
 *
 * Every Caddy write is a full reload, so the plan is always exactly one request:
 * - no difference → no write at all;
 * - every change inside one `ingress-*` server → replace (or delete) just that server;
 * - otherwise → the whole config through `POST /config/` (which, unlike `/load`, honours If-Match).
 */
import jsonpatch, { type Operation } from 'fast-json-patch';
import { isJsonObject, type JsonObject, type JsonValue } from '../model/json.js';
import { mergeOwned, ownedOf } from './ownership.js';

export type WritePlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'server'; readonly method: 'POST' | 'DELETE'; readonly path: string; readonly body: JsonValue | undefined }
  | { readonly kind: 'full'; readonly method: 'POST'; readonly path: ''; readonly body: JsonObject };

export interface Diff {
  /** JSON Patch from the live owned slice to the desired one (for logs and `ingressd diff`). */
  readonly patch: readonly Operation[];
  readonly plan: WritePlan;
  /** The full config Caddy holds once the plan is applied. */
  readonly merged: JsonObject;
}

export function diffConfig(live: JsonObject | null, desired: JsonObject): Diff {
  const liveOwned = ownedOf(live);
  const desiredOwned = ownedOf(desired);
  const patch = jsonpatch.compare(liveOwned, desiredOwned);
  const merged = mergeOwned(live, desired);
  if (patch.length === 0) return { patch, plan: { kind: 'none' }, merged };

  const servers = new Set(patch.map((op) => /^\/servers\/([^/]+)/.exec(op.path)?.[1]));
  const liveServers = isJsonObject(live?.['apps']) && isJsonObject(live['apps']['http']) ? live['apps']['http']['servers'] : undefined;
  if (servers.size === 1 && !servers.has(undefined) && isJsonObject(liveServers)) {
    const name = jsonpatch.unescapePathComponent([...servers][0]!);
    const path = `apps/http/servers/${encodeURIComponent(name)}`;
    const body = desiredOwned.servers[name];
    return {
      patch,
      plan: body === undefined ? { kind: 'server', method: 'DELETE', path, body: undefined } : { kind: 'server', method: 'POST', path, body },
      merged,
    };
  }
  return { patch, plan: { kind: 'full', method: 'POST', path: '', body: merged }, merged };
}

/** A readable rendering of a patch, one operation per line, for logs and `ingressd diff`. */
export function formatPatch(patch: readonly Operation[]): string {
  return patch
    .map((op) => {
      const value = 'value' in op ? ` ${truncate(JSON.stringify(op.value))}` : '';
      return `${op.op.padEnd(7)} ${op.path}${value}`;
    })
    .join('\n');
}

function truncate(text: string, max = 160): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
