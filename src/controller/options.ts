/**
 * The one place that reads configuration: environment variables, overridden by command-line flags.
 * `resolveOptions` fills in defaults, validates everything at once and returns a frozen, complete
 * object; nothing downstream reads `process.env` or sees `undefined` for a setting with a default.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute, join, relative as relativePath, resolve as resolvePath, sep } from 'node:path';
import { DEFAULT_CADDY } from '../model/caddy-version.js';
import { IngressdError } from '../model/errors.js';
import { FALLBACK_MODES, type FallbackMode } from '../reconciler/last-valid.js';
import { UPSTREAM_MODES, type RenderSettings, type UpstreamMode } from '../model/settings.js';
import { cidrProblem } from '../model/policies.js';
import { parseDurationMs } from '../model/duration.js';
import { resolveStorage } from './storage-options.js';
import { resolveTls } from './tls-options.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'text';
export const API_WRITES = ['auto', 'off'] as const;
export type ApiWrites = (typeof API_WRITES)[number];

/** A node name: what a host name may hold (letters, digits, `.`, `-`, `_`), 1 to 253 characters. */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export interface Options {
  /** Watched manifest directory (absolute). Empty when the command does not need one. */
  readonly manifestDir: string;
  readonly dataDir: string;
  /**
   * Where status files go (absolute): STATUS_DIR, mirroring the manifests' relative paths, else
   * the manifest directory itself (beside each manifest). `statusDirSet` tells which.
   */
  readonly statusDir: string;
  readonly statusDirSet: boolean;
  /** ERROR_PAGES_DIR (absolute): global error pages, read by sources/error-pages-dir.ts; undefined: none. */
  readonly errorPagesDir: string | undefined;
  readonly caddy: {
    readonly binary: string;
    readonly adminAddress: string;
    readonly adminPort: number;
    readonly stopOnShutdown: boolean;
  };
  readonly dns: { readonly address: string; readonly port: number; readonly zone: string };
  /** For the default Caddy until the running one is asked (the controller replaces `caddy`). */
  readonly render: RenderSettings;
  readonly resyncIntervalMs: number;
  /** `last-valid`: a served resource whose file turns invalid keeps serving its last valid version (reconciler/last-valid.ts). */
  readonly fallback: FallbackMode;
  /** This node's name in a fleet (NODE_NAME, default the host name): in status files, metrics and `/readyz`. */
  readonly node: string;
  /**
   * `writes`: `auto` lets the API write manifest files unless the tree cannot take them (api/writable-source.ts);
   * `off` refuses every write (the desired state lives elsewhere: a repository, a ConfigMap).
   */
  readonly api: { readonly host: string; readonly port: number; readonly enabled: boolean; readonly token: string | undefined; readonly writes: ApiWrites };
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
}

