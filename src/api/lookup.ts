/**
 * Finding a resource by what a user typed, and checking that what they typed is safe. Pure.
 */
import { ID_PATTERN } from '../model/ids.js';
import { isValidName } from '../reconciler/validate.js';

export interface Entry<T> {
  readonly id: string;
  readonly name: string;
  readonly value: T;
}

export type LookupResult<T> =
  | { readonly kind: 'found'; readonly entry: Entry<T> }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'ambiguous'; readonly matches: readonly Entry<T>[] };

/**
 * Resolves `key` against `entries` in the seed's order: exact id, then exact name, then id prefix.
 * The first step with any match decides: one match is found, several are ambiguous (two files
 * holding the same name, or a prefix shared by several ids). Case-sensitive; an empty key finds
 * nothing.
 */
export function lookup<T>(entries: readonly Entry<T>[], key: string): LookupResult<T> {
  if (key.length === 0) return { kind: 'not_found' };
  const steps: ((e: Entry<T>) => boolean)[] = [(e) => e.id === key, (e) => e.name === key, (e) => e.id.startsWith(key)];
  for (const step of steps) {
    const matches = entries.filter(step);
    if (matches.length === 1) return { kind: 'found', entry: matches[0]! };
    if (matches.length > 1) return { kind: 'ambiguous', matches };
  }
  return { kind: 'not_found' };
}

export type SegmentResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly message: string };

/**
 * Decodes one raw path segment (still percent-encoded) exactly once and checks that it is a
 * resource name or id: lowercase letters, digits and dashes. Anything that could name another file
 * (`..`, `/`, `\`, NUL, `%2f`, `%2e%2e`, double encodings, which stay `%`-laden after one decode)
 * is refused with a message saying why.
 */
export function decodeSegment(raw: string): SegmentResult {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return { ok: false, message: `path segment "${raw}" is not valid percent-encoding` };
  }
  if (value.length === 0) return { ok: false, message: 'the path needs a name or id after the last /' };
  if (value === '.' || value.includes('..') || /[/\\\0]/.test(value)) {
    return { ok: false, message: `"${printable(value)}" is not a resource name or id: path separators, "..", backslashes and NUL are not allowed` };
  }
  if (!isValidName(value) && !ID_PATTERN.test(value)) {
    return {
      ok: false,
      message: `"${printable(value)}" is not a resource name or id: names are 1-63 lowercase letters, digits and dashes, not starting or ending with a dash`,
    };
  }
  return { ok: true, value };
}

/** True when a raw (undecoded) path segment decodes to `.` or `..`, anywhere in a path. */
export function isDotSegment(raw: string): boolean {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return false;
  }
  return value === '.' || value === '..';
}

function printable(value: string): string {
  const shown = JSON.stringify(value).slice(1, -1);
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}
