/** Code-unit order, the same on every machine (unlike localeCompare). Hostnames and ids are ASCII. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted copy without duplicates. */
export function uniqueSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareStrings);
}

/** Groups values by key; keys come back sorted, values in input order. */
export function groupBy<T>(values: Iterable<T>, keyOf: (value: T) => string): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    const group = groups.get(key);
    if (group) group.push(value);
    else groups.set(key, [value]);
  }
  return [...groups.entries()].sort(([a], [b]) => compareStrings(a, b));
}
