/**
 * Caddy's config ETag, computed locally, in the two schemes Caddy has used:
 *
 * - Caddy 2.8 and later (`xxhash64-header`): an ETag *header* `"/config/ <hash>"`, where `<hash>` is
 *   the xxhash64 (seed 0, 16 lowercase hex digits) of the response body: the same `json.Encoder`
 *   output as below (newline included), written by a Go ≥ 1.22 (`\b` and `\f` as short escapes).
 *   Verified byte for byte against 2.10.2 and 2.11.9 by test/integration/caddy-etag.test.ts.
 * - Caddy 2.6.2 (Debian bookworm, built with Go 1.19.8) answers `GET /config/` with the ETag
 * `"/config/ <hash>"` (as an HTTP trailer), where `<hash>` is the FNV-1a 32-bit hash (8 lowercase
 * hex digits) of the exact response body: `json.NewEncoder(w).Encode(v)` of the config as Caddy
 * holds it, a tree of `map[string]interface{}` / `[]interface{}` / `float64` / `string` / `bool`
 * decoded from the JSON it was sent. `If-Match` on a later write is checked by re-hashing the same
 * encoding. So after writing a config we can know its tag without reading it back.
 *
 * What the Go 1.19 encoder does with such a tree (verified byte for byte against Caddy 2.6.2 in
 * test/integration/caddy-etag.test.ts):
 * - object keys sorted by byte order of their UTF-8 (= code point order, which differs from
 *   JavaScript's UTF-16 order for astral characters vs U+E000–U+FFFF);
 * - strings: `"` `\` → `\"` `\\`; `\n` `\r` `\t` → short escapes; every other control character
 *   (including `\b` and `\f`, which only Go 1.22+ writes short) → `\u00XX` lowercase hex;
 *   `<` `>` `&` → `\u003c` `\u003e` `\u0026`; U+2028/U+2029 → `\u2028`/`\u2029`; DEL (0x7f) and
 *   all other characters as raw UTF-8. A lone surrogate reaches Caddy as `\udXXX` (JSON.stringify)
 *   or as the bytes EF BF BD (Node's UTF-8 encoder); Go decodes both to U+FFFD, which it then
 *   writes as a raw character (not as the `\ufffd` escape it uses for invalid UTF-8 bytes);
 * - numbers: float64 as ES `Number.prototype.toString` (shortest round-trip digits; `1e+21`,
 *   `1e-7`, `0.000001`), which is what Go's floatEncoder is designed to match. The one difference,
 *   -0 (Go writes `-0`), never reaches Caddy from us: JSON.stringify writes it as `0`;
 * - the value written is what `JSON.stringify` would send: `undefined` members are left out,
 *   `undefined` array elements and non-finite numbers are `null`.
 */
import type { JsonObject, JsonValue } from '../model/json.js';
import xxhash from 'xxhash-wasm';
import type { EtagScheme } from '../model/caddy-version.js';
import { ASCII_ESCAPES, goJson, sortKeys } from './go-json.js';

const { h64ToString } = await xxhash();

/** The ETag Caddy sends for `GET /config/` while holding `config` (`null`: no config). */
export function caddyConfigEtag(config: JsonObject | null, scheme: EtagScheme = 'fnv1a32-trailer'): string {
  if (scheme === 'xxhash64-header') return `"/config/ ${h64ToString(`${goJson(config, 'go1.22')}\n`)}"`;
  // Hashes while encoding: building the ~400 KB string first costs more than the hashing.
  h = FNV_OFFSET;
  if (!hashValue(config)) hashAscii('null');
  hashAscii('\n');
  return `"/config/ ${(h >>> 0).toString(16).padStart(8, '0')}"`;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** The running FNV-1a state of `caddyConfigEtag` (synchronous, so one is enough). */
let h = FNV_OFFSET;

/** Feeds `s`, which holds only ASCII, to `h`. */
function hashAscii(s: string): void {
  let x = h;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), FNV_PRIME);
  h = x;
}

