/**
 * The TLS part of `resolveOptions`: ACME and the dns-01 provider, from the environment.
 * Pure: a key file (RFC2136_KEY_FILE) is not read here but handed to Caddy as its `{file.<path>}`
 * placeholder, so the TSIG secret never passes through ingressd; `checkOptionFiles` checks at
 * start that the file can be read.
 */
import { isAbsolute } from 'node:path';
import {
  ACME_CHALLENGES,
  DNS_PROVIDERS,
  type AcmeChallenge,
  type AcmeSettings,
  type DnsProviderName,
  type DnsProviderSettings,
  type TlsSettings,
} from '../model/settings.js';
import { parseAllowedDomains } from '../reconciler/tls-domains.js';

type Read = (name: string) => string | undefined;
type Duration = (name: string, fallback: string) => { text: string; ms: number };

/** TSIG algorithms BIND and the rfc2136 provider agree on. */
export const TSIG_ALGORITHMS = ['hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;

export function resolveTls(read: Read, duration: Duration, httpPort: number, problems: string[]): TlsSettings {
  const providerRaw = read('ACME_DNS_PROVIDER')?.toLowerCase();
  let providerName: DnsProviderName | undefined;
  if (providerRaw !== undefined) {
    if ((DNS_PROVIDERS as readonly string[]).includes(providerRaw)) providerName = providerRaw as DnsProviderName;
    else problems.push(`invalid ACME_DNS_PROVIDER: unknown DNS provider "${providerRaw}": supported providers are: ${DNS_PROVIDERS.join(', ')}`);
  }
  const challengeRaw = read('ACME_CHALLENGE')?.toLowerCase();
  let challenge: AcmeChallenge = 'dns-01';
  if (challengeRaw !== undefined) {
    if ((ACME_CHALLENGES as readonly string[]).includes(challengeRaw)) challenge = challengeRaw as AcmeChallenge;
    else problems.push(`ACME_CHALLENGE must be one of ${ACME_CHALLENGES.join(', ')}, got "${challengeRaw}"`);
  }
  const propagation = read('DNS_PROPAGATION_TIMEOUT');
  if (propagation !== undefined) duration('DNS_PROPAGATION_TIMEOUT', propagation);
  const email = read('ACME_EMAIL');
  const missing: string[] = [];
  if (email === undefined) missing.push('ACME_EMAIL');
  let dnsProvider: DnsProviderSettings | undefined;
  if (challenge === 'dns-01') {
    if (providerRaw === undefined) missing.push('ACME_DNS_PROVIDER (or ACME_CHALLENGE=http-01 / tls-alpn-01)');
    else if (providerName !== undefined) dnsProvider = resolveProvider(providerName, read, missing, problems);
  }
  const acme: AcmeSettings | undefined =
    missing.length > 0
      ? undefined
      : {
          email: email!,
          ca: read('ACME_CA'),
          caRootPemFile: read('ACME_CA_ROOT'),
          challenge,
          dnsProvider,
          propagationTimeout: challenge === 'dns-01' ? propagation : undefined,
          resolvers: challenge === 'dns-01' ? parseList(read('DNS_RESOLVERS')) : [],
        };
  return {
    acme,
    acmeMissing: missing.length === 0 ? '' : `set ${missing.join(' and ')}`,
    challenge,
    allowedDomains: parseAllowedDomains(read('TLS_ALLOWED_DOMAINS') ?? ''),
    httpPort,
  };
}

/** The provider's settings; what is absent goes to `missing`, what is wrong to `problems`. */
function resolveProvider(name: DnsProviderName, read: Read, missing: string[], problems: string[]): DnsProviderSettings | undefined {
  switch (name) {
    case 'cloudflare': {
      const token = read('CLOUDFLARE_API_TOKEN');
      if (token === undefined) missing.push('CLOUDFLARE_API_TOKEN');
      return token === undefined ? undefined : { name, apiToken: token };
    }
    case 'rfc2136':
      return resolveRfc2136(read, missing, problems);
  }
}

function resolveRfc2136(read: Read, missing: string[], problems: string[]): DnsProviderSettings | undefined {
  const server = read('RFC2136_SERVER');
  const keyName = read('RFC2136_KEY_NAME');
  const keyAlg = (read('RFC2136_KEY_ALG') ?? 'hmac-sha256').toLowerCase();
  const key = read('RFC2136_KEY');
  const keyFile = read('RFC2136_KEY_FILE');
  if (server === undefined) missing.push('RFC2136_SERVER');
  else if (!/^(?:\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(server)) problems.push(`RFC2136_SERVER must be host:port of the DNS server that accepts updates (e.g. 127.0.0.1:53), got "${server}"`);
  if (keyName === undefined) missing.push('RFC2136_KEY_NAME');
  if (!(TSIG_ALGORITHMS as readonly string[]).includes(keyAlg)) problems.push(`RFC2136_KEY_ALG must be one of ${TSIG_ALGORITHMS.join(', ')}, got "${keyAlg}"`);
  if (key !== undefined && keyFile !== undefined) problems.push('set RFC2136_KEY or RFC2136_KEY_FILE, not both');
  if (key === undefined && keyFile === undefined) missing.push('RFC2136_KEY (or RFC2136_KEY_FILE)');
  if (keyFile !== undefined && !isAbsolute(keyFile)) problems.push(`RFC2136_KEY_FILE must be an absolute path (Caddy reads it), got "${keyFile}"`);
  if (server === undefined || keyName === undefined || (key ?? keyFile) === undefined) return undefined;
  return { name: 'rfc2136', server, keyName, keyAlg, key: key ?? `{file.${keyFile!}}` };
}

function parseList(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
