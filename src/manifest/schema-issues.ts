/**
 * Turns ajv's errors into issues written for a person: a JSON pointer and a message that says how
 * to fix the field.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { issue, pointerToken, type Issue } from '../model/issues.js';
import { isJsonObject } from '../model/json.js';

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
export function schemaIssues(errors: readonly ErrorObject[]): Issue[] {
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
export function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
