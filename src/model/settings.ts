/**
 * Settings the pure core needs, resolved once at startup by `controller/options.ts`.
 * Plain frozen data: validation and render never read the environment themselves.
 */
import type { ResolvedPage } from './error-pages.js';
import type { CaddyInfo } from './caddy-version.js';

export const ACME_CHALLENGES = ['dns-01', 'http-01', 'tls-alpn-01'] as const;
export type AcmeChallenge = (typeof ACME_CHALLENGES)[number];

export const DNS_PROVIDERS = ['cloudflare', 'rfc2136'] as const;
export type DnsProviderName = (typeof DNS_PROVIDERS)[number];

/** The dns-01 provider Caddy uses to publish challenge records. */
export type DnsProviderSettings =
  | { readonly name: 'cloudflare'; readonly apiToken: string }
  | {
      /** RFC 2136 dynamic updates, TSIG-signed, to a DNS server you run (BIND, Knot, PowerDNS, …). */
      readonly name: 'rfc2136';
      /** `host:port` of the primary server that accepts the updates (over TCP). */
      readonly server: string;
      readonly keyName: string;
      /** TSIG algorithm, e.g. `hmac-sha256`. */
      readonly keyAlg: string;
      /**
       * The base64 TSIG secret, or, when it comes from RFC2136_KEY_FILE, Caddy's `{file.<path>}`
       * placeholder: then Caddy reads the file and the secret never passes through ingressd.
       */
      readonly key: string;
    };

/** The secret in `provider` (to scrub from messages), or undefined when it holds none. */
export function providerSecret(provider: DnsProviderSettings | undefined): string | undefined {
  if (provider === undefined) return undefined;
  switch (provider.name) {
    case 'cloudflare':
      return provider.apiToken;
    case 'rfc2136':
      return provider.key.startsWith('{file.') ? undefined : provider.key;
  }
}

/**
 * Where Caddy keeps certificates, ACME accounts and its locks (Caddy's top-level `storage`), from
 * CADDY_STORAGE. Nodes of a fleet that share one storage obtain each certificate once, load what
 * another node obtained and answer each other's HTTP-01 and TLS-ALPN-01 challenges.
 */
export type StorageSettings =
  | {
      /** A directory every node mounts (certmagic's own locking: lock files created with O_EXCL). */
      readonly module: 'file_system';
      /** Absolute path. */
      readonly root: string;
    }
  | {
      /** Module `caddy.storage.redis` (pberkel/caddy-storage-redis): only in the built Caddy >= 2.11.1. */
      readonly module: 'redis';
      readonly host: string;
      readonly port: number;
      readonly db: number;
      /** Empty: no ACL user. */
      readonly username: string;
      /** Empty: no authentication. A secret: redacted in logs and `ingressd render`. */
      readonly password: string;
      /** Prefix of every Redis key; empty means the module's default (`caddy`). */
      readonly keyPrefix: string;
      /** `rediss://`: connect over TLS. */
      readonly tls: boolean;
    };

/** The Caddy module a storage needs, e.g. `caddy.storage.redis`. */
export function storageModule(storage: StorageSettings): string {
  return `caddy.storage.${storage.module}`;
}

export const UPSTREAM_MODES = ['dns', 'static'] as const;
export type UpstreamMode = (typeof UPSTREAM_MODES)[number];

export interface AcmeSettings {
  readonly email: string;
  /** ACME directory URL; undefined means Caddy's default (Let's Encrypt production). */
  readonly ca: string | undefined;
  /** PEM file trusted for the CA's own HTTPS endpoint (private CAs such as Pebble). */
  readonly caRootPemFile: string | undefined;
  readonly challenge: AcmeChallenge;
  /** Present for dns-01. */
  readonly dnsProvider: DnsProviderSettings | undefined;
  /** Caddy duration string such as `2m`, only for dns-01. */
  readonly propagationTimeout: string | undefined;
  readonly resolvers: readonly string[];
}

/** What validation needs to judge TLS rules. */
export interface TlsSettings {
  /** Complete ACME settings, or undefined when ACME is not configured. */
  readonly acme: AcmeSettings | undefined;
  /** When `acme` is undefined: what is missing, for the `tls_not_configured` message. */
  readonly acmeMissing: string;
  /** The challenge that would be used (pattern hosts need dns-01). */
  readonly challenge: AcmeChallenge;
  /** Trimmed, non-empty entries of TLS_ALLOWED_DOMAINS, lowercased. */
  readonly allowedDomains: readonly string[];
  /** Caddy's HTTP port (80 unless CADDY_HTTP_PORT says otherwise): where `redirect_http` listens. */
  readonly httpPort: number;
}

/** What render needs besides the resources. */
export interface RenderSettings {
  /** Address every ingress listener binds (`0.0.0.0`, `127.0.0.1`, `::`). */
  readonly listenAddress: string;
  readonly dnsZone: string;
  /** Resolver Caddy asks for `<instance>.<zone>`: `udp/127.0.0.1:<port>`. */
  readonly dnsResolver: string;
  readonly upstreamMode: UpstreamMode;
  /** Caddy duration: how long Caddy caches an instance's A answer. */
  readonly upstreamRefresh: string;
  /** Caddy duration: upstream keep-alive idle timeout (bounds memory across reloads). */
  readonly upstreamIdleTimeout: string;
  /**
   * Caddy duration rendered as `stream_close_delay` on every `reverse_proxy`: how long upgraded
   * connections (WebSockets) opened through an old config live on after a reload replaced it.
   * Undefined means "do not render" (Caddy closes them at once), which is also what a Caddy older
   * than 2.7 needs: 2.6.2 rejects the field. Render leaves it out for a `caddy` older than 2.7.
   */
  readonly streamCloseDelay: string | undefined;
  /** Caddy duration rendered as `apps.http.grace_period`: how long a stopping Caddy waits for open connections. */
  readonly gracePeriod: string;
  readonly tls: TlsSettings;
  /**
   * Caddy's top-level `storage`, or undefined (CADDY_STORAGE unset): then render leaves `storage`
   * out and ingressd never touches what Caddy has there (its default: `DATA_DIR/caddy/data/caddy`).
   */
  readonly storage: StorageSettings | undefined;
  /** Caddy's http_port / https_port for automatic HTTPS and ACME challenges. */
  readonly httpPort: number;
  readonly httpsPort: number;
  /**
   * TRUSTED_PROXIES: CIDRs or addresses of proxies in front of Caddy. For a TCP peer in them, the
   * client IP the IP filter and rate limit see comes from X-Forwarded-For (render/client-ip.ts).
   * Empty: the client is the TCP peer.
   */
  readonly trustedProxies: readonly string[];
  /** The Caddy that will load the config: render uses only what it has (see render/requirements.ts). */
  readonly caddy: CaddyInfo;
  /** ERROR_PAGES_DIR's pages, for every route and the unmatched-host 404 (render/error-pages.ts); absent: none. */
  readonly errorPages?: readonly ResolvedPage[];
}
