/**
 * Error pages (a rule's `error_pages`, ERROR_PAGES_DIR's as `settings.errorPages`) as Caddy's
 * `errors.routes` (its handle_errors): what Caddy answers instead of a bare error status. Pure.
 *
 * A rule with pages gets a `vars` handler first in its chain, marking the request with a tag of
 * its page set; its error routes match that tag and the error's status. The tag, rather than the
 * rule's host and path matched again: the error routes see the request after the rule's path
 * rewrite (`strip_path_prefix`), and a tag is exactly "an error Caddy produced while handling this
 * rule" (a 502 of its proxy, a 403 of its IP filter, a 401 of its basic auth, a 413, a 429).
 * Rules with the same pages share one tag, so their routes are rendered once per server.
 *
 * Order on a server: each tag's pages (exact statuses before classes, so a 502 page beats 5xx),
 * tags sorted; then the global pages matching any request. A rule's own page beats a global one.
 * Every page answers with the error's own status code (`{http.error.status_code}`); headers set
 * before the error stay (a 401 keeps its `WWW-Authenticate`).
 */
import { comparePageKeys, hasPageFor, type ResolvedPage } from '../model/error-pages.js';
import { hashOf } from '../model/ids.js';
import type { JsonObject } from '../model/json.js';
import { ID_PREFIX } from '../model/ownership.js';
import type { RenderSettings } from '../model/settings.js';
import type { Binding } from './model.js';
import { compareStrings } from './order.js';

/** The request variable a rule's tag is kept in. */
const TAG_VAR = 'ingressd_error_pages';

/** The tag of a page set: the same pages (keys, bodies, types) give the same tag on every machine. */
export function pagesTag(pages: readonly ResolvedPage[]): string {
  return hashOf(JSON.stringify(pages.map((p) => [p.key, p.contentType, p.body]))).slice(0, 12);
}

/** The handler that marks a request with its rule's pages, first in the rule's chain; empty without pages. */
export function errorPagesMark(pages: readonly ResolvedPage[] | undefined): JsonObject[] {
  return pages === undefined || pages.length === 0 ? [] : [{ handler: 'vars', [TAG_VAR]: pagesTag(pages) }];
}

/** True when a page answers 403 for this rule (its own or a global one): the IP filter then raises an error instead of answering. */
export function hasForbiddenPage(pages: readonly ResolvedPage[] | undefined, settings: RenderSettings): boolean {
  return hasPageFor(pages, 403) || hasPageFor(settings.errorPages, 403);
}

/** The `errors.routes` of the server on `port`, given its bindings; empty without pages anywhere. */
export function errorRoutes(port: number, bindings: readonly Binding[], settings: RenderSettings): JsonObject[] {
  const tags = new Map<string, readonly ResolvedPage[]>();
  for (const b of bindings) {
    const pages = b.proxy?.errorPages;
    if (pages !== undefined && pages.length > 0) tags.set(pagesTag(pages), pages);
  }
  const out: JsonObject[] = [];
  for (const [tag, pages] of [...tags].sort(([a], [b]) => compareStrings(a, b))) {
    for (const page of pages) out.push(pageRoute(`${ID_PREFIX}.${port}.errors.${tag}.${page.key}`, page, { vars: { [TAG_VAR]: [tag] } }));
  }
  for (const page of [...(settings.errorPages ?? [])].sort((a, b) => comparePageKeys(a.key, b.key))) out.push(pageRoute(`${ID_PREFIX}.${port}.errors.global.${page.key}`, page, {}));
  return out;
}

/** The global page the unmatched-host 404 answers with (`404`, else `4xx`); undefined without one. */
export function notFoundPage(settings: RenderSettings): ResolvedPage | undefined {
  const pages = settings.errorPages ?? [];
  return pages.find((p) => p.key === '404') ?? pages.find((p) => p.key === '4xx');
}

/** A page as Caddy's `static_response`. Its body may hold Caddy placeholders (`{http.error.status_code}`), filled per request. */
export function pageResponse(page: ResolvedPage, status: string | number): JsonObject {
  return { handler: 'static_response', status_code: status, headers: { 'Content-Type': [page.contentType] }, body: page.body };
}

function pageRoute(id: string, page: ResolvedPage, match: JsonObject): JsonObject {
  return { '@id': id, match: [{ ...match, expression: statusExpression(page.key) }], handle: [pageResponse(page, '{http.error.status_code}')], terminal: true };
}

/** A CEL expression over the error's status: `== 502`, or the class's range. */
function statusExpression(key: string): string {
  const status = '{http.error.status_code}';
  if (!key.endsWith('xx')) return `${status} == ${key}`;
  const base = Number(key[0]) * 100;
  return `${status} >= ${base} && ${status} <= ${base + 99}`;
}
