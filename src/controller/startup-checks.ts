/**
 * Checks made once at startup that `resolveOptions` cannot make alone: they need the file system
 * or the manifests. Bad values that make a run pointless throw `invalid_option` before anything
 * starts; settings that work but will surprise someone are logged as warnings.
 */
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { atLeast, formatCaddyVersion, SINCE, type CaddyInfo } from '../model/caddy-version.js';
import { IngressdError } from '../model/errors.js';
import type { Logger } from '../model/logger.js';
import type { Manifest } from '../model/manifest.js';
import { storageModule } from '../model/settings.js';
import { insideWatchedTree, type Options } from './options.js';

/**
 * Fails fast, before Caddy or the DNS process start, on files the options name: ACME_CA_ROOT must
 * be readable and hold a PEM certificate (Caddy would otherwise reject every config with TLS).
 * Rejects with `invalid_option`; the message names the variable, the path and the reason.
 */
export async function checkOptionFiles(options: Options): Promise<void> {
  checkRealPaths(options);
  await checkKeyFile(options);
  const root = options.render.tls.acme?.caRootPemFile;
  if (root === undefined) return;
  let text: string;
  try {
    text = await readFile(root, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new IngressdError('invalid_option', `ACME_CA_ROOT "${root}" cannot be read (${reason}): point it at the PEM file of the CA's own HTTPS certificate`, { file: root, cause: err });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new IngressdError('invalid_option', `ACME_CA_ROOT "${root}" holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line): point it at the CA's certificate in PEM form`, { file: root });
  }
}

/**
 * `resolveOptions` compares DATA_DIR and STATUS_DIR with MANIFEST_DIR as written; the watcher
 * follows links, so compare where they really are too (MANIFEST_DIR as git-sync's link, DATA_DIR
 * given by its real path inside the worktree). A path that does not exist yet counts from its
 * nearest existing parent.
 */
function checkRealPaths(options: Options): void {
  if (options.manifestDir === '') return;
  const tree = realPath(options.manifestDir);
  const dirs: [string, string | undefined][] = [['DATA_DIR', options.dataDir], ['STATUS_DIR', options.statusDirSet ? options.statusDir : undefined]];
  for (const [name, path] of dirs) {
    if (path === undefined) continue;
    const real = realPath(path);
    if (name === 'STATUS_DIR' && real === tree) continue;
    const problem = insideWatchedTree(name, real, tree);
    if (problem !== undefined) throw new IngressdError('invalid_option', `${problem} (${path} and ${options.manifestDir} resolved through their links)`);
  }
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(realPath(parent), basename(path));
  }
}

/** RFC2136_KEY_FILE (passed to Caddy as `{file.<path>}`) must be readable and not empty; its content is never logged. */
async function checkKeyFile(options: Options): Promise<void> {
  const provider = options.render.tls.acme?.dnsProvider;
  const file = provider?.name === 'rfc2136' ? /^\{file\.(.+)\}$/.exec(provider.key)?.[1] : undefined;
  if (file === undefined) return;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new IngressdError('invalid_option', `RFC2136_KEY_FILE "${file}" cannot be read (${reason}): point it at a file holding only the base64 TSIG secret`, { file, cause: err });
  }
  if (text.trim().length === 0) throw new IngressdError('invalid_option', `RFC2136_KEY_FILE "${file}" is empty: it must hold the base64 TSIG secret`, { file });
}

/**
 * Warnings about the configuration as it meets the manifests, given every manifest of the initial
 * scan (any order). Logs; never throws. Warns when:
 * - ingresses ask for TLS but ACME is not configured (names the files and what is missing; those
 *   rules are rejected with `tls_not_configured`);
 * - ACME uses Caddy's default CA (Let's Encrypt) with http-01 off port 80 or tls-alpn-01 off port
 *   443: public CAs validate only on those ports, so issuance will fail;
 * - ACME_CA_ROOT is set without ACME_CA (it then applies to Let's Encrypt's endpoint).
 * Returns the warnings logged, for tests.
 */
