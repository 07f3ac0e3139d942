/**
 * File-local rules of the `basic_auth` and `error_pages` policies (model/basic-auth.ts,
 * model/error-pages.ts) that the schema cannot say,
 * over the ingress as the sources layer loaded it (its referenced files already read into
 * `ingress.files`). Pure; never throws; every issue has a JSON pointer into the manifest and a
 * fix. No message quotes a password or a hash.
 */
import { bcryptProblem, isBcryptHash, parseUsersFile, type BasicAuthPolicy, type BasicAuthUser } from '../model/basic-auth.js';
import { CONTENT_TYPE, errorPageKeyProblem, type ErrorPages } from '../model/error-pages.js';
import { issue, pointer, type Issue } from '../model/issues.js';
import { MAX_REFERENCED_FILE_BYTES, referencedText, referencePathProblem } from '../model/referenced-files.js';
import type { Ingress } from '../model/resource.js';

/** Issues of every rule's `basic_auth` and `error_pages` (and of the files they name). */
export function validateAuthPages(ingress: Ingress): Issue[] {
  return ingress.rules.flatMap((rule, i) => [
    ...(rule.basic_auth === undefined ? [] : validateBasicAuth(rule.basic_auth, ingress, (...t) => pointer('rules', i, 'basic_auth', ...t))),
    ...(rule.error_pages === undefined ? [] : validateErrorPages(rule.error_pages, ingress, (...t) => pointer('rules', i, 'error_pages', ...t))),
  ]);
}

/**
 * - each key a status from 400 to 599 or a class `4xx`/`5xx` (`"4040"`, `"abc"`, `"3xx"` refused);
 * - each page exactly one of `body` and `file`; a body at most 256 KiB; a Content-Type that is a
 *   media type;
 * - a file inside the manifest's directory, read (not missing, not above 256 KiB).
 */
function validateErrorPages(pages: ErrorPages, ingress: Ingress, at: At): Issue[] {
  const issues: Issue[] = [];
  for (const key of Object.keys(pages).sort()) {
    const page = pages[key]!;
    const keyProblem = errorPageKeyProblem(key);
    if (keyProblem !== undefined) issues.push(issue('invalid_request', at(key), `error_pages key ${JSON.stringify(key)} ${keyProblem}`));
    if ((page.body === undefined) === (page.file === undefined)) {
      issues.push(issue('invalid_request', at(key), page.body === undefined
        ? `error page ${key} needs its content: add "body": "<h1>…</h1>" or "file": "${key}.html" (a file beside the manifest)`
        : `error page ${key} has both body and file; give one of them`));
    }
    if (page.body !== undefined && Buffer.byteLength(page.body) > MAX_REFERENCED_FILE_BYTES) {
      issues.push(issue('invalid_request', at(key, 'body'), `error page ${key} is above the limit of 256 KiB; make it smaller, or link to larger assets`));
    }
    if (page.content_type !== undefined && !CONTENT_TYPE.test(page.content_type)) {
      issues.push(issue('invalid_request', at(key, 'content_type'), `content_type ${JSON.stringify(page.content_type)} is not a media type; write one such as "text/html; charset=utf-8"`));
    }
    if (page.file !== undefined && page.body === undefined) issues.push(...checkFile(`error page ${key}: file`, page.file, ingress, at(key, 'file')));
  }
  return issues;
}

/** The problem of a referenced file (its path's rules, then whether it was read), as one issue at `at`. */
function checkFile(what: string, path: string, ingress: Ingress, at: string): Issue[] {
  const pathProblem = referencePathProblem(path);
  if (pathProblem !== undefined) return [issue('invalid_request', at, `${what} ${JSON.stringify(path)} ${pathProblem}`)];
  const file = referencedText(ingress.files, path);
  return 'problem' in file ? [issue('invalid_request', at, `${what} ${JSON.stringify(path)} ${file.problem}`)] : [];
}

type At = (...tokens: (string | number)[]) => string;

/**
 * - exactly one of `users` and `users_file`;
 * - a realm without `"`, `\` or control characters (it is quoted in WWW-Authenticate);
 * - each user: a username without `:`, unique; a bcrypt `password_hash`, never `password`;
 * - a users file inside the manifest's directory, read, and every line `username:bcrypt-hash`.
 */
function validateBasicAuth(policy: BasicAuthPolicy, ingress: Ingress, at: At): Issue[] {
  const issues: Issue[] = [];
  if ((policy.users === undefined) === (policy.users_file === undefined)) {
    const both = policy.users !== undefined;
    issues.push(issue('invalid_request', at(both ? 'users_file' : 'users'), both
      ? 'basic_auth has both users and users_file; give one of them (move the inline users into the file, or remove users_file)'
      : 'basic_auth needs its accounts: add "users": [{"username": "alice", "password_hash": "$2a$14$…"}] or "users_file": "shop.users"'));
  }
  if (policy.realm !== undefined && /["\\\u0000-\u001f\u007f]/.test(policy.realm)) {
    issues.push(issue('invalid_request', at('realm'), 'realm holds a quote, a backslash or a control character, which cannot stand in WWW-Authenticate: Basic realm="…"; remove it'));
  }
  if (policy.users !== undefined) issues.push(...checkUsers(policy.users, (j, field) => at('users', j, field), (j) => `users[${j}]`));
  if (policy.users_file !== undefined && policy.users === undefined) issues.push(...checkUsersFile(policy.users_file, ingress, at('users_file')));
  return issues;
}

function checkUsers(users: readonly BasicAuthUser[], at: (j: number, field: string) => string, label: (j: number) => string): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  users.forEach((user, j) => {
    if (user.username.includes(':') || /[\u0000-\u001f\u007f]/.test(user.username)) {
      issues.push(issue('invalid_request', at(j, 'username'), `${label(j)}: a username cannot hold a colon or a control character (the browser sends username:password); choose another`));
    } else if (seen.has(user.username)) {
      issues.push(issue('invalid_request', at(j, 'username'), `${label(j)}: username ${JSON.stringify(user.username)} is listed twice; keep one entry per user`));
    }
    seen.add(user.username);
    if (user.password !== undefined) {
      issues.push(issue('invalid_request', at(j, 'password'), `${label(j)}: a plaintext password is never accepted; run \`caddy hash-password --plaintext '<password>'\` and give what it prints as "password_hash" instead of "password"`));
    } else if (user.password_hash === undefined) {
      issues.push(issue('invalid_request', at(j, 'password_hash'), `${label(j)}: missing "password_hash"; run \`caddy hash-password --plaintext '<password>'\` and give what it prints`));
    } else if (!isBcryptHash(user.password_hash)) {
      issues.push(issue('invalid_request', at(j, 'password_hash'), `${label(j)}: password_hash ${bcryptProblem(user.password_hash)}`));
    }
  });
  return issues;
}

function checkUsersFile(path: string, ingress: Ingress, at: string): Issue[] {
  const unread = checkFile('users_file', path, ingress, at);
  const file = referencedText(ingress.files, path);
  if (unread.length > 0 || 'problem' in file) return unread;
  const { users, problems } = parseUsersFile(file.text);
  const issues = problems.map((p) => issue('invalid_request', at, `users_file ${path}, line ${p.line}: ${p.message}`));
  if (users.length === 0 && problems.length === 0) issues.push(issue('invalid_request', at, `users_file ${path} holds no account; add one username:hash line per user (htpasswd -nbB <user> <password> prints one)`));
  issues.push(...checkUsers(users, () => at, (j) => `users_file ${path}, account ${j + 1} (${JSON.stringify(users[j]?.username ?? '')})`));
  return issues;
}
