/**
 * Conflict precedence as `ingressd run` records it, for the commands that judge files without a
 * running ingressd (`validate`, `render`, `diff`, `get`): a manifest's status file says since
 * when it has held its names and hostnames (its `Accepted` condition, when `True`). `run` reads
 * the same at start-up and keeps it while it runs, so for the same files and status files every
 * command settles a conflict as `run` does: resources accepted earlier win, oldest first; the
 * rest follow by name, then file (see `evaluate`).
 */
import type { ResourceStatus } from './status-types.js';
import { acceptedSinceOf } from './status.js';

/** Reads the status file of a manifest (by the manifest's key), or undefined when there is none. */
export type StatusReader = (file: string) => Promise<ResourceStatus | undefined>;

/**
 * `acceptedSince` for `files`: each file whose status file describes it (its `file` field is the
 * manifest's key, or the end of it after a `/`: status files record paths relative to the watched
 * directory, while `validate` may be given a path from elsewhere) and says Accepted=True.
 */
export async function precedenceFromStatuses(files: readonly string[], read: StatusReader): Promise<Map<string, number>> {
  const since = new Map<string, number>();
  for (const file of files) {
    const status = await read(file);
    if (status === undefined || !describes(status, file)) continue;
    const at = acceptedSinceOf(status);
    if (at !== undefined) since.set(file, at);
  }
  return since;
}

function describes(status: ResourceStatus, file: string): boolean {
  return status.file === file || file.endsWith(`/${status.file}`);
}
