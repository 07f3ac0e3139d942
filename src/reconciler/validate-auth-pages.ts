/**
 * File-local rules of the `basic_auth` policy (model/basic-auth.ts) that the schema cannot say,
 * over the ingress as the sources layer loaded it (its referenced files already read into
 * `ingress.files`). Pure; never throws; every issue has a JSON pointer into the manifest and a
 * fix. No message quotes a password or a hash.
 */
import { bcryptProblem, isBcryptHash, parseUsersFile, type BasicAuthPolicy, type BasicAuthUser } from '../model/basic-auth.js';
import { issue, pointer, type Issue } from '../model/issues.js';
import { referencedText, referencePathProblem } from '../model/referenced-files.js';
import type { Ingress } from '../model/resource.js';

/** Issues of every rule's `basic_auth` (and of the files it names). */
export function validateAuthPages(ingress: Ingress): Issue[] {
  return ingress.rules.flatMap((rule, i) => (rule.basic_auth === undefined ? [] : validateBasicAuth(rule.basic_auth, ingress, (...t) => pointer('rules', i, 'basic_auth', ...t))));
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
  const pathProblem = referencePathProblem(path);
  if (pathProblem !== undefined) return [issue('invalid_request', at, `users_file ${JSON.stringify(path)} ${pathProblem}`)];
  const file = referencedText(ingress.files, path);
  if ('problem' in file) return [issue('invalid_request', at, `users_file ${JSON.stringify(path)} ${file.problem}`)];
  const { users, problems } = parseUsersFile(file.text);
  const issues = problems.map((p) => issue('invalid_request', at, `users_file ${path}, line ${p.line}: ${p.message}`));
  if (users.length === 0 && problems.length === 0) issues.push(issue('invalid_request', at, `users_file ${path} holds no account; add one username:hash line per user (htpasswd -nbB <user> <password> prints one)`));
  issues.push(...checkUsers(users, () => at, (j) => `users_file ${path}, account ${j + 1} (${JSON.stringify(users[j]?.username ?? '')})`));
  return issues;
}
