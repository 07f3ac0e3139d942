/**
 * The manifest of a path that exists in the watched tree but cannot be read: a symbolic link
 * whose target is gone, a loop of links, a file nobody may read. Pure. It is judged like any
 * invalid manifest (never served, `Accepted=False` with reason `Unreadable`), so the user finds
 * the problem in the status file beside the path rather than in the log alone.
 */
import { fastHashOf } from '../model/ids.js';
import { issue } from '../model/issues.js';
import type { Manifest } from '../model/manifest.js';
import { manifestStem } from './manifest-files.js';

/** Why a manifest path could not be read, as the sources layer found it. */
export type UnreadableCause =
  | { readonly kind: 'dangling'; readonly target: string }
  | { readonly kind: 'loop' }
  | { readonly kind: 'denied'; readonly detail: string }
  | { readonly kind: 'other'; readonly detail: string };

/** What is wrong and how to fix it, for the status file and the log line. */
export function unreadableMessage(file: string, cause: UnreadableCause): string {
  switch (cause.kind) {
    case 'dangling':
      return `${file} is a symbolic link to ${cause.target}, which does not exist; point the link at an existing file or remove it`;
    case 'loop':
      return `${file} is a symbolic link that leads back to itself (a loop of links); point it at a regular file`;
    case 'denied':
      return `${file} cannot be read by ingressd (${cause.detail}); make it readable by ingressd's user`;
    case 'other':
      return `${file} cannot be read (${cause.detail}); fix the file or remove it`;
  }
}

/** `file` is relative to the watched directory. Its generation changes only when the cause does. */
export function unreadableManifest(file: string, cause: UnreadableCause): Manifest {
  const message = unreadableMessage(file, cause);
  return {
    file,
    kind: undefined,
    name: manifestStem(file),
    generation: fastHashOf(`unreadable:${message}`),
    resource: undefined,
    issues: [issue('unreadable_file', '', message)],
  };
}