/** One row per setting: its environment variable, its flag and its default, for `--help` and the README. */
export interface OptionSpec {
  readonly env: string;
  readonly flag: string | undefined;
  readonly defaultText: string;
  readonly description: string;
  readonly secret?: boolean;
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  { env: 'MANIFEST_DIR', flag: 'dir', defaultText: '(none: required by run, diff)', description: 'Directory of manifest files, watched recursively' },
  { env: 'DATA_DIR', flag: 'data-dir', defaultText: '/var/lib/ingressd', description: 'State: Caddy pid/log/config, DNS registry, certificates' },
  { env: 'STATUS_DIR', flag: 'status-dir', defaultText: '(none: beside each manifest)', description: 'Directory for status files, mirroring the manifest tree (a/web.json -> STATUS_DIR/a/web.status.json); for read-only manifest trees' },
  { env: 'ERROR_PAGES_DIR', flag: 'error-pages-dir', defaultText: '(none)', description: 'Directory of global error pages named by status or class (404.html, 502.html, 5xx.html): every route and the unmatched-host 404; read at start-up and at every resync' },
  { env: 'CADDY_BINARY', flag: 'caddy-binary', defaultText: 'caddy', description: 'Caddy executable started when none is running' },
  { env: 'CADDY_LISTEN_ADDRESS', flag: 'listen-address', defaultText: '0.0.0.0', description: 'Address the ingress listeners bind' },
  { env: 'CADDY_ADMIN_ADDRESS', flag: 'admin-address', defaultText: '127.0.0.1', description: "Caddy admin API address" },
  { env: 'CADDY_ADMIN_PORT', flag: 'admin-port', defaultText: '2019', description: 'Caddy admin API port' },
  { env: 'CADDY_STOP_ON_SHUTDOWN', flag: undefined, defaultText: 'false', description: 'Stop Caddy (and the DNS process) when ingressd exits' },
  { env: 'CADDY_STORAGE', flag: undefined, defaultText: "(Caddy's default, in DATA_DIR)", description: 'Certificate storage shared by a fleet: file_system:<dir> | redis://[user:password@]host:port[/db][?key_prefix=<prefix>] (rediss:// for TLS; Redis needs the built Caddy >= 2.11.1)' },
  { env: 'CADDY_HTTP_PORT', flag: 'http-port', defaultText: '80', description: "Caddy's HTTP port: where redirect_http and the http-01 challenge listen" },
  { env: 'CADDY_HTTPS_PORT', flag: 'https-port', defaultText: '443', description: "Caddy's HTTPS port: tls-alpn-01 is answered there; redirects name the TLS port unless it is 443" },
  { env: 'INTERNAL_DNS_PORT', flag: 'dns-port', defaultText: '5353', description: 'Port of the instance DNS server on 127.0.0.1 (0 = any free port)' },
  { env: 'INTERNAL_DNS_ZONE', flag: 'dns-zone', defaultText: 'ingressd.internal', description: 'Zone of instance names (<instance>.<zone>)' },
  { env: 'UPSTREAM_MODE', flag: 'upstream-mode', defaultText: 'dns', description: 'dns: resolve instances at request time; static: render addresses into Caddy' },
  { env: 'UPSTREAM_REFRESH', flag: undefined, defaultText: '1s', description: "How long Caddy caches an instance's address (dns mode)" },
  { env: 'UPSTREAM_IDLE_TIMEOUT', flag: undefined, defaultText: '5s', description: 'Upstream keep-alive idle timeout (bounds Caddy memory across reloads)' },
  { env: 'STREAM_CLOSE_DELAY', flag: undefined, defaultText: '5m (Caddy 2.7+ only)', description: 'How long WebSockets and other upgraded connections outlive a reload (stream_close_delay; 0 = cut at once)' },
  { env: 'CADDY_GRACE_PERIOD', flag: undefined, defaultText: '10s', description: 'How long a stopping Caddy waits for open connections (apps.http.grace_period; never 0 = for ever)' },
  { env: 'TRUSTED_PROXIES', flag: undefined, defaultText: '(none: the client is the TCP peer)', description: 'Comma-separated CIDRs/addresses of proxies in front of Caddy: for a peer in them, the client IP (IP filter, rate limit) comes from X-Forwarded-For' },
  { env: 'RESYNC_INTERVAL', flag: 'resync-interval', defaultText: '30s', description: 'Full rescan and drift check period' },
  { env: 'FALLBACK', flag: 'fallback', defaultText: 'last-valid', description: 'last-valid: a served resource whose file turns invalid keeps serving its last valid version (Accepted=False, Programmed=True LastValidVersion); none: it stops serving' },
  { env: 'API_LISTEN', flag: 'api-listen', defaultText: '127.0.0.1:8089', description: 'HTTP API address (host:port, or "off")' },
  { env: 'API_WRITES', flag: undefined, defaultText: 'auto', description: 'auto: the API writes manifest files unless the tree is read-only, a ConfigMap volume or a git-sync checkout; off: every write is refused (the desired state lives in a repository or a ConfigMap)' },
  { env: 'NODE_NAME', flag: 'node-name', defaultText: '(the host name)', description: 'Name of this node in a fleet: written into status files (node), metrics (ingressd_node_info) and /readyz' },
  { env: 'API_TOKEN', flag: undefined, defaultText: '(none)', description: 'Bearer token required by the HTTP API; required for a non-loopback API_LISTEN', secret: true },
  { env: 'ACME_EMAIL', flag: undefined, defaultText: '(none)', description: 'ACME account email (required for TLS)' },
  { env: 'ACME_DNS_PROVIDER', flag: undefined, defaultText: '(none)', description: 'DNS provider for dns-01: cloudflare | rfc2136' },
  { env: 'ACME_CHALLENGE', flag: undefined, defaultText: 'dns-01', description: 'dns-01 | http-01 | tls-alpn-01' },
  { env: 'ACME_CA', flag: undefined, defaultText: "(Caddy's default: Let's Encrypt)", description: 'ACME directory URL' },
  { env: 'ACME_CA_ROOT', flag: undefined, defaultText: '(none)', description: "PEM file trusted for the ACME CA's own HTTPS endpoint (private CAs)" },
  { env: 'TLS_ALLOWED_DOMAINS', flag: undefined, defaultText: '(none: no TLS)', description: 'Comma-separated hostnames / *.suffix / * allowed to get certificates' },
  { env: 'DNS_PROPAGATION_TIMEOUT', flag: undefined, defaultText: '(Caddy default)', description: 'dns-01: max wait for DNS propagation, e.g. 2m' },
  { env: 'DNS_RESOLVERS', flag: undefined, defaultText: '(system)', description: 'dns-01: comma-separated resolvers for propagation checks' },
  { env: 'CLOUDFLARE_API_TOKEN', flag: undefined, defaultText: '(none)', description: 'Cloudflare API token with DNS edit permission', secret: true },
  { env: 'RFC2136_SERVER', flag: undefined, defaultText: '(none)', description: 'rfc2136: host:port of the DNS server that accepts TSIG-signed updates (over TCP)' },
  { env: 'RFC2136_KEY_NAME', flag: undefined, defaultText: '(none)', description: 'rfc2136: TSIG key name' },
  { env: 'RFC2136_KEY_ALG', flag: undefined, defaultText: 'hmac-sha256', description: 'rfc2136: TSIG algorithm (hmac-sha1, -sha224, -sha256, -sha384, -sha512)' },
  { env: 'RFC2136_KEY', flag: undefined, defaultText: '(none)', description: 'rfc2136: TSIG secret (base64)', secret: true },
  { env: 'RFC2136_KEY_FILE', flag: undefined, defaultText: '(none)', description: 'rfc2136: absolute path of a file holding only the TSIG secret, read by Caddy (instead of RFC2136_KEY)' },
  { env: 'LOG_LEVEL', flag: 'log-level', defaultText: 'info', description: 'error | warn | info | debug' },
  { env: 'LOG_FORMAT', flag: 'log-format', defaultText: 'text on a terminal, json otherwise', description: 'json | text' },
];

