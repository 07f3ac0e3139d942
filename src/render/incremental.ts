import { canonicalize } from '../model/canonical.js';
import type { JsonObject } from '../model/json.js';
import { serverName } from '../model/ownership.js';
import type { Ingress } from '../model/resource.js';
import type { RenderSettings } from '../model/settings.js';
import { bindIngress, compareBindings } from './bindings.js';
import { createInstanceLookup, instancesKey, type InstanceLookup } from './instances.js';
import type { Binding } from './model.js';
import { compareStrings } from './order.js';
import { redirectRoutes } from './redirects.js';
import { exactRoute, exactRouteId, notFoundRoute } from './routes.js';
import { errorRoutes, notFoundPage } from './error-pages.js';
import { httpApp, serverJson } from './servers.js';
import { renderStorage } from './storage.js';
import { challengePort, tlsPolicy } from './tls.js';
import type { RenderInput, RenderWarning } from './types.js';
import { IncrementalWarnings } from './incremental-warnings.js';
import { sortedHosts, type ExactGroup } from './exact-groups.js';
import { hasProxy, RuleGroups } from './rule-groups.js';
import { orderedPatternRoutes } from './rule-routes.js';

/** What `IncrementalRenderer.render` returns: `render`'s config and warnings (no owners). */
export interface IncrementalResult {
  readonly config: JsonObject;
  readonly warnings: readonly RenderWarning[];
}

interface PortState {
  /** Bindings on this port, and how many of them have TLS. */
  bindings: number;
  tls: number;
  readonly exact: Map<string, ExactGroup>;
  /** Pattern bindings by wildcard host (a validated set has one per host and path). */
  readonly patterns: Map<string, Binding[]>;
  /** Literal-host bindings with a proxy spec, grouped into routes, and those routes; undefined while they changed. */
  readonly rules: RuleGroups;
  ruleRoutes: JsonObject[] | undefined;
  /** Exact groups in route order; undefined while groups came or went. */
  exactOrder: ExactGroup[] | undefined;
  /** Pattern routes in order; undefined while patterns changed. */
  patternRoutes: JsonObject[] | undefined;
  /** Bindings with error pages: their pages make the server's `errors.routes`. */
  readonly paged: Set<Binding>;
}

/**
 * `render(input, settings).config`, remembering the previous call: only the routes and servers
 * whose bindings changed are built again, and every other piece of the result is the same object
 * (`===`) as in the previous result. A caller that changes one ingress among 10,000 pays for that
 * ingress's routes, and a diff against the previous result can skip unchanged subtrees by identity.
 *
 * Contract: for any sequence of inputs, each result's `config` is deep-equal to (and canonical
 * like) `render(input, settings).config`, and its `warnings` equal `render`'s. Ingresses are
 * recognised by object identity (they are immutable); a different set of instances starts over.
 * Results are never mutated afterwards. Owners are not produced: use `render` for those.
 */
export class IncrementalRenderer {
  readonly #settings: RenderSettings;
  #lookupKey: string | undefined;
  #lookup: InstanceLookup = () => undefined;
  /** Bindings (and why a rule was not rendered) of every ingress in the last input, with the last pass that saw it. */
  readonly #ingresses = new Map<Ingress, { readonly bindings: readonly Binding[]; readonly errors: readonly string[]; pass: number }>();
  #pass = 0;
  #ports = new Map<number, PortState>();
  readonly #tlsBindings = new Set<Binding>();
  readonly #redirectBindings = new Set<Binding>();
  /** Last server object per port; removed when something on the port changed. */
  readonly #servers = new Map<number, JsonObject>();
  #tlsPolicy: JsonObject | undefined;
  #tlsDirty = true;
  #challenge: number | undefined;
  #result: IncrementalResult | undefined;
  readonly #warnings: IncrementalWarnings;

  constructor(settings: RenderSettings) {
    this.#settings = settings;
    this.#warnings = new IncrementalWarnings(settings);
  }

