/**
 * `ingressd validate PATH...`: the controller's own checks (schema, rules, cross-file conflicts),
 * without Caddy. One line per problem; exit 0 when everything is valid, 1 otherwise.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { stableStringify } from '../../model/canonical.js';
import { desiredState } from '../../reconciler/desired-state.js';
import { precedenceFromStatuses } from '../../reconciler/precedence.js';
import { reportedIssues, type LastValidEntry } from '../../reconciler/last-valid.js';
import { readLastValid } from '../../reconciler/last-valid-file.js';
import { readStatusFile, statusFileOf } from '../../reconciler/status-writer.js';
import { loadManifests } from '../../sources/load.js';
import { resolveOptions, type Options } from '../../controller/options.js';
import { CONFIG_FLAGS, configFlagsHelp, parse, UsageError, type CommandIo } from './args.js';

export const VALIDATE_HELP = `Usage: ingressd validate [--json] PATH...

Checks manifest files (or every manifest under directories) exactly as the controller would:
JSON syntax, schema, rules, and conflicts between the files given. A conflict is settled as
'ingressd run' settles it: a resource its status file (<stem>.status.json) records as accepted
keeps what it holds, the oldest first; the others follow by name. Prints one line per problem:
  FILE: POINTER: MESSAGE [CODE]
Exit status: 0 all valid, 1 problems found, 2 usage error.

Options:
  --json                 print {"valid": bool, "files": [{file, kind, name, valid, errors}]}
${configFlagsHelp()}`;

export async function validateCommand(io: CommandIo): Promise<number> {
  const { flags, positionals } = parse(io, { json: { type: 'boolean' }, ...CONFIG_FLAGS }, true);
  if (flags['help']) {
    io.stdout(`${VALIDATE_HELP}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('validate needs at least one file or directory');
  const options = resolveOptions(io.env, flags, { cwd: io.cwd, isTty: io.isTty });
  const manifests = await loadManifests({ paths: positionals, cwd: io.cwd });
  const acceptedSince = await precedenceFromStatuses(
    manifests.map((m) => m.file),
    async (file) => readStatusFile(statusPathOf(resolve(io.cwd, file), options))?.status,
  );
  const lastValid = lastValidAsShown(options, io.cwd);
  const { evaluated } = desiredState({ manifests, acceptedSince, settings: options.render, ...(lastValid === undefined ? {} : { lastValid }) });
  // A last valid version standing in is served by run, but the file itself still has problems.
  const files = [...evaluated.byFile.values()].map((e) => ({
    file: e.manifest.file,
    kind: e.manifest.kind ?? null,
    name: e.manifest.name,
    valid: reportedIssues(e).length === 0,
    errors: reportedIssues(e),
  }));
  const valid = files.every((f) => f.valid);
  if (flags['json']) {
    io.stdout(stableStringify({ valid, files }));
  } else {
    for (const f of files) {
      for (const issue of f.errors) io.stdout(`${f.file}: ${issue.path === '' ? '' : `${issue.path}: `}${issue.message} [${issue.code}]\n`);
    }
    const bad = files.filter((f) => !f.valid).length;
    io.stderr(bad === 0 ? `${files.length} manifest(s) valid\n` : `${bad} of ${files.length} manifest(s) have problems\n`);
  }
  return valid ? 0 : 1;
}

/** Where run keeps the status of the manifest at `path` (absolute): under STATUS_DIR for a manifest of MANIFEST_DIR, else beside it. */
function statusPathOf(path: string, options: Options): string {
  const rel = options.manifestDir === '' ? '..' : relative(options.manifestDir, path);
  if (!options.statusDirSet || rel.startsWith('..') || isAbsolute(rel)) return statusFileOf(path);
  return join(options.statusDir, statusFileOf(rel));
}

/** run's last valid versions (under DATA_DIR, for MANIFEST_DIR's files) keyed by the paths validate shows. */
function lastValidAsShown(options: Options, cwd: string): Map<string, LastValidEntry> | undefined {
  const recorded = options.manifestDir === '' ? undefined : readLastValid(options.dataDir, options.fallback);
  if (recorded === undefined) return undefined;
  const out = new Map<string, LastValidEntry>();
  for (const [file, entry] of recorded) {
    const absolute = join(options.manifestDir, file);
    const shown = relative(cwd, absolute) || absolute;
    const key = shown.startsWith('..') ? absolute : shown;
    out.set(key, { ...entry, manifest: { ...entry.manifest, file: key } });
  }
  return out;
}
