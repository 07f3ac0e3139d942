import { createHash } from 'node:crypto';
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
  const digest = createHash('sha256').update(`${kind}/${name}`).digest();
  let id = LETTERS[digest[0]! % LETTERS.length]!;
  for (let i = 1; i < ID_LENGTH; i++) id += ALPHABET[digest[i]! % ALPHABET.length]!;
  return id;
}

/** Short stable hash of any JSON-able value, used for generations and change detection. */
export function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
