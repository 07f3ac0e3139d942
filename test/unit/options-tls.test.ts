/**
 * TLS and ACME configuration from the environment (the seed's variables), and the startup checks
 * that need files or manifests: what fails at startup, what "ACME configured" means per
 * challenge, what a TLS rule is told when it is not, and that secrets never reach a message.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIngressdError } from '../../src/model/errors.js';
import type { Logger } from '../../src/model/logger.js';
import type { Manifest } from '../../src/model/manifest.js';
import { resolveOptions, type Env, type Options } from '../../src/controller/options.js';
import { checkOptionFiles, checkStartup } from '../../src/controller/startup-checks.js';
import { validateResource } from '../../src/reconciler/validate.js';
import { parseManifest } from '../../src/manifest/parse.js';

const TOKEN = 'cf-token-DO-NOT-LEAK-4f1c';
const CONTEXT = { cwd: '/', isTty: false };
const CLOUDFLARE: Env = { ACME_EMAIL: 'ops@example.test', ACME_DNS_PROVIDER: 'cloudflare', CLOUDFLARE_API_TOKEN: TOKEN };

function resolve(env: Env): Options {
  return resolveOptions({ MANIFEST_DIR: '/srv/manifests', ...env }, {}, CONTEXT);
}

/** The `invalid_option` error resolveOptions throws for env (fails the test when it does not throw). */
function failure(env: Env): Error {
  try {
    resolve(env);
  } catch (err) {
    expect(isIngressdError(err, 'invalid_option')).toBe(true);
    return err as Error;
  }
  throw new Error(`resolveOptions accepted ${JSON.stringify(env)}`);
}

interface Recorded {
  readonly level: string;
  readonly message: string;
  readonly meta: Readonly<Record<string, unknown>> | undefined;
}

function recordingLogger(): { logger: Logger; lines: Recorded[] } {
  const lines: Recorded[] = [];
  const at = (level: string) => (message: string, meta?: Readonly<Record<string, unknown>>) => void lines.push({ level, message, meta });
  return { logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }, lines };
}

function manifest(file: string, doc: unknown): Manifest {
  return parseManifest(file, JSON.stringify(doc));
}

const TLS_INGRESS = { rules: [{ match: { hostname: 'app.example.test', port: 443 }, target: { instance: 'web', port: 8080 }, tls: true }] };
const PLAIN_INGRESS = { rules: [{ match: { hostname: 'plain.example.test', port: 80 }, target: { instance: 'web', port: 8080 } }] };
const INSTANCE = { kind: 'Instance', name: 'web', address: '10.0.0.10' };

describe('ACME_DNS_PROVIDER', () => {
  it('accepts cloudflare, in any case', () => {
    expect(resolve({ ...CLOUDFLARE, ACME_DNS_PROVIDER: 'Cloudflare' }).render.tls.acme?.dnsProvider).toEqual({ name: 'cloudflare', apiToken: TOKEN });
  });

  it('fails at startup on any other provider, listing the supported ones', () => {
    const err = failure({ ...CLOUDFLARE, ACME_DNS_PROVIDER: 'route53' });
    expect(err.message).toContain('invalid ACME_DNS_PROVIDER: unknown DNS provider "route53"');
    expect(err.message).toContain('supported providers are: cloudflare');
  });

  it('fails on an unknown provider even when the challenge does not use it', () => {
    expect(failure({ ...CLOUDFLARE, ACME_CHALLENGE: 'http-01', ACME_DNS_PROVIDER: 'digitalocean' }).message).toContain('unknown DNS provider "digitalocean"');
  });
});

describe('DNS_PROPAGATION_TIMEOUT', () => {
  it.each(['2m', '120s', '1h30m', '500ms', '1.5m'])('accepts the duration %s and passes it to the dns-01 settings as written', (value) => {
    expect(resolve({ ...CLOUDFLARE, DNS_PROPAGATION_TIMEOUT: value }).render.tls.acme?.propagationTimeout).toBe(value);
  });

  it.each(['120', 'two minutes', '2 m', '2d', '-'])('fails at startup on "%s", naming the expected format', (value) => {
    const err = failure({ ...CLOUDFLARE, DNS_PROPAGATION_TIMEOUT: value });
    expect(err.message).toContain(`invalid DNS_PROPAGATION_TIMEOUT "${value}"`);
    expect(err.message).toContain("expected a duration like '2m', '120s', '1h' or '500ms'");
  });

  it('is left unset (Caddy default) when not given, and ignored outside dns-01', () => {
    expect(resolve(CLOUDFLARE).render.tls.acme?.propagationTimeout).toBeUndefined();
    expect(resolve({ ...CLOUDFLARE, ACME_CHALLENGE: 'http-01', DNS_PROPAGATION_TIMEOUT: '2m' }).render.tls.acme?.propagationTimeout).toBeUndefined();
  });

  it('reports every bad TLS value in one error', () => {
    const err = failure({ ...CLOUDFLARE, ACME_DNS_PROVIDER: 'route53', DNS_PROPAGATION_TIMEOUT: 'soon', ACME_CHALLENGE: 'dns01' });
    expect(err.message).toContain('ACME_DNS_PROVIDER');
    expect(err.message).toContain('DNS_PROPAGATION_TIMEOUT');
    expect(err.message).toContain('ACME_CHALLENGE');
  });
});