/** Feeds the UTF-8 of `s`, well-formed UTF-16, to `h`. */
function hashUtf8(s: string): void {
  let x = h;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      x = Math.imul(x ^ c, FNV_PRIME);
    } else if (c < 0x800) {
      x = Math.imul(x ^ (0xc0 | (c >> 6)), FNV_PRIME);
      x = Math.imul(x ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        x = Math.imul(x ^ (0xf0 | (c >> 18)), FNV_PRIME);
        x = Math.imul(x ^ (0x80 | ((c >> 12) & 0x3f)), FNV_PRIME);
      } else {
        x = Math.imul(x ^ (0xe0 | (c >> 12)), FNV_PRIME);
      }
      x = Math.imul(x ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      x = Math.imul(x ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    }
  }
  h = x;
}

/** The scheme an ETag Caddy sent was made with (by its hash's length), or undefined when it is neither. */
export function etagSchemeOf(etag: string): EtagScheme | undefined {
  const hash = / ([0-9a-f]+)"$/.exec(etag)?.[1];
  return hash?.length === 16 ? 'xxhash64-header' : hash?.length === 8 ? 'fnv1a32-trailer' : undefined;
}

/** FNV-1a 32-bit over the UTF-8 of `s` (well-formed UTF-16, as `goJson` output is). */
export function fnv1a32Utf8(s: string): number {
  h = FNV_OFFSET;
  hashUtf8(s);
  return h >>> 0;
}

/** `encode` fed straight to `h`; false (nothing fed) where `encode` returns undefined. */
function hashValue(value: JsonValue | undefined): boolean {
  switch (typeof value) {
    case 'string':
      hashString(value);
      return true;
    case 'number':
      hashAscii(Number.isFinite(value) ? (value === 0 ? '0' : String(value)) : 'null');
      return true;
    case 'boolean':
      hashAscii(value ? 'true' : 'false');
      return true;
    case 'undefined':
      return false;
    default:
      break;
  }
  if (value === null) {
    hashAscii('null');
    return true;
  }
  if (Array.isArray(value)) {
    h = Math.imul(h ^ 0x5b, FNV_PRIME); // [
    const n = value.length;
    for (let i = 0; i < n; i++) {
      if (i > 0) h = Math.imul(h ^ 0x2c, FNV_PRIME); // ,
      if (!hashValue(value[i])) hashAscii('null');
    }
    h = Math.imul(h ^ 0x5d, FNV_PRIME); // ]
    return true;
  }
  const keys = Object.keys(value);
  if (keys.length > 1) sortKeys(keys);
  h = Math.imul(h ^ 0x7b, FNV_PRIME); // {
  let first = true;
  for (const key of keys) {
    const member = value[key];
    if (member === undefined) continue;
    if (!first) h = Math.imul(h ^ 0x2c, FNV_PRIME); // ,
    first = false;
    hashString(key);
    h = Math.imul(h ^ 0x3a, FNV_PRIME); // :
    hashValue(member);
  }
  h = Math.imul(h ^ 0x7d, FNV_PRIME); // }
  return true;
}

/** `quote(s)` fed to `h`, in one pass and without building the escaped string. */
function hashString(s: string): void {
  let x = Math.imul(h ^ 0x22, FNV_PRIME);
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      const escape = ASCII_ESCAPES[c];
      if (escape === undefined) {
        x = Math.imul(x ^ c, FNV_PRIME);
      } else {
        for (let j = 0; j < escape.length; j++) x = Math.imul(x ^ escape.charCodeAt(j), FNV_PRIME);
      }
    } else if (c < 0x800) {
      x = Math.imul(x ^ (0xc0 | (c >> 6)), FNV_PRIME);
      x = Math.imul(x ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    } else if (c === 0x2028 || c === 0x2029) {
      const escape = c === 0x2028 ? '\\u2028' : '\\u2029';
      for (let j = 0; j < escape.length; j++) x = Math.imul(x ^ escape.charCodeAt(j), FNV_PRIME);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          x = Math.imul(x ^ (0xf0 | (c >> 18)), FNV_PRIME);
          x = Math.imul(x ^ (0x80 | ((c >> 12) & 0x3f)), FNV_PRIME);
          x = Math.imul(x ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
          x = Math.imul(x ^ (0x80 | (c & 0x3f)), FNV_PRIME);
          continue;
        }
        c = 0xfffd; // a lone surrogate: U+FFFD in Caddy, written raw
      }
      x = Math.imul(x ^ (0xe0 | (c >> 12)), FNV_PRIME);
      x = Math.imul(x ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
      x = Math.imul(x ^ (0x80 | (c & 0x3f)), FNV_PRIME);
    }
  }
  h = Math.imul(x ^ 0x22, FNV_PRIME);
}
