/**
 * Manifest file text → `Manifest`: JSON syntax, kind, JSON Schema, then normalisation into a
 * `Resource`. Pure apart from reading the two schema files once, when the module loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { stableStringify } from '../model/canonical.js';
import { deriveId, hashOf } from '../model/ids.js';
import { issue, pointerToken, type Issue } from '../model/issues.js';
import { isJsonObject, type JsonObject } from '../model/json.js';
import type { Manifest } from '../model/manifest.js';
import { KINDS, type Ingress, type Instance, type Kind, type Resource } from '../model/resource.js';
import { manifestStem } from './manifest-files.js';

/** A rule as the schema admits it (defaults not yet applied). */
interface RuleDoc {
  readonly match: { readonly hostname: string; readonly port?: number };
  readonly target: { readonly instance: string; readonly port: number };
  readonly tls?: boolean;
  readonly redirect_http?: boolean;
}
interface IngressDoc {
  readonly name?: string;
  readonly id?: string;
  readonly created_at?: string;
  readonly rules: readonly RuleDoc[];
}
interface InstanceDoc {
  readonly name?: string;
  readonly id?: string;
  readonly address: string;
}

const DEFAULT_PORT = 80;
const BOM = '\uFEFF';

/** The directory holding `schemas/`: the project root, found by walking up from this module. */
function findSchemasDir(): string {
  // Source runs from src/sources/, compiled code from dist/src/sources/: do not assume a depth.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'schemas');
    if (existsSync(join(candidate, 'ingress.schema.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`schemas/ingress.schema.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const schemasDir = findSchemasDir();
const ajv = new Ajv2020({ allErrors: true, verbose: true });
addFormats.default(ajv);
const validateIngressDoc: ValidateFunction<IngressDoc> = ajv.compile<IngressDoc>(readSchema('ingress.schema.json'));
const validateInstanceDoc: ValidateFunction<InstanceDoc> = ajv.compile<InstanceDoc>(readSchema('instance.schema.json'));

function readSchema(fileName: string): JsonObject {
  const value: unknown = JSON.parse(readFileSync(join(schemasDir, fileName), 'utf8'));
  if (!isJsonObject(value)) throw new Error(`${fileName} is not a JSON object`);
  return value;
}

/**
 * Parses one manifest file. `file` is its path relative to the watched directory with `/`
 * separators; its stem (base name without `.json`) is the default name. Never throws.
 *
 * - Bad JSON (including an empty file) gives one `invalid_request` issue at `` naming line and column.
 * - `kind` absent means Ingress; another value gives `invalid_request` at `/kind`.
 * - Schema violations give one `invalid_request` per problem, at the offending JSON pointer.
 * - When everything passes, `resource` holds the normalised resource (name defaulted to the stem,
 *   hostnames lowercased except capture names, port 80, tls/redirect_http false, id derived from
 *   kind and name unless given, IPv6 compressed) and `issues` is empty.
 *
 * `generation` hashes the normalised resource when there is one, else the raw text.
 * File-local rules beyond the schema (hostname syntax, TLS) are `validateResource`'s job.
 */
export function parseManifest(file: string, text: string): Manifest {
  const stem = manifestStem(file);
  const failed = (kind: Kind | undefined, name: string, issues: readonly Issue[]): Manifest => ({
    file,
    kind,
    name,
    generation: hashOf(text),
    resource: undefined,
    issues,
  });

  const body = text.startsWith(BOM) ? text.slice(BOM.length) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return failed(undefined, stem, [jsonSyntaxIssue(body, err instanceof Error ? err.message : String(err))]);
  }
  if (!isJsonObject(doc)) {
    const example = '{"rules": [{"match": {"hostname": "api.example.com"}, "target": {"instance": "my-api", "port": 8080}}]}';
    return failed(undefined, stem, [
      issue('invalid_request', '', `a manifest must be a JSON object such as ${example}, got ${showValue(doc)}`),
    ]);
  }
  const name = typeof doc['name'] === 'string' ? doc['name'] : stem;
  const kind = readKind(doc['kind']);
  if (typeof kind !== 'string') return failed(undefined, name, [kind]);

  const resource = normalise(kind, doc, stem);
  if (!resource.ok) return failed(kind, name, resource.issues);
  return {
    file,
    kind,
    name: resource.value.name,
    generation: hashOf(stableStringify(resource.value)),
    resource: resource.value,
    issues: [],
  };
}

/** The kind named by a manifest's `kind` field, or the issue explaining why it is not one. */
function readKind(value: unknown): Kind | Issue {
  if (value === undefined) return 'Ingress';
  const kind = KINDS.find((k) => k === value);
  if (kind !== undefined) return kind;
  const sameLetters = KINDS.find((k) => typeof value === 'string' && k.toLowerCase() === value.toLowerCase());
  const hint = sameLetters === undefined ? '' : `; kind is case-sensitive, write "${sameLetters}"`;
  return issue(
    'invalid_request',
    '/kind',
    `unknown kind ${showValue(value)}${hint}; kind must be one of ${KINDS.join(', ')} (leave it out for an Ingress)`,
  );
}

type Normalised = { readonly ok: true; readonly value: Resource } | { readonly ok: false; readonly issues: Issue[] };

function normalise(kind: Kind, doc: JsonObject, stem: string): Normalised {
  switch (kind) {
    case 'Ingress':
      return validateIngressDoc(doc)
        ? { ok: true, value: normaliseIngress(doc, stem) }
        : { ok: false, issues: schemaIssues(validateIngressDoc.errors ?? []) };
    case 'Instance':
      return validateInstanceDoc(doc)
        ? { ok: true, value: normaliseInstance(doc, stem) }
        : { ok: false, issues: schemaIssues(validateInstanceDoc.errors ?? []) };
  }
}

function normaliseIngress(doc: IngressDoc, stem: string): Ingress {
  const name = doc.name ?? stem;
  return {
    kind: 'Ingress',
    id: doc.id ?? deriveId('Ingress', name),
    name,
    rules: doc.rules.map((rule) => ({
      match: { hostname: lowercaseHostname(rule.match.hostname), port: rule.match.port ?? DEFAULT_PORT },
      target: { instance: rule.target.instance, port: rule.target.port },
      tls: rule.tls ?? false,
      redirect_http: rule.redirect_http ?? false,
    })),
    ...(doc.created_at === undefined ? {} : { created_at: doc.created_at }),
  };
}

function normaliseInstance(doc: InstanceDoc, stem: string): Instance {
  const name = doc.name ?? stem;
  return { kind: 'Instance', id: doc.id ?? deriveId('Instance', name), name, address: normaliseAddress(doc.address) };
}

/** Lowercases a hostname except the names inside `{captures}`, which are case-sensitive. */
export function lowercaseHostname(hostname: string): string {
  return hostname
    .split(/(\{[^{}]*\})/)
    .map((part, i) => (i % 2 === 1 ? part : part.toLowerCase()))
    .join('');
}

/** IPv6 in its compressed lowercase form (`FD00:0::1` → `fd00::1`); anything else unchanged. */
export function normaliseAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]`).hostname.slice(1, -1);
  } catch {
    // Zone ids (`fe80::1%eth0`) are valid for isIP but not in URLs; keep them as written.
    return address.toLowerCase();
  }
}

// ---- JSON syntax errors -------------------------------------------------------------------

const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const JSON_VALUE = new RegExp(`${JSON_STRING.source}|-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|true|false|null`, 'y');
const JSON_SPACE = /[ \t\n\r]*/y;

/** One issue for a JSON.parse failure, naming line and column (1-based) and what to fix. */
function jsonSyntaxIssue(body: string, message: string): Issue {
  const example = '{"rules": [{"match": {"hostname": "api.example.com"}, "target": {"instance": "my-api", "port": 8080}}]}';
  if (body.trim().length === 0) {
    return issue('invalid_request', '', `invalid JSON at line 1, column 1: the file is empty; write a JSON object such as ${example}`);
  }
  // Node 20: "… in JSON at position N"; Node 22+ adds "(line L column C)"; some errors carry neither.
  const lineCol = /\(line (\d+) column (\d+)\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  const endOfInput = /end of JSON input/.test(message);
  const where = lineCol
    ? { line: Number(lineCol[1]), column: Number(lineCol[2]) }
    : lineColumn(body, position ? Number(position[1]) : endOfInput ? body.trimEnd().length : scanErrorOffset(body));
  const reason = endOfInput
    ? 'the file ends before the JSON is complete (a closing }, ] or " is missing)'
    : message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
  return issue(
    'invalid_request',
    '',
    `invalid JSON at line ${where.line}, column ${where.column}: ${reason}; check for a missing or extra comma, quote or bracket there (JSON allows no comments or trailing commas)`,
  );
}

function lineColumn(text: string, offset: number): { readonly line: number; readonly column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}

function stickyEnd(re: RegExp, text: string, at: number): number | undefined {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : undefined;
}

/** Offset of the first syntax error, for V8 messages without a position ("Unexpected token 'x', …"). */
function scanErrorOffset(text: string): number {
  const closers: string[] = [];
  let state: 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'after' = 'value';
  let i = stickyEnd(JSON_SPACE, text, 0) ?? 0;
  while (i < text.length) {
    const c = text[i];
    let next: number | undefined;
    if (state !== 'value' && state !== 'key' && c === closers.at(-1)) {
      closers.pop();
      state = 'after';
      next = i + 1;
    } else if (state === 'after') {
      if (c !== ',' || closers.length === 0) return i;
      state = closers.at(-1) === '}' ? 'key' : 'value';
      next = i + 1;
    } else if (state === 'key' || state === 'keyOrClose') {
      const end = stickyEnd(JSON_STRING, text, i);
      if (end === undefined) return i;
      const colon = stickyEnd(JSON_SPACE, text, end) ?? end;
      if (text[colon] !== ':') return colon;
      state = 'value';
      next = colon + 1;
    } else if (c === '{' || c === '[') {
      closers.push(c === '{' ? '}' : ']');
      state = c === '{' ? 'keyOrClose' : 'valueOrClose';
      next = i + 1;
    } else {
      next = stickyEnd(JSON_VALUE, text, i);
      if (next === undefined) return i;
      state = 'after';
    }
    i = stickyEnd(JSON_SPACE, text, next) ?? next;
  }
  return i;
}

// ---- Schema errors ------------------------------------------------------------------------

/** Fix-it text per field (the pointer's last token), used whatever schema keyword failed there. */
const FIELD_RULES: Readonly<Record<string, string>> = {
  name: 'must be 1-63 lowercase letters, digits and dashes, and cannot start or end with a dash (such as my-api)',
  id: 'must be 1-64 lowercase letters, digits and dashes starting with a letter or digit; leave it out to derive one from kind and name',
  port: 'must be an integer between 1 and 65535',
  address: 'must be an IPv4 or IPv6 address such as 10.100.0.10 or fd00::10',
  created_at: 'must be an RFC 3339 date-time such as 2025-12-10T23:30:57Z',
  hostname: 'must be a hostname such as api.example.com, or a pattern such as {instance}.example.com',
  instance: 'must name the target Instance (for a pattern hostname, a template such as {instance})',
  tls: 'must be true or false',
  redirect_http: 'must be true or false',
  rules: 'must be a list of at least one rule such as {"match": {"hostname": "api.example.com"}, "target": {"instance": "my-api", "port": 8080}}',
  $schema: 'must be a string (a schema URL, ignored by ingressd)',
};

const REQUIRED_HINTS: Readonly<Record<string, string>> = {
  rules: 'list at least one rule',
  match: 'add "match": {"hostname": "api.example.com"}',
  target: 'add "target": {"instance": "my-api", "port": 8080}',
  hostname: 'give the hostname to serve, such as api.example.com',
  instance: 'give the name of the Instance to send traffic to',
  port: 'give the port the instance listens on',
  address: 'give the IPv4 or IPv6 address of the instance',
  kind: 'add "kind": "Instance"',
};

/**
 * One issue per distinct problem ajv found (it must run with `verbose: true`). Errors beneath a
 * failed `anyOf`/`oneOf` are folded into that one, and identical (path, message) pairs collapse.
 */
function schemaIssues(errors: readonly ErrorObject[]): Issue[] {
  const groups = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const out: Issue[] = [];
  for (const error of errors) {
    if (groups.some((prefix) => error.schemaPath.startsWith(prefix))) continue;
    const found = schemaIssue(error);
    const key = `${found.path}\u0000${found.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(found);
  }
  return out;
}

function schemaIssue(error: ErrorObject): Issue {
  const params: Readonly<Record<string, unknown>> = error.params;
  const where = label(error.instancePath) || 'the manifest';
  if (error.keyword === 'required') {
    const field = String(params['missingProperty']);
    const hint = REQUIRED_HINTS[field];
    const message = `missing required field "${field}" in ${where}${hint === undefined ? '' : `; ${hint}`}`;
    return issue('invalid_request', `${error.instancePath}/${pointerToken(field)}`, message);
  }
  if (error.keyword === 'additionalProperties') {
    const field = String(params['additionalProperty']);
    const properties: unknown = error.parentSchema?.['properties'];
    const allowed = isJsonObject(properties) ? Object.keys(properties).filter((k) => k !== '$schema') : [];
    const message = `unknown field "${field}" in ${where}; allowed fields are ${allowed.join(', ')}`;
    return issue('invalid_request', `${error.instancePath}/${pointerToken(field)}`, message);
  }
  const field = error.instancePath.slice(error.instancePath.lastIndexOf('/') + 1);
  const rule = FIELD_RULES[field] ?? error.message ?? 'is invalid';
  return issue('invalid_request', error.instancePath, `${where} ${rule}, got ${showValue(error.data)}`);
}

/** `/rules/0/match/port` → `rules[0].match.port`. */
function label(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((t, i) => (/^\d+$/.test(t) ? `[${t}]` : i === 0 ? t : `.${t}`))
    .join('');
}

/** A value as it would appear in JSON, cut to a readable length. */
function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
