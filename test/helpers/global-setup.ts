/**
 * Chooses the Caddy the integration tests drive, once per run, and hands it to every test worker
 * (and every ingressd they start) as CADDY_BINARY:
 * 1. CADDY_BINARY when set (`.ci/run` sets it to run the integration tests on each Caddy);
 * 2. else the newest Caddy `scripts/build-caddy.sh` built (the first `caddy` line of caddy/modules.pin);
 * 3. else `caddy` on PATH (Debian's 2.6.2, say), with a note that the plugins' tests need a build.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

function builtCaddy(): string | undefined {
  const pins = readFileSync(join(ROOT, 'caddy', 'modules.pin'), 'utf8');
  const newest = /^caddy\s+(\S+)/m.exec(pins)?.[1];
  if (newest === undefined) return undefined;
  const path = join(process.env['INGRESSD_CADDY_CACHE'] ?? join(ROOT, '.cache', 'caddy'), newest, 'caddy');
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

export default function globalSetup(): void {
  const built = builtCaddy();
  const chosen = process.env['CADDY_BINARY'] ?? built ?? 'caddy';
  process.env['CADDY_BINARY'] = chosen;
  let version = 'not runnable';
  try {
    version = execFileSync(chosen, ['version'], { encoding: 'utf8', timeout: 10_000 }).split(' ')[0]!.trim();
  } catch {
    // reported below; the tests that start Caddy fail with the path in their message
  }
  const hint = chosen === 'caddy' ? ' (no built Caddy: `npm run build:caddy` builds one with the plugins)' : '';
  process.stdout.write(`\nintegration tests drive Caddy ${version} at ${chosen}${hint}\n`);
}
