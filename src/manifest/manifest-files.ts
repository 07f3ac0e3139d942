/**
 * Which files in the watched directory are manifests, and where their status files go. Pure:
 * works on paths relative to the watched directory, with `/` separators.
 */

const MANIFEST_SUFFIX = '.json';
const STATUS_SUFFIX = '.status.json';
/** Temporary files editors write next to the file being saved (vim's `4913` write test included). */
const EDITOR_TEMPORARY = [/~$/, /\.sw[a-p]$/, /\.swx$/, /\.tmp$/, /^4913$/, /^#.*#$/, /^\.#/];

/**
 * True when `relPath` names a manifest: a `*.json` file that is not a status file
 * (`*.status.json`), not a dotfile, not inside a dot-directory and not an editor temporary.
 * Empty path segments (`a//b.json`, a leading `/`) and `.`/`..` segments give false.
 */
export function isManifestPath(relPath: string): boolean {
  // Cheapest tests first: a rescan asks this for every file (status files included) every second.
  if (!relPath.endsWith(MANIFEST_SUFFIX) || relPath.endsWith(STATUS_SUFFIX)) return false;
  const segments = relPath.split('/');
  if (segments.some((s) => s.length === 0 || s.startsWith('.'))) return false;
  const base = segments.at(-1) ?? '';
  if (EDITOR_TEMPORARY.some((re) => re.test(base))) return false;
  return base.length > MANIFEST_SUFFIX.length;
}

/** The file's base name without a trailing `.json`: the default resource name. `a/web.json` → `web`. */
export function manifestStem(relPath: string): string {
  const base = relPath.slice(relPath.lastIndexOf('/') + 1);
  return base.endsWith(MANIFEST_SUFFIX) ? base.slice(0, -MANIFEST_SUFFIX.length) : base;
}

/** Where the status of a manifest is written: `<dir>/<stem>.status.json` (`a/web.json` → `a/web.status.json`). */
export function statusPathFor(relPath: string): string {
  const dir = relPath.slice(0, relPath.lastIndexOf('/') + 1);
  return `${dir}${manifestStem(relPath)}${STATUS_SUFFIX}`;
}
