/**
 * The literal-host rules with a proxy spec of one port, grouped into routes (see rule-routes.ts):
 * hosts with the same path and handling share a route. Kept up to date one binding at a time, so
 * the incremental renderer rebuilds only the groups a change touches; `render` fills one from
 * scratch. Both get the same routes for the same bindings.
 */
import { canonicalize } from '../model/canonical.js';
import { hashOf } from '../model/ids.js';
import type { JsonObject } from '../model/json.js';
import { ID_PREFIX } from '../model/ownership.js';
import { comparePathMatches, type PathMatch } from '../model/routing.js';
import type { RenderSettings } from '../model/settings.js';
import type { Binding, Owned, ProxySpec } from './model.js';
import { idToken } from './instances.js';
import { compareStrings, uniqueSorted } from './order.js';
import { policyHandlers } from './policies.js';
import { proxyHandler } from './proxy.js';

export type ProxyBinding = Binding & { readonly proxy: ProxySpec };

export function hasProxy(binding: Binding): binding is ProxyBinding {
  return binding.proxy !== undefined;
}

/** Caddy `path` matcher values: a prefix matches itself and whole segments below it, never `/apis` for `/api`. */
export function pathMatcher(path: PathMatch): string[] {
  return path.type === 'exact' ? [path.path] : [path.path, `${path.path}/*`];
}

/** `all`, or `<type>.<token of the path>`: the path's part of an `@id`. */
export function pathToken(path: PathMatch | undefined): string {
  return path === undefined ? 'all' : `${path.type}.${idToken(path.path)}`;
}

/** Unique per port: the claims let one rule at most hold a host (pattern by wildcard form), port and path. */
export function ruleRouteId(port: number, host: string, path: PathMatch | undefined): string {
  return `${ID_PREFIX}.${port}.rule.${host.replaceAll('*', '_')}.${pathToken(path)}`;
}

/** A binding's route handlers (canonical) and its grouping key: path and handlers as one string. */
export interface Handling {
  readonly settings: RenderSettings;
  readonly handle: readonly JsonObject[];
  /** One string per binding, reused: V8 hashes a string once, so map lookups with it stay cheap. */
  readonly key: string;
}

/** Bindings are immutable and kept per ingress (bindings.ts): an unchanged one is not rendered again. */
const handlingCache = new WeakMap<Binding, Handling>();

export function handlingOf(binding: ProxyBinding, settings: RenderSettings): Handling {
  const cached = handlingCache.get(binding);
  if (cached !== undefined && cached.settings === settings) return cached;
  const { proxy } = binding;
  // Policies first (their fixed order is policies.ts's), then the path rewrite and the proxy.
  const handle: JsonObject[] = policyHandlers(proxy, settings);
  // Caddy makes an emptied path `/`, so `/api` itself reaches the target as `/`.
  if (proxy.stripPathPrefix && proxy.path !== undefined) handle.push({ handler: 'rewrite', strip_path_prefix: proxy.path.path });
  handle.push(proxyHandler(proxy, binding.isPattern, settings));
  const canonical = handle.map((h) => canonicalize(h));
  // The path as written, not pathKey (which folds case for claims): a group renders one path text.
  const handling = { settings, handle: canonical, key: `${proxy.path === undefined ? '' : `${proxy.path.type}\u0000${proxy.path.path}`}\u0001${JSON.stringify(canonical)}` };
  handlingCache.set(binding, handling);
  return handling;
}

interface Group {
  readonly key: string;
  readonly path: PathMatch | undefined;
  readonly handle: readonly JsonObject[];
  /** Host → bindings naming it (a validated set has one each). */
  readonly hosts: Map<string, number>;
  readonly members: Set<ProxyBinding>;
  /** Built route (canonical json); undefined while the group changed since. */
  route: Owned | undefined;
}

/** Contract: `routes()` after any sequence of add/remove equals a fresh instance's given the bindings left. */
export class RuleGroups {
  readonly #port: number;
  readonly #settings: RenderSettings;
  readonly #withOwners: boolean;
  readonly #groups = new Map<string, Group>();
  #order: Group[] | undefined;

  /** `withOwners` false leaves every route's `owners` empty (the incremental renderer has no use for them). */
  constructor(port: number, settings: RenderSettings, withOwners: boolean) {
    this.#port = port;
    this.#settings = settings;
    this.#withOwners = withOwners;
  }

  add(binding: ProxyBinding): void {
    const { key, handle } = handlingOf(binding, this.#settings);
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { key, path: binding.proxy.path, handle, hosts: new Map(), members: new Set(), route: undefined };
      this.#groups.set(key, group);
      this.#order = undefined;
    }
    group.members.add(binding);
    group.hosts.set(binding.host, (group.hosts.get(binding.host) ?? 0) + 1);
    this.#changed(group);
  }

  remove(binding: ProxyBinding): void {
    const group = this.#groups.get(handlingOf(binding, this.#settings).key);
    if (group === undefined || !group.members.delete(binding)) return;
    const count = (group.hosts.get(binding.host) ?? 1) - 1;
    if (count > 0) group.hosts.set(binding.host, count);
    else group.hosts.delete(binding.host);
    if (group.members.size === 0) {
      this.#groups.delete(group.key);
      this.#order = undefined;
    }
    this.#changed(group);
  }

  #changed(group: Group): void {
    group.route = undefined;
    // Its id (one host: named after the host; shared: after its handling), and so the order, may move.
    this.#order = undefined;
  }

  /** Routes in match order: path order, then `@id` (then the key, for input with one host and path twice). */
  routes(): Owned[] {
    const built = [...this.#groups.values()].map((group) => {
      group.route ??= this.#build(group);
      return group;
    });
    this.#order ??= built.sort((a, b) => comparePathMatches(a.path, b.path) || compareStrings(a.route!.id, b.route!.id) || compareStrings(a.key, b.key));
    return this.#order.map((g) => g.route!);
  }

  #build(group: Group): Owned {
    const hosts = [...group.hosts.keys()].sort(compareStrings);
    const id = hosts.length === 1 ? ruleRouteId(this.#port, hosts[0]!, group.path) : `${ID_PREFIX}.${this.#port}.rules.${pathToken(group.path)}.${hashOf(group.key).slice(0, 12)}`;
    const match: JsonObject = { host: hosts };
    if (group.path !== undefined) match['path'] = pathMatcher(group.path);
    const json = canonicalize({ '@id': id, match: [match], handle: [...group.handle], terminal: true });
    const owners = this.#withOwners ? uniqueSorted([...group.members].flatMap((b) => [b.ingressId, ...b.proxy.upstreams.flatMap((u) => (u.instance === undefined ? [] : [u.instance.id]))])) : [];
    return { id, owners, json };
  }
}
