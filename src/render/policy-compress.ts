/**
 * The `compress` policy's handler: Caddy's `encode`. Pure.
 *
 * It sits last before the path rewrite and the proxy, so it compresses what the target sends and
 * nothing else: answers refused earlier in the chain (403, 429, 413) are written by Caddy's error
 * handling, not through it. It wraps the response writer: the `headers` policy's response
 * operations (deferred, outside it) see the final `Content-Encoding`. Caddy's default response
 * match applies: text-like content types only (`text/*`, JSON, JavaScript, XHTML, Atom, RSS, SVG
 * and, on newer Caddy, a few more), so images and archives pass through untouched. `Vary:
 * Accept-Encoding` is added by Caddy.
 */
import { COMPRESS_ENCODINGS, COMPRESS_MIN_BYTES } from '../model/compress.js';
import type { JsonObject } from '../model/json.js';

export function encodeHandler(): JsonObject {
  return { handler: 'encode', encodings: Object.fromEntries(COMPRESS_ENCODINGS.map((e) => [e, {}])), prefer: [...COMPRESS_ENCODINGS], minimum_length: COMPRESS_MIN_BYTES };
}
