/**
 * The `compress` policy of a rule: `true` compresses responses with gzip or zstd for clients that
 * accept them. Pure.
 */

/** Encodings offered, in the order preferred when a client accepts several equally. */
export const COMPRESS_ENCODINGS = ['zstd', 'gzip'] as const;

/**
 * Responses this long or shorter go out as they are (Caddy's own default, rendered explicitly):
 * below about 512 bytes the encoding's framing outweighs the saving.
 */
export const COMPRESS_MIN_BYTES = 512;

/** The status effect. */
export function describeCompress(): string {
  return `${COMPRESS_ENCODINGS.join(' or ')} for clients that accept them, on text-like responses (HTML, CSS, JavaScript, JSON, XML, SVG) over ${COMPRESS_MIN_BYTES} bytes`;
}
