/**
 * Work-queue keys, typed: one per manifest file (parse, cheap), one for the Caddy apply step (so a
 * burst of file events reconciles Caddy once), one for the status files written after it, and
 * one for the periodic cross-check of the incremental evaluation. Keys are interned: the same
 * file always gives the same object, so the queue's identity sets collapse repeats.
 */
export interface FileKey {
  readonly kind: 'file';
  /** Manifest path relative to the watched directory, `/`-separated. */
  readonly file: string;
}
export interface CaddyKey {
  readonly kind: 'caddy';
}
export interface StatusesKey {
  readonly kind: 'statuses';
}
export interface CrossCheckKey {
  readonly kind: 'crossCheck';
}
export type Key = FileKey | CaddyKey | StatusesKey | CrossCheckKey;

export const CADDY_KEY: CaddyKey = Object.freeze({ kind: 'caddy' });
export const STATUSES_KEY: StatusesKey = Object.freeze({ kind: 'statuses' });
export const CROSS_CHECK_KEY: CrossCheckKey = Object.freeze({ kind: 'crossCheck' });

const files = new Map<string, FileKey>();

/** The key of one manifest file (always the same object for the same path). */
export function fileKey(file: string): FileKey {
  let key = files.get(file);
  if (key === undefined) {
    key = Object.freeze({ kind: 'file', file });
    files.set(file, key);
  }
  return key;
}

/** For logs: `file:<path>`, `caddy`, `statuses`, `crossCheck`. */
export function describeKey(key: Key): string {
  return key.kind === 'file' ? `file:${key.file}` : key.kind;
}
