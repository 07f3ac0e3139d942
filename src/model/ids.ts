import { hash } from 'node:crypto';
import xxhash from 'xxhash-wasm';
import type { Kind } from './resource.js';

const ID_LENGTH = 24;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Ids given explicitly in a manifest must look like derived ones: lowercase base-36, 1-64 chars. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The stable id of a resource: 24 lowercase base-36 characters starting with a letter,
 * derived from kind and name, so the same manifest gets the same id on every machine and restart.
 */
export function deriveId(kind: Kind, name: string): string {
  // One-shot `hash`: the same digest as createHash, ~40% cheaper per call (100,000 at start-up).
  const digest = hash('sha256', `${kind}/${name}`, 'buffer');
  let id = LETTERS[digest[0]! % LETTERS.length]!;
  for (let i = 1; i < ID_LENGTH; i++) id += ALPHABET[digest[i]! % ALPHABET.length]!;
  return id;
}

/** Short stable hash of any JSON-able value, used for generations and change detection. */
export function hashOf(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 16);
}

const { h64ToString } = await xxhash();

/**
 * A fast 64-bit hash (xxhash64, 16 hex digits) for change detection inside one process and for
 * generations: not for anything that names things in Caddy's config (`hashOf` does that, and its
 * values must never change). About 10x cheaper than `hashOf` for the short texts hashed per
 * manifest, which at 100,000 manifests is most of a second at start-up.
 */
export function fastHashOf(text: string): string {
  return h64ToString(text);
}
