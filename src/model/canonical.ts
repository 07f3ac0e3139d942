/**
 * Canonical JSON: object keys sorted recursively, so equal values give equal bytes.
 * Arrays keep their order (callers sort lists where order carries no meaning).
 */
export function canonicalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => canonicalize(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonicalize(v);
    }
    return out as T;
  }
  return value;
}

/** Stable pretty JSON with a trailing newline, as written to disk and printed. */
export function stableStringify(value: unknown): string {
  return `${JSON.stringify(canonicalize(value), null, 2)}\n`;
}
