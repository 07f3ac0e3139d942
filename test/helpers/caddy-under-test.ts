/**
 * The Caddy the integration tests drive (CADDY_BINARY, chosen by global-setup.ts), and what it is:
 * tests whose expectation depends on the Caddy version read it from here, so each one checks the
 * behaviour of the Caddy it runs on.
 */
import { execFileSync } from 'node:child_process';
import { atLeast, etagScheme, formatCaddyVersion, parseCaddyVersion, type CaddyInfo, type CaddyVersion, type EtagScheme } from '../../src/model/caddy-version.js';
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

/** The same path as CADDY, for tests that name it so. */
export const CADDY_BINARY = CADDY;

/** True when the Caddy under test is `min` or later. */
export function isCaddyAtLeast(min: CaddyVersion): boolean {
  if (CADDY_INFO.version === undefined) throw new Error(`${CADDY} version printed no x.y.z`);
  return atLeast(CADDY_INFO.version, min);
}

/** Fails (never skips) when the Caddy under test lacks `module`, saying how to get a Caddy that has it. */
export function requireCaddyModule(module: string): void {
  if (CADDY_INFO.modules.includes(module)) return;
  throw new Error(`${CADDY} (Caddy ${formatCaddyVersion(CADDY_INFO.version)}) has no module ${module}: run \`npm run build:caddy\` and set CADDY_BINARY to the Caddy it builds (.cache/caddy/v<version>/caddy)`);
}
