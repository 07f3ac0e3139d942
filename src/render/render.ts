import { canonicalize } from '../model/canonical.js';
import type { JsonObject } from '../model/json.js';
import { serverName } from '../model/ownership.js';
import type { RenderSettings } from '../model/settings.js';
import { collectBindings } from './bindings.js';
import { createInstanceLookup, instancesKey } from './instances.js';
import type { Owned } from './model.js';
import { compareStrings } from './order.js';
import { httpApp, listenPorts, renderServer } from './servers.js';
import { renderStorage } from './storage.js';
import { tlsPolicy } from './tls.js';
import type { RenderInput, RenderResult } from './types.js';
import { bindingWarnings, normalizeWarnings } from './warnings.js';

/**
 * Turns the accepted resources into the part of Caddy's config that ingressd owns.
 *
 * Pure and deterministic: no I/O, and the same resources in any order give byte-identical
 * `stableStringify(result.config)`. The input must already be validated (no two rules with the
 * same hostname and port); render never throws on data and reports what it could not honour as
 * warnings. The input is not modified.
 *
 * What comes out (the layout may change without notice; callers should rely only on the
 * `RenderResult` contract, `serverName(port)` and the `ingressd` `@id` prefix):
 * - `apps.http`: `http_port`/`https_port`/`grace_period` from settings, and one server `ingress-<port>` per port
 *   in use, listening on `settings.listenAddress`.
 * - `apps.tls`: one ACME policy, only when a rule has TLS and `settings.tls.acme` is defined.
 * - `storage`: Caddy's certificate storage, only when `settings.storage` is defined (CADDY_STORAGE).
 */
export function render(input: RenderInput, settings: RenderSettings): RenderResult {
  const lookup = createInstanceLookup(input.instances);
  const { bindings, warnings } = collectBindings(input.ingresses, lookup, instancesKey(input.instances));
  const pieces: Owned[] = [];
  const servers: JsonObject = {};
  for (const port of listenPorts(bindings, settings)) {
    const server = renderServer(port, bindings, settings);
    servers[serverName(port)] = server.json;
    pieces.push(...server.pieces);
  }
  const apps: JsonObject = { http: httpApp(servers, settings) };
  const policy = tlsPolicy(bindings, settings);
  if (policy !== undefined) {
    apps['tls'] = { automation: { policies: [policy.json] } };
    pieces.push(policy);
  }
  const config: JsonObject = { apps };
  const storage = renderStorage(settings.storage);
  if (storage !== undefined) config['storage'] = storage;
  return {
    config: canonicalize(config),
    warnings: normalizeWarnings([...warnings, ...bindingWarnings(bindings, settings)]),
    owners: ownersOf(pieces),
  };
}

function ownersOf(pieces: readonly Owned[]): Record<string, readonly string[]> {
  const owners: Record<string, readonly string[]> = {};
  for (const piece of [...pieces].sort((a, b) => compareStrings(a.id, b.id))) owners[piece.id] = piece.owners;
  return owners;
}
