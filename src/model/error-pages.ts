/**
 * The `error_pages` policy (README "Policies") and ERROR_PAGES_DIR's pages: what Caddy answers
 * instead of its bare error status, keyed by a status (400-599) or a class (`4xx`, `5xx`). Pure:
 * one definition shared by validation, render and status.
 */
import type { ReferencedFile } from './referenced-files.js';
import { referencedText } from './referenced-files.js';

/** One page as a manifest writes it: an inline body, or a file beside the manifest. */
export interface ErrorPageSpec {
  readonly body?: string;
  /** The Content-Type sent; from the file's extension, else `text/html; charset=utf-8`, when absent. */
  readonly content_type?: string;
  readonly file?: string;
}

/** Status or class → page, as written. */
export type ErrorPages = Readonly<Record<string, ErrorPageSpec>>;

/** A page as served: the key it answers, its body and Content-Type. */
export interface ResolvedPage {
  /** `404`, `502`, … or `4xx` / `5xx`. */
  readonly key: string;
  readonly body: string;
  readonly contentType: string;
}

/** Why `key` is not a status from 400 to 599 or the class `4xx` or `5xx`, with the fix; undefined when it is one. */
export function errorPageKeyProblem(key: string): string | undefined {
  if (/^[45]xx$/.test(key)) return undefined;
  if (/^[0-9]{3}$/.test(key)) {
    const n = Number(key);
    return n >= 400 && n <= 599 ? undefined : `is status ${n}, but error pages are for errors: 400 to 599 (such as "404", "502"), or the classes "4xx" and "5xx"`;
  }
  if (/^[0-9]xx$/i.test(key)) return `is a class of statuses that are not errors; use "4xx" or "5xx", or one status from 400 to 599`;
  return `is neither a status from 400 to 599 (such as "404", "502") nor a class "4xx" or "5xx"`;
}

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json',
  xml: 'application/xml',
};
export const DEFAULT_PAGE_TYPE = 'text/html; charset=utf-8';

/** The Content-Type of a page file by its extension (`.html`, `.txt`, `.json`, `.xml`); HTML for any other. */
export function contentTypeOfFile(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return TYPES[ext] ?? DEFAULT_PAGE_TYPE;
}

/** A Content-Type Caddy can send: `type/subtype` with optional parameters, no control characters. */
export const CONTENT_TYPE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*;[^\u0000-\u001f\u007f]*)?$/;

/**
 * Exact statuses first, ascending, then the classes: the order their error routes are tried, so an
 * exact status beats its class.
 */
export function comparePageKeys(a: string, b: string): number {
  const classA = a.endsWith('xx');
  const classB = b.endsWith('xx');
  if (classA !== classB) return classA ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The pages of a validated policy as served, in `comparePageKeys` order; a page whose file could
 * not be read is left out (validation refused the ingress then).
 */
export function resolvePages(pages: ErrorPages, files: Readonly<Record<string, ReferencedFile>> | undefined): ResolvedPage[] {
  const out: ResolvedPage[] = [];
  for (const key of Object.keys(pages).sort(comparePageKeys)) {
    const page = pages[key]!;
    if (page.file !== undefined) {
      const file = referencedText(files, page.file);
      if ('text' in file) out.push({ key, body: file.text, contentType: page.content_type ?? contentTypeOfFile(page.file) });
    } else if (page.body !== undefined) out.push({ key, body: page.body, contentType: page.content_type ?? DEFAULT_PAGE_TYPE });
  }
  return out;
}

/** True when one of `pages` answers `status` (its own key or its class). */
export function hasPageFor(pages: readonly ResolvedPage[] | undefined, status: number): boolean {
  return pages?.some((p) => p.key === String(status) || p.key === `${String(status)[0]}xx`) === true;
}

/** The status effect, such as `errors 404, 502, 5xx get the pages given (502 from 502.html)`. */
export function describeErrorPages(pages: ErrorPages): string {
  const keys = Object.keys(pages).sort(comparePageKeys);
  const files = keys.flatMap((k) => (pages[k]?.file === undefined ? [] : [`${k} from ${pages[k]!.file}`]));
  return `errors ${keys.join(', ')} get the pages given${files.length === 0 ? '' : ` (${files.join(', ')})`}`;
}