export type Env = Readonly<Record<string, string | undefined>>;
export type Flags = Readonly<Record<string, string | boolean | undefined>>;

/** Resolves every option from the environment and flags. Throws `invalid_option` listing every bad value. */
export function resolveOptions(env: Env, flags: Flags, context: { readonly cwd: string; readonly isTty: boolean }): Options {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const spec = OPTION_SPECS.find((s) => s.env === name);
    const flag = spec?.flag === undefined ? undefined : flags[spec.flag];
    const value = typeof flag === 'string' ? flag : env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const port = (name: string, fallback: number, allowZero = false): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
      problems.push(`${name} must be a port number ${allowZero ? '0' : '1'}-65535, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };
  const duration = (name: string, fallback: string): { text: string; ms: number } => {
    const raw = read(name) ?? fallback;
    const ms = parseDurationMs(raw);
    if (ms === undefined) {
      problems.push(`invalid ${name} "${raw}": expected a duration like '2m', '120s', '1h' or '500ms'`);
      return { text: fallback, ms: parseDurationMs(fallback) ?? 0 };
    }
    return { text: raw, ms };
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    return fallback;
  };
  const address = (name: string, fallback: string): string => {
    const raw = read(name) ?? fallback;
    if (isIP(raw) === 0 && raw !== 'localhost') problems.push(`${name} must be an IP address, got "${raw}"`);
    return raw;
  };

  const dir = read('MANIFEST_DIR');
  const dnsPort = port('INTERNAL_DNS_PORT', 5353, true);
  const httpPort = port('CADDY_HTTP_PORT', 80);
  const httpsPort = port('CADDY_HTTPS_PORT', 443);
  const tls = resolveTls(read, duration, httpPort, problems);
  const api = resolveApi(read('API_LISTEN') ?? '127.0.0.1:8089', read('API_TOKEN'), oneOf('API_WRITES', API_WRITES, 'auto'), problems);
  const node = read('NODE_NAME') ?? hostname();
  if (!NODE_NAME.test(node)) problems.push(`NODE_NAME must be 1-253 letters, digits, dots, dashes or underscores, starting with a letter or digit (such as ingress-2), got "${node}"`);
  const upstreamMode: UpstreamMode = oneOf('UPSTREAM_MODE', UPSTREAM_MODES, 'dns');
  const format = read('LOG_FORMAT');
  const streamCloseDelay = duration('STREAM_CLOSE_DELAY', '5m');
  const gracePeriod = duration('CADDY_GRACE_PERIOD', '10s');
  if (gracePeriod.ms === 0) problems.push('CADDY_GRACE_PERIOD must be more than 0 (0 makes a stopping Caddy wait for ever on open connections)');
  const manifestDir = dir === undefined ? '' : resolvePath(context.cwd, dir);
  const dataDir = resolvePath(context.cwd, read('DATA_DIR') ?? '/var/lib/ingressd');
  const statusDir = read('STATUS_DIR');
  const statusRoot = statusDir === undefined ? manifestDir : resolvePath(context.cwd, statusDir);
  for (const [name, path] of [['DATA_DIR', dataDir], ['STATUS_DIR', statusDir === undefined ? undefined : statusRoot]] as const) {
    // STATUS_DIR naming the manifest directory itself is the default, spelt out.
    const problem = path === undefined || (name === 'STATUS_DIR' && path === manifestDir) ? undefined : insideWatchedTree(name, path, manifestDir);
    if (problem !== undefined) problems.push(problem);
  }
  const options: Options = {
    manifestDir,
    dataDir,
    statusDir: statusRoot,
    statusDirSet: statusDir !== undefined,
    errorPagesDir: ((d) => (d === undefined ? undefined : resolvePath(context.cwd, d)))(read('ERROR_PAGES_DIR')),
    caddy: {
      binary: read('CADDY_BINARY') ?? 'caddy',
      adminAddress: address('CADDY_ADMIN_ADDRESS', '127.0.0.1'),
      adminPort: port('CADDY_ADMIN_PORT', 2019),
      stopOnShutdown: bool('CADDY_STOP_ON_SHUTDOWN', false),
    },
    dns: { address: '127.0.0.1', port: dnsPort, zone: (read('INTERNAL_DNS_ZONE') ?? 'ingressd.internal').toLowerCase() },
    render: {
      listenAddress: address('CADDY_LISTEN_ADDRESS', '0.0.0.0'),
      dnsZone: (read('INTERNAL_DNS_ZONE') ?? 'ingressd.internal').toLowerCase(),
      // Caddy 2.6 dials TCP for a bare resolver address; the port is filled in once the DNS process runs.
      dnsResolver: `udp/127.0.0.1:${dnsPort}`,
      upstreamMode,
      upstreamRefresh: duration('UPSTREAM_REFRESH', '1s').text,
      upstreamIdleTimeout: duration('UPSTREAM_IDLE_TIMEOUT', '5s').text,
      // Rendered only for a Caddy that has the field (2.7+): see render/upstreams.ts.
      streamCloseDelay: streamCloseDelay.ms === 0 ? undefined : streamCloseDelay.text,
      gracePeriod: gracePeriod.text,
      trustedProxies: cidrList('TRUSTED_PROXIES', read('TRUSTED_PROXIES'), problems),
      tls,
      storage: resolveStorage(read('CADDY_STORAGE'), context.cwd, problems),
      httpPort,
      httpsPort,
      // Until the Caddy that ingressd drives is asked (controller/caddy-info.ts).
      caddy: DEFAULT_CADDY,
    },
    resyncIntervalMs: duration('RESYNC_INTERVAL', '30s').ms,
    fallback: oneOf('FALLBACK', FALLBACK_MODES, 'last-valid'),
    node,
    api,
    log: {
      level: oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
      format: format === undefined ? (context.isTty ? 'text' : 'json') : oneOf('LOG_FORMAT', ['json', 'text'] as const, 'json'),
    },
  };
  if (options.resyncIntervalMs < 1000) problems.push(`RESYNC_INTERVAL must be at least 1s, got "${read('RESYNC_INTERVAL')}"`);
  if (problems.length > 0) {
    throw new IngressdError('invalid_option', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return deepFreeze(options);
}

/** The same options with the DNS server's real port (when INTERNAL_DNS_PORT is 0). */
export function withDnsPort(options: Options, port: number): Options {
  return deepFreeze({
    ...options,
    dns: { ...options.dns, port },
    render: { ...options.render, dnsResolver: `udp/${options.dns.address}:${port}` },
  });
}

function resolveApi(listen: string, token: string | undefined, writes: ApiWrites, problems: string[]): Options['api'] {
  if (listen.toLowerCase() === 'off') return { host: '', port: 0, enabled: false, token, writes };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`API_LISTEN must be host:port (e.g. 127.0.0.1:8089) or "off", got "${listen}"`);
    return { host: '127.0.0.1', port: 8089, enabled: false, token, writes };
  }
  if (!isLoopback(host) && token === undefined) {
    problems.push(`API_LISTEN ${listen} is not a loopback address: set API_TOKEN so the API is not open to the network`);
  }
  return { host, port, enabled: true, token, writes };
}

/**
 * Why a directory of ingressd's own files may not sit where it is, or undefined. Inside the
 * watched tree it is allowed only within a dot-directory (`MANIFEST_DIR/.ingressd/`), which the
 * watcher and scans never enter; anywhere else there its files would be read as manifests.
 */
export function insideWatchedTree(name: string, path: string, manifestDir: string): string | undefined {
  if (manifestDir === '') return undefined;
  const rel = relativePath(manifestDir, path);
  if (rel.startsWith('..') || isAbsolute(rel)) return undefined;
  if (rel !== '' && rel.split(sep).some((segment) => segment.startsWith('.'))) return undefined;
  return `${name} ${path} is inside MANIFEST_DIR ${manifestDir}: ingressd would read its own files as manifests. Move it out of the manifest tree, or into a dot-directory there (e.g. ${join(manifestDir, '.ingressd')}), which is never read`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Trimmed non-empty entries of a comma-separated list of CIDRs or addresses; a bad one is a problem naming it. */
function cidrList(name: string, raw: string | undefined, problems: string[]): readonly string[] {
  const entries = (raw ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    const problem = cidrProblem(entry);
    if (problem !== undefined) problems.push(`${name} entry "${entry}" ${problem}`);
  }
  return entries;
}
