/**
 * The Caddy configs the Caddy-only instance loads, made with ingressd's own pure core (parse,
 * evaluate, render) from the same manifests ingressd reads: the layout ingressd renders, the same
 * routes flattened to one route per host, with listeners moved to the Caddy-only ports.
 */
import { resolveOptions } from '../../src/controller/options.js';
import { stableStringify } from '../../src/model/canonical.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/model/json.js';
import type { Manifest } from '../../src/model/manifest.js';
import type { CaddyInfo } from '../../src/model/caddy-version.js';
import type { RenderSettings } from '../../src/model/settings.js';
import { evaluate } from '../../src/reconciler/evaluate.js';
import { ownedOf } from '../../src/reconciler/ownership.js';
import { render } from '../../src/render/index.js';
import { parseManifest } from '../../src/manifest/parse.js';
import type { ManifestFile } from './manifests.js';
import { CADDY_ONLY_ADMIN_PORT, CADDY_ONLY_PORT_OFFSET, LOOPBACK } from './ports.js';

/** Render settings exactly as `ingressd run` resolves them from the same environment. */
export function renderSettingsFor(env: Readonly<Record<string, string>>, caddy: CaddyInfo): RenderSettings {
  return { ...resolveOptions(env, {}, { cwd: process.cwd(), isTty: false }).render, caddy };
}

/** A set of parsed manifests that renders like ingressd would; entries can be replaced cheaply. */
export class ConfigRenderer {
  readonly #settings: RenderSettings;
  readonly #manifests = new Map<string, Manifest>();

  constructor(settings: RenderSettings, files: readonly ManifestFile[]) {
    this.#settings = settings;
    this.put(files);
  }

  /** Adds or replaces manifests. */
  put(files: readonly ManifestFile[]): this {
    for (const f of files) this.#manifests.set(f.file, parseManifest(f.file, f.text));
    return this;
  }

  remove(files: readonly ManifestFile[]): this {
    for (const f of files) this.#manifests.delete(f.file);
    return this;
  }

  /** A copy with other settings (e.g. `upstreamMode: 'static'`) and the same manifests. */
  withSettings(settings: RenderSettings): ConfigRenderer {
    const copy = new ConfigRenderer(settings, []);
    for (const [file, manifest] of this.#manifests) copy.#manifests.set(file, manifest);
    return copy;
  }

  /** ingressd's slice (`{apps: ...}`), as `render` returns it. Throws if a manifest was refused. */
  render(): JsonObject {
    const evaluated = evaluate([...this.#manifests.values()], new Map(), this.#settings.tls);
    const refused = [...evaluated.byFile.values()].filter((e) => !e.accepted);
    if (refused.length > 0) throw new Error(`bench manifests refused: ${refused.slice(0, 3).map((e) => `${e.manifest.file}: ${e.issues[0]?.message ?? '?'}`).join('; ')}`);
    return render({ ingresses: evaluated.ingresses, instances: evaluated.instances }, this.#settings).config;
  }
}

/** True when both configs hold the same ingressd-owned slice. */
export function sameOwned(a: JsonObject | null, b: JsonObject | null): boolean {
  return stableStringify(ownedOf(a)) === stableStringify(ownedOf(b));
}

/** A full config for the Caddy-only instance: its admin address, every listen port moved by the offset. */
export function forCaddyOnly(config: JsonObject): JsonObject {
  const out = structuredClone(config);
  out['admin'] = { listen: `${LOOPBACK}:${CADDY_ONLY_ADMIN_PORT}` };
  const http = httpApp(out);
  for (const key of ['http_port', 'https_port']) {
    const port = http[key];
    if (typeof port === 'number') http[key] = port + CADDY_ONLY_PORT_OFFSET;
  }
  for (const server of serversOf(out)) {
    const listen = server['listen'];
    if (Array.isArray(listen)) server['listen'] = listen.map((l) => (typeof l === 'string' ? shiftPort(l) : l));
  }
  return out;
}

/** The same routes with one route per exact host (the lab's "flat" layout); patterns and the 404 stay. */
export function flatten(config: JsonObject): JsonObject {
  const out = structuredClone(config);
  for (const server of serversOf(out)) {
    const routes = server['routes'];
    if (!Array.isArray(routes)) continue;
    server['routes'] = routes.flatMap((route): JsonValue[] => {
      const hosts = hostsOf(route);
      if (!isJsonObject(route) || hosts.length <= 1 || hosts.some((h) => h.includes('*'))) return [route];
      return hosts.map((host): JsonValue => ({ match: [{ host: [host] }], handle: route['handle'] ?? [], terminal: true }));
    });
  }
  return out;
}

/** The host list of a route's first matcher ([] when it has none). */
export function hostsOf(route: JsonValue): string[] {
  if (!isJsonObject(route) || !Array.isArray(route['match'])) return [];
  const first = route['match'][0];
  if (!isJsonObject(first) || !Array.isArray(first['host'])) return [];
  return first['host'].filter((h): h is string => typeof h === 'string');
}

/** The routes of one server (by listen port), [] when there is no such server. */
export function routesOnPort(config: JsonObject, port: number): JsonValue[] {
  for (const server of serversOf(config)) {
    const listen = server['listen'];
    if (Array.isArray(listen) && listen.some((l) => typeof l === 'string' && l.endsWith(`:${port}`))) {
      return Array.isArray(server['routes']) ? server['routes'] : [];
    }
  }
  return [];
}

/** Number of routes over all servers. */
export function routeCount(config: JsonObject): number {
  return serversOf(config).reduce((acc, s) => acc + (Array.isArray(s['routes']) ? s['routes'].length : 0), 0);
}

function httpApp(config: JsonObject): JsonObject {
  const apps = config['apps'];
  const http = isJsonObject(apps) ? apps['http'] : undefined;
  if (!isJsonObject(http)) throw new Error('config has no apps.http');
  return http;
}

function serversOf(config: JsonObject): JsonObject[] {
  const servers = httpApp(config)['servers'];
  return isJsonObject(servers) ? Object.values(servers).filter(isJsonObject) : [];
}

function shiftPort(listen: string): string {
  const at = listen.lastIndexOf(':');
  return `${listen.slice(0, at)}:${Number(listen.slice(at + 1)) + CADDY_ONLY_PORT_OFFSET}`;
}
