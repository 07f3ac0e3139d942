/**
 * Manifest file text → `Manifest`: JSON syntax, kind, JSON Schema, then normalisation into a
 * `Resource`. Pure apart from reading the two schema files once, when the module loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { canonicalize } from '../model/canonical.js';
import { deriveId, fastHashOf } from '../model/ids.js';
import { issue, type Issue } from '../model/issues.js';
import { isJsonObject, type JsonObject } from '../model/json.js';
import type { Manifest } from '../model/manifest.js';
import { KINDS, type Ingress, type Instance, type Kind, type PathType, type Resource, type Rule, type RuleTarget } from '../model/resource.js';
import { jsonSyntaxIssue } from './json-syntax.js';
import { manifestStem } from './manifest-files.js';
import { schemaIssues, showValue } from './schema-issues.js';

/** A rule as the schema admits it (defaults not yet applied). */
interface RuleDoc extends Omit<Rule, 'match' | 'tls' | 'redirect_http'> {
  readonly match: { readonly hostname: string; readonly port?: number; readonly path?: string; readonly path_type?: PathType };
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
    generation: fastHashOf(text),
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
    generation: fastHashOf(JSON.stringify(canonicalize(resource.value))),
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
    rules: doc.rules.map(normaliseRule),
    ...(doc.created_at === undefined ? {} : { created_at: doc.created_at }),
  };
}

/**
 * Defaults filled in for the original fields only; the routing fields are kept as written and
 * only when present, so a rule in the original shape normalises (and hashes) exactly as before.
 */
function normaliseRule(rule: RuleDoc): Rule {
  const { path, path_type } = rule.match;
  const target = (t: RuleTarget): RuleTarget => ({ instance: t.instance, port: t.port, ...(t.weight === undefined ? {} : { weight: t.weight }) });
  return {
    match: {
      hostname: lowercaseHostname(rule.match.hostname),
      port: rule.match.port ?? DEFAULT_PORT,
      ...(path === undefined ? {} : { path }),
      ...(path_type === undefined ? {} : { path_type }),
    },
    ...(rule.target === undefined ? {} : { target: target(rule.target) }),
    ...(rule.targets === undefined ? {} : { targets: rule.targets.map(target) }),
    tls: rule.tls ?? false,
    redirect_http: rule.redirect_http ?? false,
    ...(rule.strip_path_prefix === true ? { strip_path_prefix: true } : {}),
    ...(rule.load_balancing === undefined ? {} : { load_balancing: rule.load_balancing }),
    ...(rule.health_check === undefined ? {} : { health_check: rule.health_check }),
    ...(rule.max_request_body === undefined ? {} : { max_request_body: rule.max_request_body }),
    ...(rule.headers === undefined ? {} : { headers: rule.headers }),
    ...(rule.allow_ips === undefined ? {} : { allow_ips: rule.allow_ips }),
    ...(rule.deny_ips === undefined ? {} : { deny_ips: rule.deny_ips }),
    ...(rule.rate_limit === undefined ? {} : { rate_limit: rule.rate_limit }),
    ...(rule.timeouts === undefined ? {} : { timeouts: rule.timeouts }),
    ...(rule.compress === true ? { compress: true } : {}),
    ...(rule.basic_auth === undefined ? {} : { basic_auth: rule.basic_auth }),
    ...(rule.error_pages === undefined ? {} : { error_pages: rule.error_pages }),
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
