/**
 * What Caddy holds, read with `GET /config/` or, after ingressd's own successful write, known
 * without asking: the config just written and the ETag Caddy computes for it. At 10,000 hosts a
 * read costs ~20 ms of a ~130 ms reconcile; a reconcile triggered by a manifest change skips it.
 *
 * Never trusted blindly: every write that follows a remembered config carries its ETag as
 * If-Match, so a config changed behind ingressd's back fails with 412, and the caller reads again.
 * Resyncs ask for a real read (`read(false)`) to notice out-of-band changes at rest. The ETag
 * scheme (FNV-1a before Caddy 2.8, xxhash64 since) is learnt from every real read, so a Caddy
 * upgraded under a running ingressd is followed from its first read on.
 */
import type { JsonObject } from '../model/json.js';
import type { Logger } from '../model/logger.js';
import type { EtagScheme } from '../model/caddy-version.js';
import { caddyConfigEtag, etagSchemeOf } from './caddy-etag.js';
import type { CaddyClient, LiveConfig } from './caddy-client.js';

/** Where `applyDesired` gets the live config from, and tells what it wrote. */
export interface LiveConfigSource {
  /** The live config; with `cached` true when it was not read from Caddy just now. */
  read(signal?: AbortSignal): Promise<LiveConfig & { readonly cached: boolean }>;
  /** Caddy accepted a write of exactly `config`. */
  written(config: JsonObject): void;
  /** A write failed or a precondition did not hold: what is remembered may be wrong. */
  forget(): void;
}

/** Reads Caddy every time: for callers that must see the real thing (and for tests). */
export function uncachedLiveConfig(client: CaddyClient): LiveConfigSource {
  return {
    read: async (signal) => ({ ...(await client.getConfig(signal)), cached: false }),
    written: () => undefined,
    forget: () => undefined,
  };
}

/** A config ingressd wrote; its ETag is computed once it is needed, or when the process is idle. */
interface Remembered {
  readonly config: JsonObject;
  readonly scheme: EtagScheme;
  etag: string | undefined;
}

export class LiveConfigCache implements LiveConfigSource {
  readonly #client: CaddyClient;
  readonly #logger: Logger | undefined;
  #known: LiveConfig | Remembered | undefined;
  #verifyNext = true;
  /** Cleared for good when Caddy ever reports an ETag other than the one computed for its config. */
  #etagsAgree = true;
  /** A write was remembered since the last comparison of ETags. */
  #unchecked = false;
  #scheme: EtagScheme;

  /** `scheme`: what the Caddy is expected to use until a read shows otherwise. */
  constructor(client: CaddyClient, logger?: Logger, scheme: EtagScheme = 'xxhash64-header') {
    this.#client = client;
    this.#logger = logger;
    this.#scheme = scheme;
  }

  /** The next `read` asks Caddy (a resync, or Caddy may have restarted). */
  verifyNext(): void {
    this.#verifyNext = true;
  }

  async read(signal?: AbortSignal): Promise<LiveConfig & { readonly cached: boolean }> {
    const known = this.#known;
    if (!this.#verifyNext && known !== undefined) {
      if ('bytes' in known) return { ...known, cached: true };
      return { config: known.config, etag: etagOf(known), bytes: 0, cached: true };
    }
    const live = await this.#client.getConfig(signal);
    this.#verifyNext = false;
    this.#known = live;
    this.#learnScheme(live.etag);
    this.#checkEtag(live);
    return { ...live, cached: false };
  }

  /**
   * The ETag (an encoding of the whole config: ~1.5 ms at 10,000 hosts) is not computed here but
   * after the current reconcile, so it never delays the write it follows; a read that comes first
   * computes it itself.
   */
  written(config: JsonObject): void {
    this.#unchecked = true;
    if (!this.#etagsAgree) {
      this.#known = undefined;
      return;
    }
    const remembered: Remembered = { config, scheme: this.#scheme, etag: undefined };
    this.#known = remembered;
    setImmediate(() => etagOf(remembered));
  }

  forget(): void {
    this.#known = undefined;
  }

  /** A Caddy that tags with another scheme than before (an upgrade, a downgrade) gets a fresh comparison. */
  #learnScheme(etag: string | undefined): void {
    const scheme = etag === undefined ? undefined : etagSchemeOf(etag);
    if (scheme === undefined || scheme === this.#scheme) return;
    this.#logger?.info("Caddy's config ETag scheme changed", { was: this.#scheme, now: scheme });
    this.#scheme = scheme;
    this.#etagsAgree = true;
  }

  /**
   * The computed ETag must equal Caddy's for the same config, or every remembered write would fail
   * its If-Match once and cost a read anyway. Checked on the first real read after a write (the
   * check costs an encoding of the whole config); when they ever differ (a Caddy version that
   * encodes differently), remembering stops.
   */
  #checkEtag(live: LiveConfig): void {
    if (!this.#etagsAgree || !this.#unchecked || live.etag === undefined || live.config === null) return;
    this.#unchecked = false;
    const computed = caddyConfigEtag(live.config, this.#scheme);
    if (computed === live.etag) return;
    this.#etagsAgree = false;
    this.#known = undefined;
    this.#logger?.warn("Caddy's config ETag differs from the one ingressd computes; every reconcile now reads Caddy's config first", { caddy: live.etag, computed });
  }
}

function etagOf(remembered: Remembered): string {
  remembered.etag ??= caddyConfigEtag(remembered.config, remembered.scheme);
  return remembered.etag;
}
