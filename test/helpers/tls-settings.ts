/** Settings for tests: TLS for judging manifests (ACME over dns-01 for *.example.com, and the same without ACME), and render settings. */
import { DEFAULT_CADDY } from '../../src/model/caddy-version.js';
import type { AcmeSettings, RenderSettings, TlsSettings } from '../../src/model/settings.js';

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

/** Settings for tests of the pipeline that need no TLS: DNS mode on loopback, the default Caddy. */
export const RENDER_SETTINGS: RenderSettings = {
  listenAddress: '127.0.0.1',
  dnsZone: 'ingressd.internal',
  dnsResolver: 'udp/127.0.0.1:5353',
  upstreamMode: 'dns',
  upstreamRefresh: '1s',
  upstreamIdleTimeout: '5s',
  caddy: DEFAULT_CADDY,
  streamCloseDelay: undefined,
  gracePeriod: '10s',
  trustedProxies: [],
  storage: undefined,
  tls: NO_ACME,
  httpPort: 80,
  httpsPort: 443,
};
