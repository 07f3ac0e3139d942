/**
 * The Caddy binary integration tests run against: `CADDY_BINARY` (set by the test setup to the
 * newest built Caddy, or by CI to each Caddy in turn), else Debian's `/usr/bin/caddy`. Tests pick
 * their expectations from what this binary says it is, never from its path.
 */
import { execFileSync } from 'node:child_process';
import { atLeast, formatCaddyVersion, parseCaddyVersion, type CaddyVersion } from '../../src/model/caddy-version.js';

export const CADDY_BINARY = process.env['CADDY_BINARY'] ?? '/usr/bin/caddy';

/** `caddy version` of `binary`, parsed; throws naming the binary when it cannot be run. */
export function caddyVersionOf(binary = CADDY_BINARY): CaddyVersion {
  const text = execFileSync(binary, ['version'], { encoding: 'utf8' });
  const version = parseCaddyVersion(text);
  if (version === undefined) throw new Error(`${binary} version printed no x.y.z: ${text}`);
  return version;
}

export function isCaddyAtLeast(min: CaddyVersion, binary = CADDY_BINARY): boolean {
  return atLeast(caddyVersionOf(binary), min);
}

/** Module ids `caddy list-modules` prints for `binary`. */
export function caddyModulesOf(binary = CADDY_BINARY): string[] {
  return execFileSync(binary, ['list-modules'], { encoding: 'utf8' }).split('\n').map((line) => line.trim()).filter((line) => /^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(line));
}

/** Fails (never skips) when `binary` lacks `module`, saying how to get a Caddy that has it. */
export function requireCaddyModule(module: string, binary = CADDY_BINARY): void {
  if (caddyModulesOf(binary).includes(module)) return;
  throw new Error(
    `${binary} (Caddy ${formatCaddyVersion(caddyVersionOf(binary))}) has no module ${module}: run \`npm run build:caddy\` and set CADDY_BINARY to the Caddy it builds (.cache/caddy/v<version>/caddy)`,
  );
}
