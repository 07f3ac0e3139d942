/**
 * Files a manifest names beside it (a basic-auth users file, an error page): the rules for the
 * path as written, and the form in which the sources layer hands their content to the pure core.
 * Pure: the reading is src/sources/referenced-files.ts's.
 */
import type { Rule } from './resource.js';

/** The largest referenced file ingressd reads: a users file or an error page is small. */
export const MAX_REFERENCED_FILE_BYTES = 256 * 1024;

/**
 * A referenced file as the sources layer read it when it loaded the manifest, keyed in
 * `Ingress.files` by the path as written. `text` when it was read; `problem` (for people, with
 * the fix) when it could not be: missing, too large, not a regular file, a path that leaves the
 * manifest's directory.
 */
export type ReferencedFile = { readonly text: string } | { readonly problem: string };

/**
 * Why `path` (as a manifest writes it) may not be read, with the fix; undefined when it may.
 * Relative to the manifest's directory and inside it: not absolute, no `..`, `.` or empty
 * segments, no backslash, not a `.json` file (that would be read as a manifest itself).
 * Symbolic links inside the directory are followed, as for manifests.
 */
export function referencePathProblem(path: string): string | undefined {
  if (path.startsWith('/')) return `is an absolute path; name a file beside the manifest, relative to its directory, such as ${example(path)}`;
  if (path.includes('\\') || path.includes('\u0000')) return 'holds a backslash or a NUL; use / between directories, such as pages/502.html';
  const segments = path.split('/');
  if (segments.some((s) => s === '..')) return `leaves the manifest's directory (..); put the file beside the manifest or below it, such as ${example(path)}`;
  if (segments.some((s) => s === '' || s === '.')) return 'has an empty or "." segment; write the path plainly, such as pages/502.html';
  if (path.endsWith('.json')) return 'ends in .json, so ingressd would read it as a manifest too; give it another extension, such as .html or .users';
  return undefined;
}

function example(path: string): string {
  const base = path.split(/[\\/]/).filter((s) => s !== '' && s !== '..').at(-1);
  return base === undefined ? 'shop.users' : base;
}

/** The text of a referenced file, or the problem that kept it from being read (missing from `files`: never read). */
export function referencedText(files: Readonly<Record<string, ReferencedFile>> | undefined, path: string): { readonly text: string } | { readonly problem: string } {
  const file = files?.[path];
  if (file === undefined) return { problem: 'was not read by ingressd (the manifest was loaded without its files); reload it' };
  return file;
}

/** The paths (as written, deduplicated, sorted) of the files an ingress's rules name beside it. */
export function referencedPathsOf(rules: readonly Rule[]): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    if (rule.basic_auth?.users_file !== undefined) out.add(rule.basic_auth.users_file);
    for (const page of Object.values(rule.error_pages ?? {})) if (page.file !== undefined) out.add(page.file);
  }
  return [...out].sort();
}
