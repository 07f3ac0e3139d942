/**
 * The `basic_auth` policy (README "Policies"): who may pass, as bcrypt hashes, written inline or
 * in a users file beside the manifest. Pure: one definition of the value shared by validation,
 * render and status. A hash is a secret of sorts: nothing here puts one in a message.
 */
import type { ReferencedFile } from './referenced-files.js';
import { referencedText } from './referenced-files.js';

export interface BasicAuthUser {
  readonly username: string;
  /** A bcrypt hash (`$2a$`, `$2b$` or `$2y$`), as `caddy hash-password` prints it. */
  readonly password_hash?: string;
  /** Never valid: present only so validation can refuse a plaintext password with its pointer. */
  readonly password?: string;
}

export interface BasicAuthPolicy {
  /** Shown by browsers in the login prompt; Caddy's `restricted` when absent. */
  readonly realm?: string;
  /** The accounts, inline. Exactly one of `users` and `users_file`. */
  readonly users?: readonly BasicAuthUser[];
  /** A file beside the manifest with one `username:hash` per line (htpasswd's bcrypt form). */
  readonly users_file?: string;
}

/**
 * A bcrypt hash in Modular Crypt Format: `$2a$`, `$2b$` or `$2y$`, a two-digit cost from 04 to
 * 31, `$`, then 53 characters of bcrypt's base64 (22 of salt, 31 of hash): 60 characters in all.
 */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/;

export function isBcryptHash(text: string): boolean {
  return BCRYPT.test(text);
}

/** Why `hash` is not a bcrypt hash, for people (never quoting it), with the fix. */
export function bcryptProblem(hash: string): string {
  const fix = 'make one with `caddy hash-password --plaintext \'<password>\'` (or `htpasswd -nbB <user> <password>`) and give the line it prints';
  if (/^\$2[aby]\$/.test(hash)) {
    const cost = /^\$2[aby]\$([0-9]{2})\$/.exec(hash)?.[1];
    if (cost !== undefined && (Number(cost) < 4 || Number(cost) > 31)) return `has bcrypt cost ${cost}, but bcrypt takes 04 to 31; ${fix}`;
    return `starts like a bcrypt hash but is not one (a bcrypt hash is $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 characters: 60 in all, this one has ${hash.length}); ${fix}`;
  }
  if (hash.startsWith('$')) return `is not a bcrypt hash (only bcrypt, $2a$/$2b$/$2y$, is accepted); ${fix}`;
  return `is not a bcrypt hash: it looks like a plaintext password, which ingressd never accepts; ${fix}`;
}

/** A line of a users file that did not give an account: its 1-based number and why (no hash quoted). */
export interface UsersFileProblem {
  readonly line: number;
  readonly message: string;
}

/**
 * Reads a users file: `username:hash` per line; blank lines and lines starting with `#` are
 * skipped; CR before LF is ignored. Every other line's problem is returned, never thrown.
 */
export function parseUsersFile(text: string): { readonly users: readonly BasicAuthUser[]; readonly problems: readonly UsersFileProblem[] } {
  const users: BasicAuthUser[] = [];
  const problems: UsersFileProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problems.push({ line: i + 1, message: 'is not username:hash; write one account per line, such as alice:$2a$14$…' });
      return;
    }
    users.push({ username: line.slice(0, colon), password_hash: line.slice(colon + 1) });
  });
  return { users, problems };
}

/**
 * The accounts of a policy as served: the inline users, or the users file's (from `files`, as the
 * sources layer read it). Empty when the file could not be read (validation reports it).
 */
export function accountsOf(policy: BasicAuthPolicy, files: Readonly<Record<string, ReferencedFile>> | undefined): readonly BasicAuthUser[] {
  if (policy.users !== undefined) return policy.users;
  if (policy.users_file === undefined) return [];
  const file = referencedText(files, policy.users_file);
  return 'text' in file ? parseUsersFile(file.text).users : [];
}

/** The status effect of a policy, such as `requests without the username and password of one of 2 users (realm "shop") get 401`. */
export function describeBasicAuth(policy: BasicAuthPolicy): string {
  const count = policy.users?.length ?? 0;
  const who = policy.users_file === undefined ? `one of ${count} user${count === 1 ? '' : 's'}` : `a user in ${policy.users_file}`;
  return `requests without the username and password of ${who} (realm "${policy.realm ?? 'restricted'}") get 401`;
}
