/**
 * An in-memory stand-in for Caddy's admin API, for the unit tests where determinism needs it
 * (bisection, the reconcile loop on a fake clock). It holds a config, applies full writes, counts
 * them, rejects configs with a poisoned string, and can play unreachable. It tags configs as Caddy
 * 2.8+ does (xxhash64). Integration tests use
 * the real Caddy.
 */
import { IngressdError } from '../../src/model/errors.js';
import type { JsonObject, JsonValue } from '../../src/model/json.js';
import type { CaddyClient, LiveConfig, WriteMethod } from '../../src/reconciler/caddy-client.js';
import { caddyConfigEtag } from '../../src/reconciler/caddy-etag.js';

export class MemoryCaddy implements CaddyClient {
  readonly adminUrl = 'http://memory';
  config: JsonObject | null = null;
  /** Successful writes. */
  writes = 0;
  /** Every write asked for, failed or not. */
  attempts = 0;
  reads = 0;
  /** While true, every request fails with `caddy_unavailable`. */
  unreachable = false;

  constructor(readonly poison: readonly string[] = []) {}

  async getConfig(): Promise<LiveConfig> {
    this.#check();
    this.reads++;
    const config = this.config === null ? null : structuredClone(this.config);
    return { config, etag: config === null ? undefined : caddyConfigEtag(config, 'xxhash64-header'), bytes: 0 };
  }

  async write(method: WriteMethod, path: string, body: JsonValue | undefined, ifMatch?: string): Promise<void> {
    this.#check();
    this.attempts++;
    if (ifMatch !== undefined && this.config !== null && ifMatch !== caddyConfigEtag(this.config, 'xxhash64-header')) {
      throw new IngressdError('precondition_failed', 'If-Match header did not match current config hash');
    }
    let next: JsonObject;
    if (path === '') next = structuredClone(body as JsonObject);
    else {
      next = structuredClone(this.config ?? {});
      const name = decodeURIComponent(path.split('/').pop()!);
      const servers = ((next['apps'] as JsonObject)['http'] as JsonObject)['servers'] as JsonObject;
      if (method === 'DELETE') delete servers[name];
      else servers[name] = body as JsonValue;
    }
    const text = JSON.stringify(next);
    const bad = this.poison.find((p) => text.includes(p));
    if (bad !== undefined) throw new IngressdError('config_validation_failed', `loading new config: cannot handle ${bad}`);
    this.config = next;
    this.writes++;
  }

  async load(): Promise<void> {}

  /** An in-memory Caddy proxies nothing: its exposition has no upstream samples. */
  async metrics(): Promise<string> {
    this.#check();
    return '';
  }

  async ping(): Promise<boolean> {
    return !this.unreachable;
  }

  /** The hosts Caddy would route on a server, in route order. */
  hosts(server = 'ingress-80'): string[] {
    const routes = ((((this.config?.['apps'] as JsonObject | undefined)?.['http'] as JsonObject | undefined)?.['servers'] as JsonObject | undefined)?.[server] as JsonObject | undefined)?.['routes'];
    if (!Array.isArray(routes)) return [];
    return routes.flatMap((route) => {
      const match = (route as JsonObject)['match'];
      if (!Array.isArray(match)) return [];
      return match.flatMap((m) => ((m as JsonObject)['host'] as string[] | undefined) ?? []);
    });
  }

  #check(): void {
    if (this.unreachable) throw new IngressdError('caddy_unavailable', 'connect ECONNREFUSED (memory Caddy is down)');
  }
}
