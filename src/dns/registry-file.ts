/**
 * The registry file: how the controller tells the DNS process which instances to answer.
 * `{ "zone": "...", "records": [{ "name", "id", "address" }] }`, records sorted by name then id,
 * canonical JSON, replaced atomically so a reader never sees half a file.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stableStringify } from '../model/canonical.js';
import { writeFileAtomic } from '../platform/atomic-file.js';
import { IngressdError } from '../model/errors.js';
import type { DnsRecord } from './server.js';

export interface Registry {
  /** The zone the controller rendered for; null when the file does not exist yet. */
  readonly zone: string | null;
  readonly records: readonly DnsRecord[];
}

/** The exact bytes `writeRegistry` writes for this content. */
export function formatRegistry(zone: string, records: readonly DnsRecord[]): string {
  const sorted = records
    .map((r) => ({ name: r.name, id: r.id, address: r.address }))
    .sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id) || compare(a.address, b.address));
  return stableStringify({ zone, records: sorted });
}

/**
 * Write the registry at `path` (creating its directory) only when its bytes would change.
 * Resolves true when it wrote, false when the file already held this content.
 * Rejects with the underlying fs error; a failed write leaves the old file in place.
 */
export async function writeRegistry(path: string, zone: string, records: readonly DnsRecord[]): Promise<boolean> {
  const text = formatRegistry(zone, records);
  const current = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (current === text) return false;
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, text);
  return true;
}

/** Read the registry; a missing file is an empty registry. Rejects with `internal_error` for a malformed file. */
export async function readRegistry(path: string): Promise<Registry> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { zone: null, records: [] };
    throw err;
  }
  return parseRegistry(text, path);
}

/** Parse registry text; rejects anything but the documented shape (`internal_error`, naming `file`). */
export function parseRegistry(text: string, file: string): Registry {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IngressdError('internal_error', `registry ${file} is not valid JSON: ${(err as Error).message}`, { file, cause: err });
  }
  const bad = (pointer: string, what: string): never => {
    throw new IngressdError('internal_error', `registry ${file}: ${pointer || '/'} ${what}`, { file, pointer });
  };
  if (!isObject(doc)) return bad('', 'must be an object');
  if (typeof doc['zone'] !== 'string') bad('/zone', 'must be a string');
  const list = doc['records'];
  if (!Array.isArray(list)) return bad('/records', 'must be an array');
  const records = list.map((r: unknown, i): DnsRecord => {
    if (!isObject(r)) return bad(`/records/${i}`, 'must be an object');
    for (const key of ['name', 'id', 'address'] as const) {
      if (typeof r[key] !== 'string') bad(`/records/${i}/${key}`, 'must be a string');
    }
    return { name: r['name'] as string, id: r['id'] as string, address: r['address'] as string };
  });
  return { zone: doc['zone'] as string, records };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
