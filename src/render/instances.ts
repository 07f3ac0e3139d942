import { fastHashOf, hashOf } from '../model/ids.js';
import type { Instance } from '../model/resource.js';
import { compareStrings } from './order.js';

/** Finds the Instance a rule's target names, or undefined when none is declared. */
export type InstanceLookup = (target: string) => Instance | undefined;

/** A key that changes whenever the answers of a lookup over these instances could change. */
export function instancesKey(instances: readonly Instance[]): string {
  let key = '';
  for (const i of instances) key += `${i.id}\u0000${i.name}\u0000${i.address}\u0001`;
  return fastHashOf(key);
}

/**
 * Looks targets up by instance name first, then by instance id, both case-insensitively
 * (the same rule validation uses for `instance_not_found`).
 */
export function createInstanceLookup(instances: readonly Instance[]): InstanceLookup {
  const byName = new Map<string, Instance>();
  const byId = new Map<string, Instance>();
  // Sorted so that, should two instances ever share a lowercased name, the pick does not depend on input order.
  const sorted = [...instances].sort((a, b) => compareStrings(a.id, b.id) || compareStrings(a.name, b.name));
  for (const instance of sorted) {
    const name = instance.name.toLowerCase();
    const id = instance.id.toLowerCase();
    if (!byName.has(name)) byName.set(name, instance);
    if (!byId.has(id)) byId.set(id, instance);
  }
  return (target) => {
    const key = target.toLowerCase();
    return byName.get(key) ?? byId.get(key);
  };
}

const CLEAN_TOKEN = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/**
 * A name as it may appear inside an `@id`: only `[a-z0-9.-]`. Names that already qualify are kept
 * as they are, so ids stay readable; any other name is cleaned and suffixed with a short hash of
 * the original, so two different names never give the same token.
 */
export function idToken(name: string): string {
  if (CLEAN_TOKEN.test(name)) return name;
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '');
  return `${cleaned.length > 0 ? cleaned : 'x'}-${hashOf(name).slice(0, 8)}`;
}
