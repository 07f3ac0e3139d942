/**
 * The render settings that can change while ingressd runs, and how the controller follows them
 * at every resync: the Caddy that runs (an upgrade, a restart into another binary) and
 * ERROR_PAGES_DIR's pages. Each follower tells the reconciler and answers whether the caller
 * must queue a Caddy sync.
 */
import { stableStringify } from '../model/canonical.js';
import type { ResolvedPage } from '../model/error-pages.js';
import type { Logger } from '../model/logger.js';
import type { Reconciler } from '../reconciler/reconciler.js';
import { readErrorPagesDir } from '../sources/error-pages-dir.js';
import { infoOf, logCaddy, sameCaddy, type LearntCaddy } from './caddy-info.js';

/**
 * When the running Caddy is another one than the reconciler renders for, makes it render for that
 * one from the next sync; true when it did. A Caddy that cannot be asked is logged and kept.
 */
export async function followCaddy(identity: { learn(): Promise<LearntCaddy>; changed(): Promise<boolean> }, reconciler: Reconciler, logger: Logger): Promise<boolean> {
  try {
    if (!(await identity.changed())) return false;
    const learnt = await identity.learn();
    const next = infoOf(learnt);
    if (sameCaddy(next, reconciler.caddy)) return false;
    logCaddy(logger, 'another Caddy runs now; rendering for it', learnt);
    reconciler.useCaddy(next);
    return true;
  } catch (err) {
    logger.warn('could not learn which Caddy runs; rendering as before', { error: String(err) });
    return false;
  }
}

/**
 * ERROR_PAGES_DIR read again on each `read()` (no directory: no pages, no I/O). Each problem (a
 * file left out) is logged once while it lasts; the pages' keys are logged when they change.
 */
export class ErrorPagesFollower {
  readonly #dir: string | undefined;
  readonly #logger: Logger;
  #last = stableStringify([]);
  #logged = new Set<string>();

  constructor(dir: string | undefined, logger: Logger) {
    this.#dir = dir;
    this.#logger = logger;
  }

  /** The pages now, and whether they differ from the last `read()`'s (the first: whether there are any). */
  read(): { readonly pages: readonly ResolvedPage[]; readonly changed: boolean } {
    if (this.#dir === undefined) return { pages: [], changed: false };
    const { pages, problems } = readErrorPagesDir(this.#dir);
    for (const problem of problems) if (!this.#logged.has(problem)) this.#logger.warn('an error page of ERROR_PAGES_DIR is left out', { problem });
    this.#logged = new Set(problems);
    const text = stableStringify(pages);
    const changed = text !== this.#last;
    this.#last = text;
    if (changed) this.#logger.info('global error pages from ERROR_PAGES_DIR', { dir: this.#dir, pages: pages.map((p) => p.key) });
    return { pages, changed };
  }
}