  render(input: RenderInput): IncrementalResult {
    const lookupKey = instancesKey(input.instances);
    if (lookupKey !== this.#lookupKey) this.#reset(lookupKey, createInstanceLookup(input.instances));
    // Marks every ingress still present with this pass's number; unmarked ones left the input.
    const pass = ++this.#pass;
    let kept = 0;
    let added = 0;
    for (const ingress of input.ingresses) {
      const known = this.#ingresses.get(ingress);
      if (known !== undefined) {
        if (known.pass !== pass) kept++;
        known.pass = pass;
        continue;
      }
      const results = bindIngress(ingress, this.#lookup, lookupKey);
      const bindings = results.filter((b): b is Binding => typeof b !== 'string');
      for (const binding of bindings) this.#count(binding, 1);
      const errors = results.filter((b): b is string => typeof b === 'string');
      this.#ingresses.set(ingress, { bindings, errors, pass });
      this.#warnings.add(ingress, bindings, errors);
      added++;
    }
    let removed = 0;
    if (this.#ingresses.size > kept + added) {
      for (const [ingress, known] of this.#ingresses) {
        if (known.pass === pass) continue;
        for (const binding of known.bindings) this.#count(binding, -1);
        this.#ingresses.delete(ingress);
        this.#warnings.remove(ingress);
        removed++;
      }
    }
    const changed = added + removed > 0;
    if (changed || this.#result === undefined) this.#result = { config: this.#assemble(), warnings: this.#collectWarnings() };
    return this.#result;
  }

  /** `render`'s warnings, from what changed since the last call (see incremental-warnings.ts). */
  #collectWarnings(): readonly RenderWarning[] {
    const tlsPorts = new Set<number>();
    for (const [port, state] of this.#ports) if (state.tls > 0) tlsPorts.add(port);
    // challengePort needs only whether some binding has TLS: one of them stands for all.
    const someTls = this.#tlsBindings.values().next();
    const alpnPort = this.#settings.tls.acme?.challenge === 'tls-alpn-01' && someTls.done !== true ? challengePort([someTls.value], this.#settings) : undefined;
    const onAlpnPort = alpnPort === undefined ? undefined : this.#ports.get(alpnPort);
    const plainAlpnPort = onAlpnPort !== undefined && onAlpnPort.bindings > 0 && onAlpnPort.tls === 0 ? alpnPort : undefined;
    return this.#warnings.current({ tlsPorts, plainAlpnPort, tlsBindings: this.#tlsBindings });
  }

  #reset(lookupKey: string, lookup: InstanceLookup): void {
    this.#lookupKey = lookupKey;
    this.#lookup = lookup;
    this.#ingresses.clear();
    this.#warnings.clear();
    this.#ports = new Map();
    this.#tlsBindings.clear();
    this.#redirectBindings.clear();
    this.#servers.clear();
    this.#tlsDirty = true;
    this.#result = undefined;
  }

  /** Adds (`delta` 1) or removes (-1) one binding, marking what it touches for rebuilding. */
  #count(binding: Binding, delta: 1 | -1): void {
    const { port } = binding;
    let state = this.#ports.get(port);
    if (state === undefined) {
      state = { bindings: 0, tls: 0, exact: new Map(), patterns: new Map(), rules: new RuleGroups(port, this.#settings, false), ruleRoutes: undefined, exactOrder: undefined, patternRoutes: undefined, paged: new Set() };
      this.#ports.set(port, state);
    }
    state.bindings += delta;
    this.#servers.delete(port);
    if (binding.proxy?.errorPages !== undefined) toggle(state.paged, binding, delta);
    if (binding.tls) {
      state.tls += delta;
      toggle(this.#tlsBindings, binding, delta);
      this.#tlsDirty = true;
    }
    if (binding.redirect) {
      toggle(this.#redirectBindings, binding, delta);
      this.#servers.delete(this.#settings.tls.httpPort);
    }
    if (binding.isPattern) this.#countPattern(state, binding, delta);
    else if (hasProxy(binding)) {
      if (delta > 0) state.rules.add(binding);
      else state.rules.remove(binding);
      state.ruleRoutes = undefined;
    } else this.#countExact(state, binding, delta);
    if (state.bindings === 0) this.#ports.delete(port);
  }

  #countExact(state: PortState, binding: Binding, delta: 1 | -1): void {
    const key = `${binding.upstream.dnsName}\u0000${binding.upstream.port}`;
    let group = state.exact.get(key);
    if (group === undefined) {
      group = { id: exactRouteId(binding.port, binding.upstream), upstream: binding.upstream, hosts: new Map(), sorted: undefined, pending: new Map(), route: undefined };
      state.exact.set(key, group);
      state.exactOrder = undefined;
    }
    const before = group.hosts.get(binding.host) ?? 0;
    const count = before + delta;
    if (count > 0) group.hosts.set(binding.host, count);
    else group.hosts.delete(binding.host);
    if ((before === 0) !== (count === 0)) {
      // A host that comes and goes again before the next route leaves nothing pending.
      if (group.pending.has(binding.host)) group.pending.delete(binding.host);
      else group.pending.set(binding.host, count > 0 ? 1 : -1);
    }
    group.route = undefined;
    if (group.hosts.size === 0) {
      state.exact.delete(key);
      state.exactOrder = undefined;
    }
  }

  #countPattern(state: PortState, binding: Binding, delta: 1 | -1): void {
    const list = state.patterns.get(binding.host) ?? [];
    const updated = delta > 0 ? [...list, binding].sort(compareBindings) : list.filter((b) => b !== binding);
    if (updated.length > 0) state.patterns.set(binding.host, updated);
    else state.patterns.delete(binding.host);
    state.patternRoutes = undefined;
  }

  #assemble(): JsonObject {
    const settings = this.#settings;
    const tlsBindings = [...this.#tlsBindings];
    const challenge = challengePort(tlsBindings, settings);
    if (challenge !== this.#challenge) {
      // Which server answers challenges (and whether it needs TLS itself) moved: rebuild them all.
      this.#challenge = challenge;
      this.#servers.clear();
    }
    if (this.#tlsDirty) {
      const policy = tlsPolicy(tlsBindings, settings);
      this.#tlsPolicy = policy === undefined ? undefined : canonicalize(policy.json);
      this.#tlsDirty = false;
    }
    const ports = new Set(this.#ports.keys());
    if (this.#redirectBindings.size > 0) ports.add(settings.tls.httpPort);
    if (challenge !== undefined) ports.add(challenge);
    const servers: JsonObject = {};
    for (const port of [...ports].sort((a, b) => compareStrings(serverName(a), serverName(b)))) {
      let server = this.#servers.get(port);
      if (server === undefined) {
        server = this.#server(port, challenge);
        this.#servers.set(port, server);
      }
      servers[serverName(port)] = server;
    }
    const apps: JsonObject = { http: httpApp(servers, settings) };
    if (this.#tlsPolicy !== undefined) apps['tls'] = { automation: { policies: [this.#tlsPolicy] } };
    const config: JsonObject = { apps };
    const storage = renderStorage(settings.storage);
    if (storage !== undefined) config['storage'] = canonicalize(storage);
    return config;
  }

  /** The server of `port`, reusing every route whose bindings did not change. */
  #server(port: number, challenge: number | undefined): JsonObject {
    const settings = this.#settings;
    const state = this.#ports.get(port);
    const isHttpPort = port === settings.tls.httpPort;
    const redirects = isHttpPort && this.#redirectBindings.size > 0 ? redirectRoutes(port, [...this.#redirectBindings].sort(compareBindings), state?.rules.heldPaths() ?? []) : { paths: [], hosts: [] };
    const routes = redirects.paths.map((r) => canonicalize(r.json));
    if (state !== undefined) {
      state.ruleRoutes ??= state.rules.routes().map((r) => r.json);
      routes.push(...state.ruleRoutes);
    }
    routes.push(...redirects.hosts.map((r) => canonicalize(r.json)));
    if (state !== undefined) {
      state.exactOrder ??= [...state.exact.values()].sort((a, b) => compareStrings(a.id, b.id));
      for (const group of state.exactOrder) {
        group.route ??= canonicalize(exactRoute(port, group.upstream, sortedHosts(group), settings).json);
        routes.push(group.route);
      }
      state.patternRoutes ??= orderedPatternRoutes(port, [...state.patterns.values()].flat(), settings).map((r) => canonicalize(r.json));
      routes.push(...state.patternRoutes);
    }
    routes.push(canonicalize(notFoundRoute(port, notFoundPage(settings)).json));
    const paged = state === undefined ? [] : [...state.paged];
    const shape = { hasTls: (state?.tls ?? 0) > 0, challengeOnly: port === challenge && !isHttpPort && state === undefined, errorRoutes: errorRoutes(port, paged, settings) };
    // Canonicalised without its routes (already canonical, and thousands of hosts long); the
    // `routes` key is already in place, so assigning it keeps the keys sorted.
    const server = canonicalize(serverJson(port, [], shape, settings));
    server['routes'] = routes;
    return server;
  }
}

function toggle<T>(set: Set<T>, value: T, delta: 1 | -1): void {
  if (delta > 0) set.add(value);
  else set.delete(value);
}
