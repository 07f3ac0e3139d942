/**
 * The directory side of the safety net: the initial scan (every manifest parsed before Caddy sees
 * anything) and the periodic rescan that catches what the watcher missed. Every rescan notices
 * files that appeared or vanished; every STAT_EVERY-th one (and any rescan the watcher asks for)
 * also stat()s every file to notice missed changes, which at 10,000 files is most of its cost.
 */
import PQueue from 'p-queue';
import type { Logger } from '../model/logger.js';
import { scanManifests, sameStamp, type FileStamp, type ScanProblem } from './scan.js';

export interface RescannerOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** Parses one manifest now (initial scan only). */
  readonly syncFile: (file: string) => Promise<unknown>;
  /** Queues one manifest; `retry` → with backoff, after a failure. */
  readonly enqueueFile: (file: string, retry: boolean) => void;
  readonly enqueueCaddy: () => void;
  /** Manifests the reconciler knows now. */
  readonly knownFiles: () => readonly string[];
  /** Manifests that name files beside them (users files, error pages): read again by every rescan that stat()s, which does not stat those files. */
  readonly referencingFiles?: () => readonly string[];
}

const STAT_EVERY = 10;

export class Rescanner {
  readonly #options: RescannerOptions;
  #stamps = new Map<string, FileStamp | undefined>();
  #rescans = 0;
  /** Problems logged already (loops, dangling directory links): each is logged once, not every rescan. */
  readonly #reported = new Set<string>();

  constructor(options: RescannerOptions) {
    this.#options = options;
  }

  /** Parses every manifest; one unreadable file is retried later with backoff, never fatal. */
  async initial(): Promise<void> {
    const { dir, logger } = this.#options;
    const scanned = await scanManifests(dir, { onProblem: (p) => this.#report(p) });
    const parse = new PQueue({ concurrency: 16 });
    await parse.addAll(
      [...scanned.keys()].map((file) => async () => {
        await this.#options.syncFile(file).catch((err: unknown) => {
          logger.warn('cannot read a manifest; retrying with backoff', { file, error: String(err) });
          this.#options.enqueueFile(file, true);
        });
      }),
    );
    this.#stamps = scanned;
    logger.info('initial scan done', { manifests: scanned.size, dir });
  }

  /** Queues what changed on disk since the last scan, then the Caddy drift check. Never rejects. */
  async rescan(full: boolean): Promise<void> {
    const withStamps = full || ++this.#rescans % STAT_EVERY === 0;
    let scanned;
    try {
      scanned = await scanManifests(this.#options.dir, { stamps: withStamps, onProblem: (p) => this.#report(p) });
    } catch (err) {
      this.#options.logger.warn('rescanning the manifest directory failed; checking Caddy anyway', { error: String(err) });
      this.#options.enqueueCaddy();
      return;
    }
    for (const [file, stamp] of scanned) {
      const known = this.#stamps.get(file);
      if (withStamps ? !sameStamp(stamp, known) : !this.#stamps.has(file)) this.#options.enqueueFile(file, false);
      if (!withStamps && known !== undefined) scanned.set(file, known);
    }
    for (const file of this.#options.knownFiles()) if (!scanned.has(file)) this.#options.enqueueFile(file, false);
    if (withStamps) for (const file of this.#options.referencingFiles?.() ?? []) this.#options.enqueueFile(file, false);
    this.#stamps = scanned;
    this.#options.enqueueCaddy();
  }

  #report(problem: ScanProblem): void {
    if (this.#reported.has(problem.message)) return;
    this.#reported.add(problem.message);
    this.#options.logger.warn('a path in the manifest directory is skipped', { path: problem.path, problem: problem.message });
  }
}
