/**
 * The JSON that Caddy's Go encoder writes for a config (see caddy-etag.ts for what it hashes):
 * `encoding/json` with escapeHTML on, keys in code point order, as Go holds the decoded value.
 */
import type { JsonValue } from '../model/json.js';

/** Which Go wrote it: before 1.22, `\b` and `\f` are `\u0008` and `\u000c`; from 1.22 short escapes. */
export type GoJsonDialect = 'go1.19' | 'go1.22';

/**
 * Go `encoding/json` output (escapeHTML on, no trailing newline) for `value` as Caddy holds it
 * after decoding `JSON.stringify(value)` into an `interface{}`.
 */
export function goJson(value: JsonValue | null, dialect: GoJsonDialect = 'go1.19'): string {
  shortBF = dialect === 'go1.22';
  try {
    return encode(value) ?? 'null';
  } finally {
    shortBF = false;
  }
}

/** `undefined` for what JSON.stringify leaves out of an object (only `undefined` in a JsonValue). */
function encode(value: JsonValue | undefined): string | undefined {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      // Number→string is Go's format for every finite float64 but -0 (see the header).
      return Number.isFinite(value) ? (value === 0 ? '0' : String(value)) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    default:
      break;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    const n = value.length;
    if (n === 0) return '[]';
    let out = `[${encode(value[0]) ?? 'null'}`;
    for (let i = 1; i < n; i++) out += `,${encode(value[i]) ?? 'null'}`;
    return `${out}]`;
  }
  const keys = Object.keys(value);
  if (keys.length > 1) sortKeys(keys);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const encoded = encode(value[key]);
    if (encoded === undefined) continue;
    out += first ? `${quote(key)}:${encoded}` : `,${quote(key)}:${encoded}`;
    first = false;
  }
  return `${out}}`;
}

/** Set by `goJson` for its own call only (encoding is synchronous). */
let shortBF = false;

const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;
const HEX = '0123456789abcdef';

/** Go's `encodeState.string(s, escapeHTML=true)` for the string Go decoded from `JSON.stringify(s)`. */
function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let escaped: string;
    if (c < 0x20) {
      escaped = c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : shortBF && c === 0x08 ? '\\b' : shortBF && c === 0x0c ? '\\f' : `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
    } else if (c === 0x22) escaped = '\\"';
    else if (c === 0x5c) escaped = '\\\\';
    else if (c === 0x3c) escaped = '\\u003c';
    else if (c === 0x3e) escaped = '\\u003e';
    else if (c === 0x26) escaped = '\\u0026';
    else if (c === 0x2028) escaped = '\\u2028';
    else if (c === 0x2029) escaped = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < n) {
        const next = s.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++; // a valid pair: raw
          continue;
        }
      }
      escaped = '\ufffd'; // a lone surrogate: Go decoded it to U+FFFD and writes that raw
    } else continue;
    out += s.slice(start, i) + escaped;
    start = i + 1;
  }
  return `${out}${s.slice(start)}"`;
}

const SURROGATE = /[\ud800-\udfff]/;

/**
 * Sorts object keys into Go's order: bytewise on their UTF-8, i.e. by code point. Plain JS sort
 * compares UTF-16 code units, which agrees unless a key holds a surrogate (astral character).
 */
export function sortKeys(keys: string[]): void {
  // Rendered configs come with sorted keys already: checking is cheaper than sorting.
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  for (const key of keys) {
    if (SURROGATE.test(key)) {
      keys.sort(compareGoKeys);
      return;
    }
  }
}

/** Code point order of the keys as Go holds them (a lone surrogate is U+FFFD there). */
function compareGoKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = goUnit(a, i);
    const cb = goUnit(b, i);
    if (ca !== cb) return ca - cb;
  }
  return a.length - b.length;
}

/**
 * A code unit mapped so that plain comparison follows code points: surrogates (astral characters,
 * U+10000 and up) above U+E000–U+FFFF; a lone surrogate as U+FFFD (the comparison stays exact as
 * long as no two keys differ only by which lone surrogate they hold: those collide in Caddy too).
 */
function goUnit(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800) return c;
  if (c >= 0xe000) return c - 0x800;
  const paired =
    c <= 0xdbff
      ? i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
      : i > 0 && (s.charCodeAt(i - 1) & 0xfc00) === 0xd800;
  return paired ? c + 0x2000 : 0xfffd - 0x800;
}

/** Go's escape for each ASCII character, `undefined` where it is written as is. */
export const ASCII_ESCAPES: readonly (string | undefined)[] = Array.from({ length: 0x80 }, (_, c) => {
  const ch = String.fromCharCode(c);
  return NEEDS_ESCAPE.test(ch) ? quote(ch).slice(1, -1) : undefined;
});
