/**
 * `ingressd get [ingresses|instances] --dir DIR [-o table|json]`: the declared resources with the
 * status `ingressd run` last wrote for them (`<stem>.status.json`), like `kubectl get`. Reads files
 * only: no Caddy request, no write. Manifests with no status file yet are judged here (the same
 * evaluation as run) and shown Ready=Unknown/NotReconciled, or Ready=False with why when invalid.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stableStringify } from '../../model/canonical.js';
import type { Manifest } from '../../model/manifest.js';
import type { Resource } from '../../model/resource.js';
import { pathMatchOf, targetsOf, type PathMatch } from '../../model/routing.js';
import { desiredState } from '../../reconciler/desired-state.js';
import type { Evaluation } from '../../reconciler/evaluate.js';
import { precedenceFromStatuses } from '../../reconciler/precedence.js';
import { buildStatus } from '../../reconciler/status.js';
import type { Condition, ProgramState, ResourceStatus } from '../../reconciler/status-types.js';
import { readLastValid } from '../../reconciler/last-valid-file.js';
import { createStatusWriter } from '../../reconciler/status-writer.js';
import { parseManifest } from '../../manifest/parse.js';
import { scanManifests } from '../../sources/scan.js';
import { resolveOptions, type Options } from '../../controller/options.js';
import { CONFIG_FLAGS, configFlagsHelp, parse, UsageError, type CommandIo } from './args.js';

export const GET_HELP = `Usage: ingressd get [ingresses|instances] --dir DIR [-o table|json]

Lists the resources declared under DIR with the status 'ingressd run' last wrote for them
(<stem>.status.json beside each manifest). Reads files only; Caddy is not contacted.
A manifest with no status file yet shows READY Unknown, reason NotReconciled, or READY False
with the reason when it is invalid ('ingressd validate' lists every problem).
Without a kind, both lists are printed; files that are not readable JSON are listed as ingresses
(the default kind).

Columns:
  ingresses   NAME  HOSTS (host:port)  TARGET (instance:port)  READY  REASON  AGE  FILE
  instances   NAME  ADDRESS  READY  REASON  AGE  FILE
AGE is the time since the Ready condition last changed (45s, 12m, 3h, 5d); for a manifest with
no status yet, since the file was written.
Exit status: 0, or 2 on a usage error.

Options:
  -o, --output FORMAT    table (default), or json: the status objects, sorted by kind, then name
${configFlagsHelp()}`;

/** Which list a resource is shown in. */
export type Section = 'Ingress' | 'Instance';

/** One manifest: its status (written by run, or judged here) and its resource when it parsed. */
export interface Entry {
  readonly status: ResourceStatus;
  readonly resource: Resource | undefined;
}

const KIND_ARGS: Readonly<Record<string, Section>> = {
  ingress: 'Ingress',
  ingresses: 'Ingress',
  ing: 'Ingress',
  instance: 'Instance',
  instances: 'Instance',
  inst: 'Instance',
};
const SECTIONS: readonly Section[] = ['Ingress', 'Instance'];
const PLURAL: Readonly<Record<Section, string>> = { Ingress: 'ingresses', Instance: 'instances' };
const INGRESS_HEADERS = ['NAME', 'HOSTS', 'TARGET', 'READY', 'REASON', 'AGE', 'FILE'];
const INSTANCE_HEADERS = ['NAME', 'ADDRESS', 'READY', 'REASON', 'AGE', 'FILE'];
/** Widest HOSTS / TARGET cell before the list is cut to "a,b + N more...". */
const LIST_MAX_CHARS = 48;

const NOT_RECONCILED: ProgramState = {
  status: 'Unknown',
  reason: 'NotReconciled',
  message: "No status file yet: 'ingressd run' has not reconciled this manifest (is it watching this directory?).",
};
const NOT_ACCEPTED: ProgramState = { status: 'False', reason: 'NotAccepted', message: 'Not applied: the manifest is not accepted (see the Accepted condition).' };

