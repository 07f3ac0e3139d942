/**
 * `ingressd diff --dir DIR [--json]`: what `ingressd run` would change in Caddy now, like
 * `kubectl diff`. Reads the manifests, their status files and Caddy's live config; writes nothing
 * (no Caddy request but `GET /config/`, no file). Exit codes: 0 in sync, 1 differs, 2 error.
 */
import type { Operation } from 'fast-json-patch';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stableStringify } from '../../model/canonical.js';
import { isIngressdError } from '../../model/errors.js';
import type { JsonObject, JsonValue } from '../../model/json.js';
import { readDnsState } from '../../dns/process.js';
import { redactSecrets } from '../../render/index.js';
import { createCaddyClient } from '../../reconciler/caddy-client.js';
import { formatPatch, patchConfig } from '../../reconciler/diff.js';
import { desiredState } from '../../reconciler/desired-state.js';
import { precedenceFromStatuses } from '../../reconciler/precedence.js';
import { readLastValid } from '../../reconciler/last-valid-file.js';
import { createStatusWriter } from '../../reconciler/status-writer.js';
import { errorPagesOf } from '../../sources/error-pages-dir.js';
import { loadDirectory } from '../../sources/load.js';
import { resolveOptions, withDnsPort, type Options } from '../../controller/options.js';
import { CONFIG_FLAGS, configFlagsHelp, parse, UsageError, type CommandIo } from './args.js';
import { CADDY_VERSION_FLAG, CADDY_VERSION_HELP, caddyTarget } from './caddy-target.js';
import { isProcessAlive } from '../../platform/process-alive.js';

export const DIFF_HELP = `Usage: ingressd diff --dir DIR [--json] [options]

Compares ingressd's part of the live Caddy config (the ingress-* servers, the HTTP/HTTPS ports and
ingressd's TLS policies; nothing else) with what the manifests under DIR render to, and prints
the JSON Patch that 'ingressd run' would apply. Changes nothing: one read of Caddy's config, no
write to Caddy or to any file. Invalid manifests are left out, as run leaves them out. Secret
values are printed as <redacted>.

Output:
  --- live (Caddy at URL)
  +++ desired (DIR)
  OP      PATH [VALUE]      one JSON Patch operation per line
  N change(s) | in sync
Exit status: 0 in sync, 1 differences found, 2 on error (usage, unreadable DIR, Caddy unreachable).

Point diff at the same Caddy and data directory as 'ingressd run' (same environment or flags).
The instance DNS port is read from the running DNS process (DATA_DIR/dns/dns.json) when there is one.

Options:
  --json                 print {"inSync": bool, "patch": [JSON Patch operations]}
${CADDY_VERSION_HELP}
${configFlagsHelp()}`;

export async function diffCommand(io: CommandIo): Promise<number> {
  const { flags } = parse(io, { json: { type: 'boolean' }, ...CADDY_VERSION_FLAG, ...CONFIG_FLAGS }, false);
  if (flags['help']) {
    io.stdout(`${DIFF_HELP}\n`);
    return 0;
  }
  const options = resolveOptions(io.env, flags, { cwd: io.cwd, isTty: io.isTty });
  if (options.manifestDir === '') throw new UsageError('diff needs --dir DIR (or MANIFEST_DIR): the directory of manifests to compare');
  const client = createCaddyClient({ adminAddress: options.caddy.adminAddress, adminPort: options.caddy.adminPort });

  let desired: JsonObject;
  let live: JsonObject | null;
  try {
    desired = await desiredConfig(options, flags['caddy-version'] as string | undefined, io);
  } catch (err) {
    io.stderr(`ingressd diff: cannot read the manifests under ${options.manifestDir}: ${describe(err)}\n`);
    return 2;
  }
  try {
    live = (await client.getConfig()).config;
  } catch (err) {
    io.stderr(`ingressd diff: cannot read the live config: ${describe(err)}\n${adminHint(client.adminUrl)}\n`);
    return 2;
  }

  // Diff the real values, then redact the patch: a rotated token still shows up as a change.
  const patch = patchConfig(live, desired).map(redactOperation);
  if (flags['json']) {
    io.stdout(stableStringify({ inSync: patch.length === 0, patch }));
  } else {
    const lines = [`--- live (Caddy at ${client.adminUrl})`, `+++ desired (${options.manifestDir})`];
    if (patch.length > 0) lines.push(formatPatch(patch));
    lines.push(patch.length === 0 ? 'in sync' : `${patch.length} change(s)`);
    io.stdout(`${lines.join('\n')}\n`);
  }
  return patch.length === 0 ? 0 : 1;
}

