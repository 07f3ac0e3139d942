/**
 * CADDY_STORAGE, the certificate storage Caddy uses (part of `resolveOptions`). Pure.
 *
 * Syntax (one value, so one setting chooses the whole storage):
 * - unset: Caddy's default storage, which ingressd leaves as it is;
 * - `file_system:<dir>`: a directory shared by every node (relative paths count from the working
 *   directory), rendered `{"module":"file_system","root":<dir>}`;
 * - `redis://[user[:password]@]host[:port][/db][?key_prefix=<prefix>]` (`rediss://` for TLS):
 *   port 6379 and db 0 by default, user and password percent-encoded as in any URL, rendered as
 *   module `redis` of pberkel/caddy-storage-redis.
 * A bad value goes to `problems` with the rule and the value (its password masked).
 */
import { resolve as resolvePath } from 'node:path';
import type { StorageSettings } from '../model/settings.js';

const REDIS_QUERY_KEYS = ['key_prefix'] as const;
const SYNTAX = 'file_system:<dir> or redis://[user:password@]host:port[/db][?key_prefix=<prefix>]';

export function resolveStorage(raw: string | undefined, cwd: string, problems: string[]): StorageSettings | undefined {
  if (raw === undefined) return undefined;
  if (raw.startsWith('file_system:')) {
    const dir = raw.slice('file_system:'.length).trim();
    if (dir === '') {
      problems.push(`CADDY_STORAGE file_system needs a directory (file_system:/srv/caddy-storage), got "${raw}"`);
      return undefined;
    }
    return { module: 'file_system', root: resolvePath(cwd, dir) };
  }
  if (/^rediss?:\/\//i.test(raw)) return resolveRedis(raw, problems);
  problems.push(`CADDY_STORAGE must be ${SYNTAX}, got "${maskPassword(raw)}"`);
  return undefined;
}

function resolveRedis(raw: string, problems: string[]): StorageSettings | undefined {
  const shown = maskPassword(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`CADDY_STORAGE is not a valid redis:// URL (${SYNTAX}), got "${shown}"`);
    return undefined;
  }
  const before = problems.length;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') problems.push(`CADDY_STORAGE redis URL needs a host (redis://127.0.0.1:6379), got "${shown}"`);
  const port = url.port === '' ? 6379 : Number(url.port);
  if (port < 1) problems.push(`CADDY_STORAGE redis port must be 1-65535, got ${port} in "${shown}"`);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !Number.isSafeInteger(db)) problems.push(`CADDY_STORAGE redis database must be a number after the host (redis://host:6379/0), got "/${dbText}" in "${shown}"`);
  for (const key of url.searchParams.keys()) {
    if (!(REDIS_QUERY_KEYS as readonly string[]).includes(key)) problems.push(`CADDY_STORAGE redis URL accepts only ?key_prefix=<prefix>, got "${key}" in "${shown}"`);
  }
  const keyPrefix = url.searchParams.get('key_prefix') ?? '';
  if (keyPrefix.split('/').some((s) => s === '.' || s === '..') || /\/\//.test(keyPrefix)) {
    problems.push(`CADDY_STORAGE key_prefix must be path segments without empty, "." or ".." ones (e.g. ingressd/prod), got "${keyPrefix}"`);
  }
  if (url.hash !== '') problems.push(`CADDY_STORAGE redis URL has a "#" part, which means nothing here: "${shown}"`);
  if (problems.length > before) return undefined;
  return {
    module: 'redis',
    host,
    port,
    db,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    keyPrefix,
    tls: url.protocol.toLowerCase() === 'rediss:',
  };
}

/** `raw` with the password of a `scheme://user:password@` URL replaced by `<redacted>`, for messages. */
export function maskPassword(raw: string): string {
  return raw.replace(/^(\w+:\/\/[^:/@]*:)[^@]*@/, '$1<redacted>@');
}

/** What to scrub from logs: the Redis password as written in CADDY_STORAGE and decoded. */
export function storageSecrets(storage: StorageSettings | undefined, raw: string | undefined): string[] {
  if (storage?.module !== 'redis' || storage.password === '') return [];
  const encoded = raw === undefined ? undefined : /^\w+:\/\/[^:/@]*:([^@]*)@/.exec(raw)?.[1];
  return [...new Set([storage.password, ...(encoded === undefined ? [] : [encoded])])];
}
