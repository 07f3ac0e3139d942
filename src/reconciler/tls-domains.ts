/**
 * TLS_ALLOWED_DOMAINS: which hostnames may get ACME certificates. Pure; same semantics as the seed.
 */

/**
 * Splits a raw TLS_ALLOWED_DOMAINS value on commas, trims and lowercases each entry and drops
 * empty ones. `" a.com, ,*.B.com "` → `['a.com', '*.b.com']`.
 */
export function parseAllowedDomains(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry.length > 0);
}

/**
 * True when `hostname` is covered by one of the `allowed` entries:
 * - an entry equal to the hostname (`api.example.com`);
 * - `*`, which allows anything;
 * - `*.suffix`, which allows exactly one label before `.suffix`: not the apex, not deeper names.
 *
 * An empty list allows nothing. For a pattern hostname pass its wildcard form
 * (`*.dev.example.com`): `*` then counts as one label, so `*.example.com` allows
 * `*.example.com` but not `*.dev.example.com`. Case-insensitive; entries are trimmed.
 */
export function isDomainAllowed(hostname: string, allowed: readonly string[]): boolean {
  const host = hostname.toLowerCase();
  return allowed.some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry.length === 0) return false;
    if (entry === '*' || entry === host) return true;
    if (!entry.startsWith('*.')) return false;
    const suffix = entry.slice(1);
    if (!host.endsWith(suffix)) return false;
    const label = host.slice(0, -suffix.length);
    return label.length > 0 && !label.includes('.');
  });
}
