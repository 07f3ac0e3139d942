/**
 * The Caddy the integration tests drive (CADDY_BINARY, chosen by global-setup.ts), and what it is:
 * tests whose expectation depends on the Caddy version read it from here, so each one checks the
 * behaviour of the Caddy it runs on.
 */
import { execFileSync } from 'node:child_process';
import { atLeast, etagScheme, parseCaddyVersion, type CaddyInfo, type CaddyVersion, type EtagScheme } from '../../src/model/caddy-version.js';
import { parseModuleList } from '../../src/controller/caddy-info.js';

export const CADDY = process.env['CADDY_BINARY'] ?? 'caddy';

/** Debian's package (2.6.2, no plugins): for the tests whose subject is a Caddy without a module. */
export const DEBIAN_CADDY = '/usr/bin/caddy';

function ask(args: readonly string[]): string {
  return execFileSync(CADDY, args, { encoding: 'utf8', timeout: 10_000, maxBuffer: 4 * 1024 * 1024 });
}

export const CADDY_INFO: CaddyInfo = { version: parseCaddyVersion(ask(['version'])), modules: parseModuleList(ask(['list-modules'])) };

export const CADDY_ETAG: EtagScheme = etagScheme(CADDY_INFO);

/** The body Caddy sends for `GET /config/` holding `json`: json.Encoder's output, with its newline. */
export function configBody(json: string): string {
  return `${json}\n`;
}

/** True when the Caddy under test is `min` or later. */
export function isCaddyAtLeast(min: CaddyVersion): boolean {
  if (CADDY_INFO.version === undefined) throw new Error(`${CADDY} version printed no x.y.z`);
  return atLeast(CADDY_INFO.version, min);
}
