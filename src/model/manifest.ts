import type { Issue } from './issues.js';
import type { Kind, Resource } from './resource.js';

/**
 * One manifest file as the sources layer read it.
 * `resource` is present when the file parsed and passed its own (file-local) checks;
 * `issues` holds every file-local problem (JSON syntax, schema, rule checks).
 * Cross-file checks (names, hostnames, instance references) happen later, on the whole set.
 */
export interface Manifest {
  /** Path relative to the watched directory, with `/` separators. The manifest's key. */
  readonly file: string;
  /** Kind as far as it could be read (`Ingress` when absent); undefined if the file is unreadable JSON. */
  readonly kind: Kind | undefined;
  /** Name as far as it could be read (defaults to the file's stem). */
  readonly name: string;
  /** Stable hash of the normalised spec (or of the raw bytes when it did not parse). */
  readonly generation: string;
  readonly resource: Resource | undefined;
  readonly issues: readonly Issue[];
  /**
   * Set when the file on disk is not valid and this manifest is the last version of it that was
   * accepted and served (FALLBACK=last-valid, see reconciler/last-valid.ts): `resource` and
   * `issues` are that version's, `generation` the current file's.
   */
  readonly fallback?: ManifestFallback;
}

/** What a last-valid manifest stands in for. */
export interface ManifestFallback {
  /** Every file-local problem of the current file (what its status reports). */
  readonly issues: readonly Issue[];
  /** The generation of the version still served. */
  readonly servedGeneration: string;
  /** When that version was first accepted and served (ms since the epoch). */
  readonly acceptedAt: number;
  /** Since when the file has held its names and hostnames (conflict precedence, as `acceptedSince`). */
  readonly since: number;
}
