/**
 * ERROR_PAGES_DIR: global error pages, one file per status or class named after it (`404.html`,
 * `502.html`, `5xx.html`, `4xx.txt`), read into `RenderSettings.errorPages` (render/error-pages.ts
 * serves them on every route and as the unmatched-host 404). Read at start-up and again at every
 * resync (RESYNC_INTERVAL, and the full resyncs the watcher asks for); a change is rendered at the
 * next Caddy sync. Not watched: the directory is outside the manifest tree as a rule.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { comparePageKeys, contentTypeOfFile, errorPageKeyProblem, type ResolvedPage } from '../model/error-pages.js';
import { MAX_REFERENCED_FILE_BYTES } from '../model/referenced-files.js';

export interface ErrorPagesRead {
  /** The pages, in `comparePageKeys` order (exact statuses first). */
  readonly pages: readonly ResolvedPage[];
  /** Files left out and why, for the log (sorted). */
  readonly problems: readonly string[];
}

/**
 * Every `<status or class>.<extension>` file of `dir` (dotfiles and subdirectories skipped), its
 * Content-Type by extension (`.html` HTML, `.txt` plain text, `.json`, `.xml`; HTML otherwise).
 * A name that is not a status from 400 to 599 or `4xx`/`5xx`, a second file for one key, or a file
 * above 256 KiB is left out with a problem. A missing directory gives no pages and one problem.
 * Never throws.
 */
export function readErrorPagesDir(dir: string): ErrorPagesRead {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    return { pages: [], problems: [`ERROR_PAGES_DIR ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); no global error pages`] };
  }
  const pages = new Map<string, ResolvedPage>();
  const problems: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const key = name.includes('.') ? name.slice(0, name.indexOf('.')) : name;
    try {
      const info = statSync(path);
      if (!info.isFile()) continue;
      const keyProblem = errorPageKeyProblem(key);
      if (keyProblem !== undefined) problems.push(`${name} is left out: its name ${keyProblem}; name pages such as 404.html, 502.html or 5xx.html`);
      else if (pages.has(key)) problems.push(`${name} is left out: ${key} already has a page in ERROR_PAGES_DIR; keep one file per status`);
      else if (info.size > MAX_REFERENCED_FILE_BYTES) problems.push(`${name} is left out: ${info.size} bytes is above the limit of 256 KiB`);
      else pages.set(key, { key, body: readFileSync(path, 'utf8'), contentType: contentTypeOfFile(name) });
    } catch (err) {
      problems.push(`${name} is left out: it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return { pages: [...pages.values()].sort((a, b) => comparePageKeys(a.key, b.key)), problems };
}

/** The pages of ERROR_PAGES_DIR (none without one), problems left out: for the one-shot CLI commands (render, diff). */
export function errorPagesOf(dir: string | undefined): readonly ResolvedPage[] {
  return dir === undefined ? [] : readErrorPagesDir(dir).pages;
}