describe('ACME_CHALLENGE', () => {
  it('defaults to dns-01', () => {
    expect(resolve(CLOUDFLARE).render.tls.challenge).toBe('dns-01');
    expect(resolve(CLOUDFLARE).render.tls.acme?.challenge).toBe('dns-01');
  });

  it.each(['dns-01', 'http-01', 'tls-alpn-01', 'HTTP-01'])('accepts %s', (value) => {
    expect(resolve({ ...CLOUDFLARE, ACME_CHALLENGE: value }).render.tls.challenge).toBe(value.toLowerCase());
  });

  it.each(['http01', 'dns', 'tls-sni-01'])('fails at startup on %s, listing the allowed values', (value) => {
    expect(failure({ ...CLOUDFLARE, ACME_CHALLENGE: value }).message).toContain(`ACME_CHALLENGE must be one of dns-01, http-01, tls-alpn-01, got "${value}"`);
  });

  it.each(['http-01', 'tls-alpn-01'] as const)('with %s, a pattern hostname with TLS is rejected: wildcards need dns-01', (challenge) => {
    const options = resolve({ ACME_EMAIL: 'ops@example.test', ACME_CHALLENGE: challenge, TLS_ALLOWED_DOMAINS: '*.example.test' });
    const pattern = manifest('dev.json', { rules: [{ match: { hostname: '{i}.example.test', port: 443 }, target: { instance: '{i}', port: 80 }, tls: true }] });
    const issues = validateResource(pattern.resource!, options.render.tls);
    expect(issues).toEqual([expect.objectContaining({ code: 'invalid_request', path: '/rules/0/tls', message: expect.stringContaining('only the dns-01 challenge') })]);
  });

  it('with dns-01, the same pattern hostname is accepted', () => {
    const options = resolve({ ...CLOUDFLARE, TLS_ALLOWED_DOMAINS: '*.example.test' });
    const pattern = manifest('dev.json', { rules: [{ match: { hostname: '{i}.example.test', port: 443 }, target: { instance: '{i}', port: 80 }, tls: true }] });
    expect(validateResource(pattern.resource!, options.render.tls)).toEqual([]);
  });
});

