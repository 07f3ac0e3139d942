/**
 * The `basic_auth` policy as Caddy's `authentication` handler with the `http_basic` provider.
 * Pure. Sits after the IP filter and before the rate limit (policies.ts keeps the order).
 */
import { Buffer } from 'node:buffer';
import { accountsOf, type BasicAuthPolicy } from '../model/basic-auth.js';
import type { JsonObject } from '../model/json.js';
import type { ReferencedFile } from '../model/referenced-files.js';
import { compareStrings } from './order.js';

/**
 * The handler for a validated policy; undefined when it has no accounts (a users file that could
 * not be read: validation refused the ingress, so this is only reached by a caller skipping it).
 *
 * - Passwords are the bcrypt hashes base64-encoded: Caddy before 2.8 requires base64, and 2.8+
 *   still decodes a password that does not start with `$`, so one form serves every Caddy.
 * - `hash_cache` keeps the result of a (username, password) check, so a client sending the same
 *   credentials on every request costs one bcrypt comparison, not one per request.
 * - Accounts are sorted by username: the same users in any order give the same bytes.
 * - Caddy answers 401 with `WWW-Authenticate: Basic realm="<realm>"` (`restricted` when absent)
 *   as an HTTP error, so `error_pages` and `handle_errors` see it.
 */
export function basicAuthHandler(policy: BasicAuthPolicy, files: Readonly<Record<string, ReferencedFile>> | undefined): JsonObject | undefined {
  const accounts = [...accountsOf(policy, files)]
    .filter((u) => u.password_hash !== undefined)
    .sort((a, b) => compareStrings(a.username, b.username))
    .map((u): JsonObject => ({ username: u.username, password: Buffer.from(u.password_hash ?? '', 'utf8').toString('base64') }));
  if (accounts.length === 0) return undefined;
  const provider: JsonObject = { accounts, hash: { algorithm: 'bcrypt' }, hash_cache: {} };
  if (policy.realm !== undefined) provider['realm'] = policy.realm;
  return { handler: 'authentication', providers: { http_basic: provider } };
}
