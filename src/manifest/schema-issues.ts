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
  path: 'must be an absolute path such as /api that Caddy can match: it starts with /, holds no spaces, ?, #, *, { or } (placeholders) and no %-escapes (write the characters themselves), and no empty (//), . or .. segments (request paths are cleaned first); a prefix path matches whole segments below it',
  health_path: 'must be a path (and query) such as /healthz: it starts with / and holds no spaces or #',
  path_type: 'must be "prefix" (whole segments below the path; the default) or "exact"',
  scope: 'must be "node" (each node counts alone; the default) or "fleet" (one count for the nodes sharing CADDY_STORAGE)',
  targets: 'must be a list of at least one target such as {"instance": "api-1", "port": 8080}',
  weight: 'must be an integer between 1 and 100 (a relative share under weighted_round_robin)',
  strip_path_prefix: 'must be true or false',
  policy: 'must be one of round_robin, least_conn, random, first, ip_hash, uri_hash, cookie, weighted_round_robin',
  retries: 'must be an integer between 0 and 10',
  try_duration: 'must be a duration such as 5s, 250ms or 1m30s',
  interval: 'must be a duration such as 5s, 250ms or 1m30s',
  timeout: 'must be a duration such as 5s, 250ms or 1m30s',
  fail_duration: 'must be a duration such as 30s or 1m',
  expect_status: 'must be an HTTP status code between 100 and 599',
  unhealthy_status: 'must be a list of HTTP status codes between 100 and 599, such as [502, 503]',
  max_fails: 'must be an integer between 1 and 1000',
  allow_ips: 'must be a list of at least one IPv4 or IPv6 address or CIDR, such as ["10.0.0.0/8", "fd00::/8"]',
  deny_ips: 'must be a list of at least one IPv4 or IPv6 address or CIDR, such as ["192.0.2.0/24"]',
  realm: 'must be a string of 1-200 characters, such as "shop"',
  users: 'must be a list of at least one {"username": "alice", "password_hash": "$2a$14$…"}',
  users_file: 'must be the name of a file beside the manifest, such as "shop.users"',
  username: 'must be a non-empty string',
  error_pages: 'must be an object of pages by status or class, such as {"502": {"file": "502.html"}, "5xx": {"body": "<h1>Sorry</h1>"}}',
  body: 'must be a string (the page as sent)',
  content_type: 'must be a media type such as "text/html; charset=utf-8"',
  file: 'must be the name of a file beside the manifest, such as "502.html"',
  password_hash: 'must be a bcrypt hash string, as `caddy hash-password --plaintext \'…\'` prints it',
  delete: 'must be a list of header names such as ["X-Powered-By"]',
  max_request_body: 'must be a size such as 10MB: a whole number with an optional unit B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)',
  requests: 'must be a whole number of requests per window, from 1 to 100000',
  window: 'must be a duration such as 1m, 30s or 1h',
  compress: 'must be true or false',
  dial: 'must be a duration such as 3s or 500ms',
  response_header: 'must be a duration such as 30s or 1m',
  timeouts: 'must be an object such as {"dial": "3s", "response_header": "30s"}',
  rate_limit: 'must be an object such as {"requests": 100, "window": "1m"}',
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
  requests: 'add "requests": 100, the requests allowed per window',
  window: 'add "window": "1m", the sliding window the requests are counted in',
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
    // A rule that is not an object also "passes" `required` inside `not`: its type error says it all.
    if (error.keyword === 'not' && !isJsonObject(error.data)) continue;
    const found = schemaIssue(error);
    const key = `${found.path}\u0000${found.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(found);
  }
  return out;
}

/** Rule-level keywords whose own message would say nothing useful: the field and the fix instead. */
const RULE_SHAPE: Readonly<Record<string, { readonly field: string; readonly message: (where: string) => string }>> = {
  anyOf: { field: 'target', message: (where) => `missing required field "target" in ${where}; add "target": {"instance": "my-api", "port": 8080}, or "targets": [...] for several` },
  not: { field: 'targets', message: () => 'give either "target" (one instance) or "targets" (several), not both; move the target into the targets list' },
};

function schemaIssue(error: ErrorObject): Issue {
  const params: Readonly<Record<string, unknown>> = error.params;
  const where = label(error.instancePath) || 'the manifest';
  // ajv gives schema paths relative to the referenced rule schema (`#/anyOf`): tell rules by their pointer.
  const shape = /^\/rules\/\d+$/.test(error.instancePath) && error.schemaPath === `#/${error.keyword}` ? RULE_SHAPE[error.keyword] : undefined;
  if (shape !== undefined) return issue('invalid_request', `${error.instancePath}/${shape.field}`, shape.message(where));
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
  const rule = FIELD_RULES[fieldOf(error.instancePath)] ?? error.message ?? 'is invalid';
  return issue('invalid_request', error.instancePath, `${where} ${rule}, got ${showValue(error.data)}`);
}

/** Lists whose items are judged by the list's rule. */
const ITEM_LISTS = new Set(['targets', 'unhealthy_status']);

/** The `FIELD_RULES` key of a pointer: its last token (an item of `ITEM_LISTS` counts as the list). */
function fieldOf(pointer: string): string {
  const tokens = pointer.split('/');
  const last = tokens.at(-1) ?? '';
  const field = /^\d+$/.test(last) && ITEM_LISTS.has(tokens.at(-2) ?? '') ? tokens.at(-2)! : last;
  // The health check's path may carry a query, unlike a match path.
  return field === 'path' && tokens.includes('health_check') ? 'health_path' : field;
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