describe('what "ACME configured" means', () => {
  it('dns-01: email, cloudflare and its token give complete settings', () => {
    const tls = resolve({ ...CLOUDFLARE, ACME_CA: 'https://acme.test/dir', ACME_CA_ROOT: '/etc/ca.pem', DNS_RESOLVERS: ' 1.1.1.1 , 8.8.8.8,', DNS_PROPAGATION_TIMEOUT: '2m' }).render.tls;
    expect(tls.acmeMissing).toBe('');
    expect(tls.acme).toEqual({
      email: 'ops@example.test',
      ca: 'https://acme.test/dir',
      caRootPemFile: '/etc/ca.pem',
      challenge: 'dns-01',
      dnsProvider: { name: 'cloudflare', apiToken: TOKEN },
      propagationTimeout: '2m',
      resolvers: ['1.1.1.1', '8.8.8.8'],
    });
  });

  it.each([
    ['nothing set', {}, 'set ACME_EMAIL and ACME_DNS_PROVIDER (or ACME_CHALLENGE=http-01 / tls-alpn-01)'],
    ['no email', { ACME_DNS_PROVIDER: 'cloudflare', CLOUDFLARE_API_TOKEN: TOKEN }, 'set ACME_EMAIL'],
    ['no provider', { ACME_EMAIL: 'ops@example.test', CLOUDFLARE_API_TOKEN: TOKEN }, 'set ACME_DNS_PROVIDER (or ACME_CHALLENGE=http-01 / tls-alpn-01)'],
    ['no token', { ACME_EMAIL: 'ops@example.test', ACME_DNS_PROVIDER: 'cloudflare' }, 'set CLOUDFLARE_API_TOKEN'],
    ['only a token', { CLOUDFLARE_API_TOKEN: TOKEN }, 'set ACME_EMAIL and ACME_DNS_PROVIDER (or ACME_CHALLENGE=http-01 / tls-alpn-01)'],
    ['a blank email', { ...CLOUDFLARE, ACME_EMAIL: '   ' }, 'set ACME_EMAIL'],
  ])('dns-01 with %s: not configured, and acmeMissing says what to set', (_name, env, missing) => {
    const tls = resolve(env).render.tls;
    expect(tls.acme).toBeUndefined();
    expect(tls.acmeMissing).toBe(missing);
  });

  it.each(['http-01', 'tls-alpn-01'])('%s: the email alone is enough; no provider, token, timeout or resolvers are used', (challenge) => {
    const tls = resolve({ ACME_EMAIL: 'ops@example.test', ACME_CHALLENGE: challenge, CLOUDFLARE_API_TOKEN: TOKEN, DNS_RESOLVERS: '1.1.1.1' }).render.tls;
    expect(tls.acme).toEqual({
      email: 'ops@example.test',
      ca: undefined,
      caRootPemFile: undefined,
      challenge,
      dnsProvider: undefined,
      propagationTimeout: undefined,
      resolvers: [],
    });
  });

  it.each(['http-01', 'tls-alpn-01'])('%s without an email: not configured, acmeMissing names only ACME_EMAIL', (challenge) => {
    const tls = resolve({ ACME_CHALLENGE: challenge }).render.tls;
    expect(tls.acme).toBeUndefined();
    expect(tls.acmeMissing).toBe('set ACME_EMAIL');
  });

  it('tells a TLS rule what is missing (tls_not_configured)', () => {
    const tls = resolve({ ACME_EMAIL: 'ops@example.test' }).render.tls;
    const issues = validateResource(manifest('app.json', TLS_INGRESS).resource!, { ...tls, allowedDomains: ['example.test', '*.example.test'] });
    expect(issues).toEqual([
      {
        code: 'tls_not_configured',
        path: '/rules/0/tls',
        message: 'TLS requested but ACME is not configured: set ACME_DNS_PROVIDER (or ACME_CHALLENGE=http-01 / tls-alpn-01); configure ACME or set "tls": false',
      },
    ]);
  });

  it('reads TLS_ALLOWED_DOMAINS lowercased and trimmed, and the HTTP/HTTPS ports', () => {
    const options = resolve({ ...CLOUDFLARE, TLS_ALLOWED_DOMAINS: ' Example.TEST, *.Dev.example.test ,', CADDY_HTTP_PORT: '8080', CADDY_HTTPS_PORT: '8443' });
    expect(options.render.tls.allowedDomains).toEqual(['example.test', '*.dev.example.test']);
    expect([options.render.httpPort, options.render.tls.httpPort, options.render.httpsPort]).toEqual([8080, 8080, 8443]);
  });
});

describe('secrets in startup errors', () => {
  it('never echoes CLOUDFLARE_API_TOKEN or API_TOKEN, whatever else is wrong', () => {
    const err = failure({
      ...CLOUDFLARE,
      API_TOKEN: 'api-token-DO-NOT-LEAK-77',
      ACME_DNS_PROVIDER: 'route53',
      ACME_CHALLENGE: 'bogus',
      DNS_PROPAGATION_TIMEOUT: 'later',
      CADDY_HTTP_PORT: 'eighty',
      API_LISTEN: 'nowhere',
    });
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).not.toContain('api-token-DO-NOT-LEAK-77');
    expect(String(err.stack)).not.toContain(TOKEN);
  });

  it('keeps the token out of the frozen options everywhere but the dns-01 provider', () => {
    const options = resolve(CLOUDFLARE);
    const { acme } = options.render.tls;
    const withoutProvider = JSON.stringify({ ...options, render: { ...options.render, tls: { ...options.render.tls, acme: { ...acme, dnsProvider: undefined } } } });
    expect(withoutProvider).not.toContain(TOKEN);
    expect(Object.isFrozen(options.render.tls.acme?.dnsProvider)).toBe(true);
  });
});

