/**
 * Validation issues: data returned by the pure core, never thrown.
 * Codes are API (snake_case, stable); messages are for people and may change.
 */

export const ISSUE_CODES = {
  /** The manifest is malformed: bad JSON, schema violation or a broken rule. */
  invalid_request: 'the manifest is malformed or breaks a rule',
  /** Another resource of the same kind already uses this name (or id). */
  already_exists: 'a resource of the same kind already has this name or id',
  /** Another ingress accepted earlier serves this hostname on this port. */
  hostname_in_use: 'the hostname and port are already served by another ingress',
  /** A literal-host rule targets an instance that no Instance declares (does not block serving). */
  instance_not_found: 'the target instance is not declared',
  /** A TLS hostname is not covered by TLS_ALLOWED_DOMAINS. */
  domain_not_allowed: 'the TLS hostname is not in TLS_ALLOWED_DOMAINS',
  /** TLS was requested but ACME is not configured. */
  tls_not_configured: 'TLS requested but ACME is not configured',
  /** The manifest path exists but cannot be read: a dangling or looping symbolic link, no permission. */
  unreadable_file: 'the manifest file cannot be read',
} as const;

export type IssueCode = keyof typeof ISSUE_CODES;

export interface Issue {
  readonly code: IssueCode;
  /** JSON pointer into the manifest file (`/rules/0/match/port`); `` for the whole file. */
  readonly path: string;
  /** What is wrong and how to fix it. */
  readonly message: string;
}

export function issue(code: IssueCode, path: string, message: string): Issue {
  return { code, path, message };
}

/** Escape one reference token of a JSON pointer (RFC 6901). */
export function pointerToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function pointer(...tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${pointerToken(t)}`).join('');
}
