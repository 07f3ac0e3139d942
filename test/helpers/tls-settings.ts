/** TLS settings for judging manifests: ACME over dns-01 for *.example.com, and the same without ACME. */
import type { AcmeSettings, TlsSettings } from '../../src/model/settings.js';

export const ACME: AcmeSettings = {
  email: 'ops@example.com',
  ca: undefined,
  caRootPemFile: undefined,
  challenge: 'dns-01',
  dnsProvider: { name: 'cloudflare', apiToken: 'token' },
  propagationTimeout: undefined,
  resolvers: [],
};
export const TLS: TlsSettings = { acme: ACME, acmeMissing: '', challenge: 'dns-01', allowedDomains: ['*.example.com'], httpPort: 80 };
export const NO_ACME: TlsSettings = { ...TLS, acme: undefined, acmeMissing: 'set ACME_EMAIL and ACME_DNS_PROVIDER' };
