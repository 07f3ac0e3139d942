/**
 * Which Caddy an offline command renders for: the one running on the admin port (its executable),
 * else the configured CADDY_BINARY, else the default Caddy (model/caddy-version.ts);
 * `--caddy-version X` overrides the version (for a config to be loaded by another Caddy).
 */
import { DEFAULT_CADDY, formatCaddyVersion, parseCaddyVersion, type CaddyInfo } from '../../model/caddy-version.js';
import { CaddyIdentity, infoOf } from '../../controller/caddy-info.js';
import type { Options } from '../../controller/options.js';
import { UsageError } from './args.js';

export const CADDY_VERSION_FLAG = { 'caddy-version': { type: 'string' } } as const;

export const CADDY_VERSION_HELP = `  --caddy-version X      render for Caddy X (default: the running Caddy, else CADDY_BINARY's version);
                         its modules: CADDY_BINARY's when it is X, else those of \`npm run build:caddy\``;

/** The Caddy to render for, and a line saying which one and why. */
export async function caddyTarget(options: Options, versionFlag: string | undefined): Promise<{ readonly caddy: CaddyInfo; readonly note: string }> {
  const learnt = await new CaddyIdentity({ binary: options.caddy.binary, pid: () => undefined, adminPort: options.caddy.adminPort }).learn();
  const asked = learnt.version === undefined ? undefined : infoOf(learnt);
  if (versionFlag !== undefined) {
    const version = parseCaddyVersion(versionFlag);
    if (version === undefined) throw new UsageError(`--caddy-version must be a version such as 2.11.9 (got "${versionFlag}")`);
    // The modules of the asked binary when it is that version; else those of the project's own build.
    const modules = asked !== undefined && formatCaddyVersion(asked.version) === formatCaddyVersion(version) ? asked.modules : DEFAULT_CADDY.modules;
    return { caddy: { version, modules }, note: `rendering for Caddy ${formatCaddyVersion(version)} (--caddy-version) with ${modules.length} modules known` };
  }
  if (asked !== undefined) return { caddy: asked, note: `rendering for Caddy ${formatCaddyVersion(asked.version)} (${learnt.binary})` };
  return { caddy: DEFAULT_CADDY, note: `rendering for Caddy ${formatCaddyVersion(DEFAULT_CADDY.version)} (no Caddy answered at ${options.caddy.binary}; --caddy-version chooses another)` };
}