/**
 * The config `run` would render for DIR now: the same evaluation (with the acceptance times the
 * status files record, so conflicts are decided as run decides them) and the same DNS port.
 */
async function desiredConfig(options: Options, caddyVersion: string | undefined, io: CommandIo): Promise<JsonObject> {
  const dir = options.manifestDir;
  // loadDirectory treats a missing directory as empty; a typo must not diff as "delete everything".
  if (!(await stat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`);
  const manifests = await loadDirectory(dir);
  const statuses = createStatusWriter(options.statusDir, { mirrored: options.statusDirSet }); // only read() is used: diff writes nothing
  const acceptedSince = await precedenceFromStatuses(manifests.map((m) => m.file), (file) => statuses.read(file));
  const target = await caddyTarget(options, caddyVersion);
  io.stderr(`${target.note}\n`);
  const settings = { ...withDnsPort(options, await dnsPortOf(options)).render, caddy: target.caddy, errorPages: errorPagesOf(options.errorPagesDir) };
  const lastValid = readLastValid(options.dataDir, options.fallback);
  return desiredState({ manifests, acceptedSince, settings, ...(lastValid === undefined ? {} : { lastValid }) }).config;
}

/**
 * The DNS port `run` renders into Caddy: the running DNS process's, from `DATA_DIR/dns/dns.json`,
 * when there is one (diff may run with INTERNAL_DNS_PORT unset, 0, or different from run's, and
 * run adopts the process that is running); otherwise INTERNAL_DNS_PORT. A state file left by a
 * dead process still names the best guess when INTERNAL_DNS_PORT is 0.
 */
async function dnsPortOf(options: Options): Promise<number> {
  const state = await readDnsState(join(options.dataDir, 'dns', 'dns.json'));
  if (state === undefined) return options.dns.port;
  return options.dns.port === 0 || isProcessAlive(state.pid) ? state.port : options.dns.port;
}

/**
 * The operation with secret values redacted: `api_token` at the op's own path or anywhere inside
 * its value, and the Redis storage's password (`/storage/password`, or inside a `/storage` value).
 */
export function redactOperation(op: Operation): Operation {
  if (!('value' in op)) return op;
  const key = op.path.slice(op.path.lastIndexOf('/') + 1);
  if (op.path.startsWith('/storage/') && typeof op.value === 'string') {
    // A field of the storage module on its own: redact it as it would be inside the module.
    const value = redactSecrets({ module: 'redis', [key]: op.value })[key] ?? null;
    return { ...op, value };
  }
  // redactSecrets works on objects: wrap the value under its own key so a path ending in
  // /api_token is redacted as well as any api_token nested inside the value.
  const value: JsonValue = redactSecrets({ [key]: op.value as JsonValue })[key] ?? null;
  return { ...op, value };
}

/** How to point diff at the right Caddy: which address was tried and the settings that choose it. */
export function adminHint(adminUrl: string): string {
  return (
    `ingressd diff tried Caddy's admin API at ${adminUrl}. Point it at the Caddy that 'ingressd run' manages ` +
    'with CADDY_ADMIN_ADDRESS/CADDY_ADMIN_PORT or --admin-address/--admin-port (default 127.0.0.1:2019).'
  );
}

function describe(err: unknown): string {
  if (isIngressdError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}