export async function getCommand(io: CommandIo): Promise<number> {
  const { flags, positionals } = parse(io, { output: { type: 'string', short: 'o' }, ...CONFIG_FLAGS }, true);
  if (flags['help']) {
    io.stdout(`${GET_HELP}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`expected at most one kind, got "${positionals.join(' ')}"`);
  const kindArg = positionals[0];
  const only = kindArg === undefined ? undefined : KIND_ARGS[kindArg.toLowerCase()];
  if (kindArg !== undefined && only === undefined) throw new UsageError(`unknown kind "${kindArg}": use ingresses or instances`);
  const output = flags['output'] ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`-o must be table or json, got "${String(output)}"`);
  const options = resolveOptions(io.env, flags, { cwd: io.cwd, isTty: io.isTty });
  if (options.manifestDir === '') throw new UsageError('get needs --dir DIR (or MANIFEST_DIR): the directory of manifests');
  if (!(await stat(options.manifestDir)).isDirectory()) throw new UsageError(`${options.manifestDir} is not a directory`);

  const entries = (await readEntries(options)).filter((e) => only === undefined || sectionOf(e.status) === only).sort(byKindThenName);
  io.stdout(output === 'json' ? stableStringify(entries.map((e) => e.status)) : formatSections(entries, only, Date.now()));
  return 0;
}

/** Every manifest under the directory with its status file, or a status judged here when it has none. */
async function readEntries(options: Options): Promise<Entry[]> {
  const dir = options.manifestDir;
  const stamps = await scanManifests(dir);
  const manifests: { readonly manifest: Manifest; readonly writtenAt: string }[] = [];
  for (const [file, stamp] of [...stamps].sort(([a], [b]) => compareText(a, b))) {
    const text = await readFile(join(dir, file), 'utf8').catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed since the scan
      throw err;
    });
    if (text !== undefined) manifests.push({ manifest: parseManifest(file, text), writtenAt: new Date(stamp?.mtimeMs ?? Date.now()).toISOString() });
  }
  const reader = createStatusWriter(options.statusDir, { mirrored: options.statusDirSet }); // only read() is used: get writes nothing
  const written = new Map<string, ResourceStatus>();
  for (const { manifest } of manifests) {
    const status = await reader.read(manifest.file);
    if (isStatusOf(status, manifest.file)) written.set(manifest.file, status);
  }
  const files = manifests.map((m) => m.manifest.file);
  const acceptedSince = await precedenceFromStatuses(files, async (file) => written.get(file));
  const lastValid = readLastValid(options.dataDir, options.fallback);
  const { evaluated } = desiredState({ manifests: manifests.map((m) => m.manifest), acceptedSince, settings: options.render, ...(lastValid === undefined ? {} : { lastValid }) });
  return manifests.flatMap(({ manifest, writtenAt }) => {
    const evaluation = evaluated.byFile.get(manifest.file);
    const status = written.get(manifest.file) ?? (evaluation === undefined ? undefined : unreconciledStatus(evaluation, writtenAt));
    return status === undefined ? [] : [{ status, resource: manifest.resource }];
  });
}

/** What run would report before its first reconcile of this manifest. Pure. */
export function unreconciledStatus(evaluation: Evaluation, since: string): ResourceStatus {
  const program = evaluation.accepted ? NOT_RECONCILED : NOT_ACCEPTED;
  const status = buildStatus({ evaluation, program, routes: undefined, certificates: undefined, previous: undefined, now: since });
  if (!evaluation.accepted) return status;
  const ready: Condition = { type: 'Ready', ...NOT_RECONCILED, lastTransitionTime: since };
  return { ...status, conditions: status.conditions.map((c) => (c.type === 'Ready' ? ready : c)) };
}

function isStatusOf(status: ResourceStatus | undefined, file: string): status is ResourceStatus {
  return status !== undefined && status.file === file && typeof status.name === 'string' && Array.isArray(status.conditions);
}

/** Unreadable files (kind Unknown) are listed with the ingresses, the kind a manifest has by default. */
export function sectionOf(status: ResourceStatus): Section {
  return status.kind === 'Instance' ? 'Instance' : 'Ingress';
}

/** The tables for the sections asked for (both when `only` is undefined), blank-line separated. Pure. */
export function formatSections(entries: readonly Entry[], only: Section | undefined, nowMs: number): string {
  return (only === undefined ? SECTIONS : [only])
    .map((section) => {
      const rows = entries.filter((e) => sectionOf(e.status) === section);
      if (rows.length === 0) return `No ${PLURAL[section]} found.\n`;
      return section === 'Ingress'
        ? formatTable([INGRESS_HEADERS, ...rows.map((e) => ingressRow(e, nowMs))])
        : formatTable([INSTANCE_HEADERS, ...rows.map((e) => instanceRow(e, nowMs))]);
    })
    .join('\n');
}

export function ingressRow({ status, resource }: Entry, nowMs: number): string[] {
  const rules = resource?.kind === 'Ingress' ? resource.rules : [];
  // A path rule shows its path (`shop.test:80/api`, `… (exact)`); several targets are joined by `+`.
  const hosts =
    rules.length > 0 ? rules.map((r) => `${r.match.hostname}:${r.match.port}${pathLabel(pathMatchOf(r))}`) : (status.routes ?? []).map((r) => `${r.hostname}:${r.port}`);
  const targets = rules.map((r) => targetsOf(r).map((t) => `${t.instance}:${t.port}`).join('+'));
  return [status.name, joinLimited(unique(hosts)), joinLimited(unique(targets)), ...readyCells(status, nowMs), status.file];
}

function pathLabel(path: PathMatch | undefined): string {
  return path === undefined ? '' : `${path.path}${path.type === 'exact' ? ' (exact)' : ''}`;
}

export function instanceRow({ status, resource }: Entry, nowMs: number): string[] {
  const address = resource?.kind === 'Instance' ? resource.address : '<none>';
  return [status.name, address, ...readyCells(status, nowMs), status.file];
}

/** READY, REASON and AGE, from the Ready condition. */
function readyCells(status: ResourceStatus, nowMs: number): [string, string, string] {
  const ready = status.conditions.find((c) => c.type === 'Ready');
  if (ready === undefined) return ['Unknown', '<none>', '<unknown>'];
  return [ready.status, ready.reason, formatAge(ready.lastTransitionTime, nowMs)];
}

/**
 * Time since an RFC 3339 instant, kubectl style: `45s` under a minute, then `12m`, `3h`, `5d`, `2y`
 * (whole units, rounded down). A time in the future (clock skew) is `0s`; an unreadable one `<unknown>`.
 */
export function formatAge(since: string, nowMs: number): string {
  const then = Date.parse(since);
  if (!Number.isFinite(then)) return '<unknown>';
  const seconds = Math.max(0, Math.floor((nowMs - then) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return days < 365 ? `${days}d` : `${Math.floor(days / 365)}y`;
}

/**
 * Comma-joined items, at most `maxChars` wide: as many whole items as fit, then ` + N more...`
 * (as kubectl shows ingress hosts). `<none>` when empty; a single over-long item is cut with `…`.
 */
export function joinLimited(items: readonly string[], maxChars = LIST_MAX_CHARS): string {
  if (items.length === 0) return '<none>';
  const all = items.join(',');
  if (all.length <= maxChars) return all;
  for (let shown = items.length - 1; shown >= 1; shown--) {
    const text = `${items.slice(0, shown).join(',')} + ${items.length - shown} more...`;
    if (text.length <= maxChars) return text;
  }
  const suffix = items.length > 1 ? ` + ${items.length - 1} more...` : '';
  const room = maxChars - suffix.length - 1;
  return room >= 1 ? `${(items[0] ?? '').slice(0, room)}…${suffix}` : `${all.slice(0, Math.max(0, maxChars - 1))}…`;
}

/** Left-aligned columns three spaces apart (kubectl's layout); no trailing spaces. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('   ').trimEnd()}\n`).join('');
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function byKindThenName(a: Entry, b: Entry): number {
  return compareText(a.status.kind, b.status.kind) || compareText(a.status.name, b.status.name) || compareText(a.status.file, b.status.file);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
