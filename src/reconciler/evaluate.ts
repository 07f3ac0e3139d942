/**
 * Cross-file evaluation: which manifests are accepted into the served set, and why the others
 * are not. Pure and deterministic; linear in the number of rules apart from one sort.
 */
import { isPattern } from '../model/hostname.js';
import { issue, pointer, type Issue } from '../model/issues.js';
import type { Manifest } from '../model/manifest.js';
import type { Ingress, Instance, Resource } from '../model/resource.js';
import type { TlsSettings } from '../model/settings.js';
import { describePath, targetsOf, targetTokens } from '../model/routing.js';
import { claimsOf, type RouteClaim } from './claims.js';
import { portModeMessage, validateResource } from './validate.js';

export interface Evaluation {
  readonly manifest: Manifest;
  /** True when the resource is part of the served set (it may still carry non-blocking issues). */
  readonly accepted: boolean;
  /** File-local issues first, then cross-file ones. */
  readonly issues: readonly Issue[];
}

export interface EvaluatedSet {
  /** Every manifest given, by file, in input order. */
  readonly byFile: ReadonlyMap<string, Evaluation>;
  /** Accepted ingresses, sorted by name. */
  readonly ingresses: readonly Ingress[];
  /** Accepted instances, sorted by name. */
  readonly instances: readonly Instance[];
  /** File of each accepted resource, by resource id. */
  readonly fileById: ReadonlyMap<string, string>;
}

/** Issues that keep a resource out of the served set: all but `instance_not_found`. */
export function isBlockingIssue(found: Issue): boolean {
  return found.code !== 'instance_not_found';
}

export interface Candidate {
  readonly file: string;
  readonly resource: Resource;
}

interface Holder {
  readonly name: string;
  readonly file: string;
}

/**
 * Judges the whole set of manifests. A manifest is accepted when it has a resource, no blocking
 * file-local issue (`manifest.issues` plus `validateResource`), and no clash with a resource
 * accepted before it.
 *
 * Precedence: manifests with an `acceptedSince` entry (keyed by file, ms since the epoch: it was
 * accepted on an earlier pass) come first, oldest first; then the rest; ties by name, then file.
 * Walking in that order, a resource is refused when
 * - another accepted resource of the same kind has its name (`already_exists` at `/name`), or any
 *   accepted resource has its id (`already_exists` at `/id`);
 * - an ingress rule claims a hostname (by `hostKey`, so patterns by their wildcard form), port and
 *   path (none, or a path and its type) already claimed by an accepted ingress (`hostname_in_use`);
 *   a `redirect_http` rule also claims `tls.httpPort`;
 * - an ingress rule would put TLS on a port where an accepted ingress serves plain HTTP, or the
 *   reverse (`invalid_request`); redirects count as plain HTTP on `tls.httpPort`.
 * A refused resource claims nothing. Finally each accepted ingress gets a non-blocking
 * `instance_not_found` for every literal-host rule whose target matches no accepted Instance by
 * name or id (case-insensitive).
 */
export function evaluate(manifests: readonly Manifest[], acceptedSince: ReadonlyMap<string, number>, tls: TlsSettings): EvaluatedSet {
  const localIssues = new Map<string, readonly Issue[]>();
  const candidates: Candidate[] = [];
  for (const manifest of manifests) {
    const issues = localIssuesOf(manifest, tls);
    localIssues.set(manifest.file, issues);
    if (manifest.resource !== undefined && !issues.some(isBlockingIssue)) candidates.push({ file: manifest.file, resource: manifest.resource });
  }
  candidates.sort(byPrecedence(acceptedSince));

  const registry = new Registry(tls.httpPort);
  const crossIssues = new Map<string, Issue[]>();
  const accepted: Candidate[] = [];
  for (const candidate of candidates) {
    const issues = registry.check(candidate);
    if (issues.length === 0) {
      registry.add(candidate);
      accepted.push(candidate);
    } else {
      crossIssues.set(candidate.file, issues);
    }
  }

  const ingresses = accepted.flatMap((c) => (c.resource.kind === 'Ingress' ? [{ file: c.file, ingress: c.resource }] : []));
  const instances = accepted.flatMap((c) => (c.resource.kind === 'Instance' ? [c.resource] : []));
  const known = new Set(instances.flatMap(instanceKeys));
  for (const { file, ingress } of ingresses) {
    const missing = instanceNotFound(ingress, known);
    if (missing.length > 0) crossIssues.set(file, missing);
  }

  const acceptedFiles = new Set(accepted.map((c) => c.file));
  const byFile = new Map<string, Evaluation>();
  for (const manifest of manifests) {
    const local = localIssues.get(manifest.file) ?? [];
    const cross = crossIssues.get(manifest.file);
    const issues = cross === undefined ? local : [...local, ...cross];
    byFile.set(manifest.file, { manifest, accepted: acceptedFiles.has(manifest.file), issues });
  }
  return {
    byFile,
    ingresses: ingresses.map((e) => e.ingress).sort(byName),
    instances: instances.sort(byName),
    fileById: new Map(accepted.map((c) => [c.resource.id, c.file])),
  };
}

/** The keys by which an ingress target may name an Instance: its name and its id, case-insensitive. */
export function instanceKeys(instance: Instance): string[] {
  return [instance.name.toLowerCase(), instance.id.toLowerCase()];
}