export function checkStartup(options: Options, manifests: Iterable<Manifest>, logger: Logger): string[] {
  const warnings: string[] = [];
  const warn = (message: string, meta: Readonly<Record<string, unknown>>): void => {
    warnings.push(message);
    logger.warn(message, meta);
  };
  const { tls, httpPort, httpsPort } = options.render;
  const tlsFiles = [...manifests]
    .filter((m) => m.resource?.kind === 'Ingress' && m.resource.rules.some((r) => r.tls))
    .map((m) => m.file)
    .sort();
  const acme = tls.acme;
  if (acme === undefined) {
    if (tlsFiles.length > 0) {
      warn(`TLS ingresses exist but ACME is not configured (${tls.acmeMissing}); their TLS rules are rejected with tls_not_configured`, {
        files: tlsFiles,
        missing: tls.acmeMissing,
      });
    }
    return warnings;
  }
  if (acme.ca === undefined && acme.challenge === 'http-01' && httpPort !== 80) {
    warn(`ACME_CHALLENGE=http-01 with CADDY_HTTP_PORT=${httpPort}: Let's Encrypt (the default ACME_CA) validates http-01 on port 80 only, so issuance will fail unless port 80 is forwarded to ${httpPort}`, { httpPort });
  }
  if (acme.ca === undefined && acme.challenge === 'tls-alpn-01' && httpsPort !== 443) {
    warn(`ACME_CHALLENGE=tls-alpn-01 with CADDY_HTTPS_PORT=${httpsPort}: Let's Encrypt (the default ACME_CA) validates tls-alpn-01 on port 443 only, so issuance will fail unless port 443 is forwarded to ${httpsPort}`, { httpsPort });
  }
  if (acme.ca === undefined && acme.caRootPemFile !== undefined) {
    warn('ACME_CA_ROOT is set but ACME_CA is not: the root is trusted for the default CA (Let\'s Encrypt); set ACME_CA to your private CA\'s directory URL', { caRoot: acme.caRootPemFile });
  }
  return warnings;
}

/**
 * Refuses to run when the Caddy that runs cannot hold the storage CADDY_STORAGE names: the storage
 * is process-wide (every certificate of every rule lives there), so there is no rule to leave out.
 * `file_system` is in every Caddy; `redis` needs module `caddy.storage.redis`. Throws
 * `caddy_module_missing` naming the module, the Caddy asked and the fix; returns otherwise.
 */
export function checkStorageModule(options: Options, caddy: CaddyInfo & { readonly binary: string }): void {
  const storage = options.render.storage;
  if (storage === undefined || caddy.version === undefined) return;
  const module = storageModule(storage);
  if (caddy.modules.includes(module)) return;
  throw new IngressdError(
    'caddy_module_missing',
    `CADDY_STORAGE asks for ${storage.module} storage, but the Caddy that runs (${caddy.binary}, Caddy ${formatCaddyVersion(caddy.version)}) has no module ${module}. ` +
      'Set CADDY_BINARY to a Caddy built with github.com/pberkel/caddy-storage-redis (npm run build:caddy or the Dockerfile build it into Caddy 2.11.1 and later; stop the running Caddy so ingressd starts that one), ' +
      'or use CADDY_STORAGE=file_system:<directory shared by every node>, which every Caddy has',
    { module },
  );
}

/**
 * A warning for a `file_system` CADDY_STORAGE on a Caddy older than 2.9, or undefined. Such a Caddy
 * still works alone, but in a fleet it writes the shared files in place (another node can read a
 * half-written certificate) and its lock lets two nodes that ask at the same instant both order
 * (certmagic 0.17, Debian's 2.6.2, takes a lock file not yet written for a stale one).
 */
export function storageWarning(options: Options, caddy: CaddyInfo): string | undefined {
  const storage = options.render.storage;
  if (storage?.module !== 'file_system' || caddy.version === undefined || atLeast(caddy.version, SINCE.atomicFileStorage)) return undefined;
  return (
    `CADDY_STORAGE=file_system on Caddy ${formatCaddyVersion(caddy.version)}: Caddy before 2.9 writes the shared files in place, so another node can read a half-written certificate, ` +
    'and two nodes taking the lock at the same instant can both order one; for a fleet, run Caddy 2.9 or later (npm run build:caddy) on every node, or use Redis storage'
  );
}
