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
}
