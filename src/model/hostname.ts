/**
 * Hostnames and pattern hostnames (`{instance}.dev.example.com`). Pure.
 *
 * A pattern has one or more labels that are exactly `{capture}`; each capture becomes `*` in the
 * wildcard form and Caddy's `{http.request.host.labels.N}` placeholder, N counted from the right
 * (the TLD is label 0).
 */

const CAPTURE_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const CAPTURE_LABEL = /^\{([^{}]*)\}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_HOSTNAME_LENGTH = 253;

export interface HostnamePattern {
  /** The pattern as written (lowercased except capture names). */
  readonly original: string;
  /** Wildcard form with `*` for each capture: `*.dev.example.com`. */
  readonly wildcard: string;
  /** Capture names, left to right. */
  readonly captures: readonly string[];
  /** Capture name → Caddy placeholder (`{http.request.host.labels.2}`). */
  readonly placeholders: Readonly<Record<string, string>>;
  /** Capture name → label index counted from the right. */
  readonly labelIndexes: Readonly<Record<string, number>>;
}

export type PatternResult =
  | { readonly ok: true; readonly pattern: HostnamePattern }
  | { readonly ok: false; readonly message: string };

/** True when the hostname contains a `{...}` capture anywhere (well-formed or not). */
export function isPattern(hostname: string): boolean {
  return /\{[^{}]*\}/.test(hostname);
}

/**
 * Checks a literal hostname: labels of 1-63 letters, digits and hyphens (not at either end),
 * at most 253 characters in all. Returns a message naming the problem, or undefined when valid.
 * The input is expected lowercased.
 */
export function checkHostname(hostname: string): string | undefined {
  if (hostname.length === 0) return 'hostname is empty';
  if (hostname.length > MAX_HOSTNAME_LENGTH) {
    return `hostname is ${hostname.length} characters long; the limit is ${MAX_HOSTNAME_LENGTH}`;
  }
  for (const label of hostname.split('.')) {
    const problem = checkLabel(label);
    if (problem) return problem;
  }
  return undefined;
}

function checkLabel(label: string): string | undefined {
  if (label.length === 0) return 'hostname has an empty label (two dots in a row, or a leading or trailing dot)';
  if (label.length > 63) return `label "${label}" is ${label.length} characters long; the limit is 63`;
  if (!DNS_LABEL.test(label)) {
    return `label "${label}" may hold only letters, digits and hyphens, and may not start or end with a hyphen`;
  }
  return undefined;
}

/**
 * Parses a pattern hostname. Captures must be whole labels with names matching
 * `[a-zA-Z_][a-zA-Z0-9_]*`, used once each; the literal labels must be valid DNS labels;
 * at least two labels in all, at least one capture and at least one literal label
 * (a hostname without captures is "not a pattern", as in the seed).
 */
export function parsePattern(hostname: string): PatternResult {
  const labels = hostname.split('.');
  if (labels.length < 2) {
    return { ok: false, message: `pattern "${hostname}" must have at least two labels, such as {instance}.example.com` };
  }
  const captures: string[] = [];
  // Null-prototype records: a capture named `__proto__` or `constructor` must stay an own entry.
  const placeholders: Record<string, string> = Object.create(null) as Record<string, string>;
  const labelIndexes: Record<string, number> = Object.create(null) as Record<string, number>;
  const wildcard: string[] = [];
  for (const [i, label] of labels.entries()) {
    const capture = CAPTURE_LABEL.exec(label);
    if (capture) {
      const name = capture[1]!;
      if (!CAPTURE_NAME.test(name)) {
        return { ok: false, message: `capture "{${name}}" needs a name of letters, digits and underscores, such as {instance}` };
      }
      if (captures.includes(name)) return { ok: false, message: `duplicate capture name "{${name}}" in pattern; use each capture once` };
      const index = labels.length - 1 - i;
      captures.push(name);
      labelIndexes[name] = index;
      placeholders[name] = `{http.request.host.labels.${index}}`;
      wildcard.push('*');
      continue;
    }
    if (label.includes('{') || label.includes('}')) {
      return { ok: false, message: `mixed captures like "${label}" are not supported; a capture must be a whole label, such as {name}.example.com` };
    }
    const problem = checkLabel(label);
    if (problem) return { ok: false, message: problem };
    wildcard.push(label);
  }
  if (captures.length === 0) {
    return { ok: false, message: `"${hostname}" is not a pattern: it has no {capture} label, such as {instance}.example.com` };
  }
  if (captures.length === labels.length) {
    return { ok: false, message: `pattern "${hostname}" needs at least one literal label, such as {instance}.example.com` };
  }
  const wildcardText = wildcard.join('.');
  if (wildcardText.length > MAX_HOSTNAME_LENGTH) {
    return { ok: false, message: `hostname is ${wildcardText.length} characters long; the limit is ${MAX_HOSTNAME_LENGTH}` };
  }
  return { ok: true, pattern: { original: hostname, wildcard: wildcardText, captures, placeholders, labelIndexes } };
}

/** Capture names referenced by a target template such as `{instance}-web`. */
export function templateCaptures(template: string): string[] {
  return [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
}

/** Replaces each `{capture}` of a target template with the pattern's Caddy placeholder. */
export function expandTemplate(template: string, pattern: HostnamePattern): string {
  return template.replace(/\{([^{}]*)\}/g, (whole, name: string) =>
    Object.hasOwn(pattern.placeholders, name) ? pattern.placeholders[name]! : whole,
  );
}

/** The key a hostname occupies for conflicts: the wildcard form for patterns, the name itself otherwise. */
export function hostKey(hostname: string): string {
  if (!isPattern(hostname)) return hostname;
  const parsed = parsePattern(hostname);
  return parsed.ok ? parsed.pattern.wildcard : hostname;
}
