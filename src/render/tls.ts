import type { JsonObject } from '../model/json.js';
import { ID_PREFIX } from '../model/ownership.js';
import { assertNever } from '../model/resource.js';
import type { AcmeSettings, RenderSettings } from '../model/settings.js';
import type { Binding, Owned } from './model.js';
import { uniqueSorted } from './order.js';

export const TLS_POLICY_ID = `${ID_PREFIX}.tls.acme`;

/** The ACME settings in force: defined only when ACME is configured and some rule asks for TLS. */
export function activeAcme(bindings: readonly Binding[], settings: RenderSettings): AcmeSettings | undefined {
  return bindings.some((b) => b.tls) ? settings.tls.acme : undefined;
}

/**
 * The port on which Caddy answers the configured HTTP-01 or TLS-ALPN-01 challenge, inside a server
 * of ours: `settings.tls.httpPort` for http-01, `settings.httpsPort` for tls-alpn-01; undefined
 * for dns-01, without ACME or without TLS rules. Caddy's solver opens a listener of its own when
 * nothing listens on that port at `bind_host` (verified with strace on 2.6.2: `[::]:<port>`, every
 * interface, when bind_host is unset), so `listenPorts` always renders a server there.
 */
export function challengePort(bindings: readonly Binding[], settings: RenderSettings): number | undefined {
  const challenge = activeAcme(bindings, settings)?.challenge;
  if (challenge === 'http-01') return settings.tls.httpPort;
  if (challenge === 'tls-alpn-01') return settings.httpsPort;
  return undefined;
}

/**
 * The single ACME automation policy, or undefined when no rule has TLS or ACME is not configured.
 * Subjects are the TLS hostnames (patterns in wildcard form), sorted and de-duplicated: Caddy
 * refuses a host that appears in two policies, and the same host may have TLS on several ports.
 * Owners: the ingresses with TLS rules.
 */
export function tlsPolicy(bindings: readonly Binding[], settings: RenderSettings): Owned | undefined {
  const acme = activeAcme(bindings, settings);
  if (acme === undefined) return undefined;
  const tls = bindings.filter((b) => b.tls);
  return {
    id: TLS_POLICY_ID,
    owners: uniqueSorted(tls.map((b) => b.ingressId)),
    json: { '@id': TLS_POLICY_ID, subjects: uniqueSorted(tls.map((b) => b.host)), issuers: [acmeIssuer(acme, settings)] },
  };
}

function acmeIssuer(acme: AcmeSettings, settings: RenderSettings): JsonObject {
  const issuer: JsonObject = { module: 'acme', email: acme.email, challenges: challenges(acme, settings) };
  if (acme.ca !== undefined) issuer['ca'] = acme.ca;
  if (acme.caRootPemFile !== undefined) issuer['trusted_roots_pem_files'] = [acme.caRootPemFile];
  return issuer;
}

/**
 * Enables exactly the configured challenge, on the ports our listeners use. `bind_host` is the
 * listen address: Caddy's solver first tries to bind `<bind_host>:<port>` itself and, when our
 * server holds it, dials it and lets that server answer. Unset, it would try every interface, and
 * with a specific listen address the dial would go to localhost and fail.
 */
function challenges(acme: AcmeSettings, settings: RenderSettings): JsonObject {
  switch (acme.challenge) {
    case 'dns-01':
      return { dns: dnsChallenge(acme) };
    case 'http-01':
      return {
        bind_host: settings.listenAddress,
        http: settings.httpPort === 80 ? {} : { alternate_port: settings.httpPort },
        'tls-alpn': { disabled: true },
      };
    case 'tls-alpn-01':
      return {
        bind_host: settings.listenAddress,
        http: { disabled: true },
        'tls-alpn': settings.httpsPort === 443 ? {} : { alternate_port: settings.httpsPort },
      };
    default:
      return assertNever(acme.challenge);
  }
}

function dnsChallenge(acme: AcmeSettings): JsonObject {
  const dns: JsonObject = {};
  if (acme.dnsProvider !== undefined) {
    const provider = acme.dnsProvider;
    switch (provider.name) {
      case 'cloudflare':
        dns['provider'] = { name: 'cloudflare', api_token: provider.apiToken };
        break;
      case 'rfc2136':
        dns['provider'] = { name: 'rfc2136', server: provider.server, key_name: provider.keyName, key_alg: provider.keyAlg, key: provider.key };
        break;
      default:
        assertNever(provider);
    }
  }
  if (acme.propagationTimeout !== undefined) dns['propagation_timeout'] = acme.propagationTimeout;
  if (acme.resolvers.length > 0) dns['resolvers'] = [...acme.resolvers];
  return dns;
}
