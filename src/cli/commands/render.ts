/**
 * `ingressd render --dir DIR`: the Caddy JSON ingressd would apply for the valid manifests, as a
 * complete config (admin address included) that `caddy run --config` or `caddy validate` accepts.
 * Secrets are redacted unless `--show-secrets`.
 */
import { stableStringify } from '../../model/canonical.js';
import { redactSecrets } from '../../render/index.js';
import { desiredState } from '../../reconciler/desired-state.js';
import { mergeOwned } from '../../reconciler/ownership.js';
import { precedenceFromStatuses } from '../../reconciler/precedence.js';
import { readLastValid } from '../../reconciler/last-valid-file.js';
import { createStatusWriter } from '../../reconciler/status-writer.js';
import { errorPagesOf } from '../../sources/error-pages-dir.js';
import { loadDirectory } from '../../sources/load.js';
import { resolveOptions } from '../../controller/options.js';
import { CONFIG_FLAGS, configFlagsHelp, parse, UsageError, type CommandIo } from './args.js';
import { CADDY_VERSION_FLAG, CADDY_VERSION_HELP, caddyTarget } from './caddy-target.js';

export const RENDER_HELP = `Usage: ingressd render --dir DIR [--show-secrets] [--caddy-version X]

Prints the Caddy JSON config ingressd would apply for the valid manifests under DIR.
Invalid manifests are left out (see 'ingressd validate'); conflicts are settled as 'ingressd run'
settles them, from the status files beside the manifests. Rules that this Caddy cannot serve (a
module it lacks, a feature of a later version) are left out, as 'run' leaves them out. Exit status:
0, or 2 on a usage error.

Options:
  --show-secrets         print API tokens and basic-auth password hashes instead of <redacted>
${CADDY_VERSION_HELP}
${configFlagsHelp()}`;

export async function renderCommand(io: CommandIo): Promise<number> {
  const { flags } = parse(io, { 'show-secrets': { type: 'boolean' }, ...CADDY_VERSION_FLAG, ...CONFIG_FLAGS }, false);
  if (flags['help']) {
    io.stdout(`${RENDER_HELP}\n`);
    return 0;
  }
  const options = resolveOptions(io.env, flags, { cwd: io.cwd, isTty: io.isTty });
  if (options.manifestDir === '') throw new UsageError('render needs --dir DIR (or MANIFEST_DIR)');
  const manifests = await loadDirectory(options.manifestDir);
  const statuses = createStatusWriter(options.statusDir, { mirrored: options.statusDirSet }); // only read() is used: render writes nothing
  const acceptedSince = await precedenceFromStatuses(manifests.map((m) => m.file), (file) => statuses.read(file));
  const target = await caddyTarget(options, flags['caddy-version'] as string | undefined);
  io.stderr(`${target.note}\n`);
  const lastValid = readLastValid(options.dataDir, options.fallback);
  const result = desiredState({ manifests, acceptedSince, settings: { ...options.render, caddy: target.caddy, errorPages: errorPagesOf(options.errorPagesDir) }, ...(lastValid === undefined ? {} : { lastValid }) });
  const { evaluated } = result;
  const full = mergeOwned({ admin: { listen: `${options.caddy.adminAddress}:${options.caddy.adminPort}` } }, result.config);
  io.stdout(stableStringify(flags['show-secrets'] ? full : redactSecrets(full)));
  for (const w of result.warnings) io.stderr(`warning: ${w.message}\n`);
  const rejected = [...evaluated.byFile.values()].filter((e) => !e.accepted).map((e) => e.manifest.file);
  if (rejected.length > 0) io.stderr(`left out (invalid): ${rejected.join(', ')}; run 'ingressd validate' for details\n`);
  return 0;
}