/** An accepted ingress's `instance_not_found` issues: literal-host rules whose target is not in `known` (see `instanceKeys`). */
export function instanceNotFound(ingress: Ingress, known: { has(key: string): boolean }): Issue[] {
  return ingress.rules.flatMap((rule, i) => {
    if (isPattern(rule.match.hostname)) return [];
    return targetsOf(rule).flatMap((target, j) => {
      if (known.has(target.instance.toLowerCase())) return [];
      const message = `instance "${target.instance}" is not declared; this rule will start serving as soon as an Instance with that name is declared`;
      return [issue('instance_not_found', pointer('rules', i, ...targetTokens(rule, j), 'instance'), message)];
    });
  });
}

/**
 * A manifest's own issues depend only on the manifest and the TLS settings, and manifests are
 * immutable (a changed file is a new object): remember them, so re-evaluating 10,000 manifests after
 * one changed validates one.
 */
const localCache = new WeakMap<Manifest, { readonly tls: TlsSettings; readonly issues: readonly Issue[] }>();

export function localIssuesOf(manifest: Manifest, tls: TlsSettings): readonly Issue[] {
  const cached = localCache.get(manifest);
  if (cached !== undefined && cached.tls === tls) return cached.issues;
  const { resource } = manifest;
  const issues = [...manifest.issues, ...(resource === undefined ? [] : validateResource(resource, tls))];
  if (resource === undefined && issues.length === 0) issues.push(issue('invalid_request', '', 'the manifest could not be read into a resource'));
  localCache.set(manifest, { tls, issues });
  return issues;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: Resource, b: Resource): number {
  return compareText(a.name, b.name);
}

export function byPrecedence(acceptedSince: Pick<ReadonlyMap<string, number>, 'get'>): (a: Candidate, b: Candidate) => number {
  return (a, b) => {
    const sinceA = acceptedSince.get(a.file);
    const sinceB = acceptedSince.get(b.file);
    if (sinceA !== sinceB) {
      if (sinceA === undefined) return 1;
      if (sinceB === undefined) return -1;
      return sinceA - sinceB;
    }
    return compareText(a.resource.name, b.resource.name) || compareText(a.file, b.file);
  };
}

/** What accepted resources hold: every slot and each port's TLS mode (see claims.ts). */
class Registry {
  readonly #httpPort: number;
  readonly #slots = new Map<string, Holder & { readonly kind: string; readonly redirect: boolean }>();
  readonly #portModes = new Map<number, Holder & { readonly tls: boolean }>();

  constructor(httpPort: number) {
    this.#httpPort = httpPort;
  }

  /** Every clash between `candidate` and what is already held; empty when it can be added. */
  check({ resource }: Candidate): Issue[] {
    const issues: Issue[] = [];
    const claims = claimsOf(resource, this.#httpPort);
    const sameName = this.#slots.get(claims.name);
    const sameId = this.#slots.get(claims.id);
    if (sameName !== undefined) {
      const message = `an ${resource.kind} named "${resource.name}" already exists in ${sameName.file}; rename one of them`;
      issues.push(issue('already_exists', '/name', message));
    } else if (sameId !== undefined) {
      const message = `id "${resource.id}" is already used by ${sameId.kind} "${sameId.name}" (${sameId.file}); change or remove "id"`;
      issues.push(issue('already_exists', '/id', message));
    }
    if (resource.kind === 'Ingress') issues.push(...this.#checkRoutes(resource, claims.routes));
    return issues;
  }

  #checkRoutes(ingress: Ingress, routes: readonly RouteClaim[]): Issue[] {
    const issues: Issue[] = [];
    for (const claim of routes) {
      const rule = ingress.rules[claim.rule]!;
      const shown = claim.host === rule.match.hostname ? `"${claim.host}"` : `"${rule.match.hostname}" (${claim.host})`;
      const held = this.#slots.get(claim.slot);
      if (held !== undefined) {
        const mine = claim.redirect ? ', which this rule\'s redirect_http needs,' : '';
        const theirs = held.redirect ? 'the redirect_http of ingress' : 'ingress';
        const path = claim.path === undefined ? '' : ` with ${describePath(claim.path)}`;
        const message = `hostname ${shown}${path} on port ${claim.port}${mine} is already served by ${theirs} "${held.name}" (${held.file}); remove it there or pick another hostname, port or path`;
        issues.push(issue('hostname_in_use', pointer('rules', claim.rule, 'match', 'hostname'), message));
      }
      const mode = this.#portModes.get(claim.port);
      if (mode !== undefined && mode.tls !== claim.tls) {
        const path = pointer('rules', claim.rule, claim.redirect ? 'redirect_http' : 'tls');
        issues.push(issue('invalid_request', path, portModeMessage(claim, claim.tls, `ingress "${mode.name}" (${mode.file})`)));
      }
    }
    return issues;
  }

  /** Records an accepted resource; call only after `check` returned no issues for it. */
  add({ file, resource }: Candidate): void {
    const holder = { name: resource.name, file, kind: resource.kind };
    const claims = claimsOf(resource, this.#httpPort);
    this.#slots.set(claims.name, { ...holder, redirect: false });
    this.#slots.set(claims.id, { ...holder, redirect: false });
    for (const claim of claims.routes) {
      this.#slots.set(claim.slot, { ...holder, redirect: claim.redirect });
      if (!this.#portModes.has(claim.port)) this.#portModes.set(claim.port, { ...holder, tls: claim.tls });
    }
  }
}