describe('checkOptionFiles (ACME_CA_ROOT)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingressd-options-tls-'));
    await writeFile(join(dir, 'root.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await writeFile(join(dir, 'not-pem.txt'), 'hello');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a readable PEM certificate, and nothing to check when unset', async () => {
    await expect(checkOptionFiles(resolve({ ...CLOUDFLARE, ACME_CA_ROOT: join(dir, 'root.pem') }))).resolves.toBeUndefined();
    await expect(checkOptionFiles(resolve(CLOUDFLARE))).resolves.toBeUndefined();
  });

  it('fails with invalid_option naming the path when the file cannot be read', async () => {
    const path = join(dir, 'missing.pem');
    const err: unknown = await checkOptionFiles(resolve({ ...CLOUDFLARE, ACME_CA_ROOT: path })).catch((e: unknown) => e);
    expect(isIngressdError(err, 'invalid_option')).toBe(true);
    expect((err as Error).message).toContain(`ACME_CA_ROOT "${path}" cannot be read (ENOENT)`);
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it('fails with invalid_option when the file holds no PEM certificate', async () => {
    const err: unknown = await checkOptionFiles(resolve({ ...CLOUDFLARE, ACME_CA_ROOT: join(dir, 'not-pem.txt') })).catch((e: unknown) => e);
    expect(isIngressdError(err, 'invalid_option')).toBe(true);
    expect((err as Error).message).toContain('holds no PEM certificate');
  });
});

describe('checkStartup', () => {
  const manifests = [manifest('b/app.json', TLS_INGRESS), manifest('a/app.json', TLS_INGRESS), manifest('plain.json', PLAIN_INGRESS), manifest('web.json', INSTANCE)];

  it('warns when TLS ingresses exist but ACME is not configured, naming the files and what is missing', () => {
    const { logger, lines } = recordingLogger();
    const warnings = checkStartup(resolve({ ACME_EMAIL: 'ops@example.test', CLOUDFLARE_API_TOKEN: TOKEN }), manifests, logger);
    expect(warnings).toHaveLength(1);
    expect(lines).toEqual([
      {
        level: 'warn',
        message: expect.stringContaining('TLS ingresses exist but ACME is not configured (set ACME_DNS_PROVIDER (or ACME_CHALLENGE=http-01 / tls-alpn-01))'),
        meta: { files: ['a/app.json', 'b/app.json'], missing: 'set ACME_DNS_PROVIDER (or ACME_CHALLENGE=http-01 / tls-alpn-01)' },
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });

  it('says nothing when no ingress asks for TLS, or when ACME is configured', () => {
    const quiet = recordingLogger();
    expect(checkStartup(resolve({}), [manifest('plain.json', PLAIN_INGRESS), manifest('web.json', INSTANCE)], quiet.logger)).toEqual([]);
    expect(checkStartup(resolve(CLOUDFLARE), manifests, quiet.logger)).toEqual([]);
    expect(checkStartup(resolve({ ACME_EMAIL: 'ops@example.test', ACME_CHALLENGE: 'http-01' }), manifests, quiet.logger)).toEqual([]);
    expect(quiet.lines).toEqual([]);
  });

  it('ignores manifests that did not parse', () => {
    const { logger } = recordingLogger();
    expect(checkStartup(resolve({}), [parseManifest('broken.json', '{"rules": [')], logger)).toEqual([]);
  });

  it("warns when Let's Encrypt would have to validate on a port other than 80 (http-01) or 443 (tls-alpn-01)", () => {
    const { logger } = recordingLogger();
    const http = checkStartup(resolve({ ACME_EMAIL: 'ops@example.test', ACME_CHALLENGE: 'http-01', CADDY_HTTP_PORT: '8080' }), manifests, logger);
    expect(http).toEqual([expect.stringContaining('ACME_CHALLENGE=http-01 with CADDY_HTTP_PORT=8080')]);
    const alpn = checkStartup(resolve({ ACME_EMAIL: 'ops@example.test', ACME_CHALLENGE: 'tls-alpn-01', CADDY_HTTPS_PORT: '8443' }), manifests, logger);
    expect(alpn).toEqual([expect.stringContaining('ACME_CHALLENGE=tls-alpn-01 with CADDY_HTTPS_PORT=8443')]);
    const privateCa = { ACME_EMAIL: 'ops@example.test', ACME_CA: 'https://127.0.0.1:14000/dir', CADDY_HTTP_PORT: '8080', CADDY_HTTPS_PORT: '8443' };
    expect(checkStartup(resolve({ ...privateCa, ACME_CHALLENGE: 'http-01' }), manifests, logger)).toEqual([]);
    expect(checkStartup(resolve({ ...privateCa, ACME_CHALLENGE: 'tls-alpn-01' }), manifests, logger)).toEqual([]);
  });

  it('warns when ACME_CA_ROOT is set without ACME_CA', () => {
    const { logger } = recordingLogger();
    expect(checkStartup(resolve({ ...CLOUDFLARE, ACME_CA_ROOT: '/etc/ca.pem' }), manifests, logger)).toEqual([expect.stringContaining('ACME_CA_ROOT is set but ACME_CA is not')]);
  });
});
