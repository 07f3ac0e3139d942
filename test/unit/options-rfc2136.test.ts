/**
 * ACME_DNS_PROVIDER=rfc2136: its settings from the environment, what is missing or wrong, the
 * provider Caddy gets, and that the TSIG secret is redacted from printed configs and never read
 * by ingressd when it comes from a file.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOptions, type Env, type Options } from '../../src/controller/options.js';
import { checkOptionFiles } from '../../src/controller/startup-checks.js';
import { isIngressdError } from '../../src/model/errors.js';
import type { Ingress } from '../../src/model/resource.js';
import { providerSecret } from '../../src/model/settings.js';
import { redactSecrets, render } from '../../src/render/index.js';

const SECRET = 'c2VjcmV0LXRzaWcta2V5LURPLU5PVC1MRUFL';
const RFC2136: Env = {
  ACME_EMAIL: 'ops@example.test',
  ACME_DNS_PROVIDER: 'rfc2136',
  RFC2136_SERVER: '127.0.0.1:53',
  RFC2136_KEY_NAME: 'ingressd.',
  RFC2136_KEY: SECRET,
};

function resolve(env: Env): Options {
  return resolveOptions({ MANIFEST_DIR: '/srv', TLS_ALLOWED_DOMAINS: '*.example.test', ...env }, {}, { cwd: '/', isTty: false });
}

function failure(env: Env): string {
  try {
    resolve(env);
  } catch (err) {
    expect(isIngressdError(err, 'invalid_option')).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`resolveOptions accepted ${JSON.stringify(env)}`);
}

const INGRESS: Ingress = {
  kind: 'Ingress',
  id: 'site',
  file: 'site.json',
  rules: [{ match: { hostname: 'www.example.test', port: 443 }, target: { instance: 'app', port: 8080 }, tls: true, redirect_http: false }],
} as unknown as Ingress;

describe('ACME_DNS_PROVIDER=rfc2136', () => {
  it('resolves server, key name, algorithm (default hmac-sha256) and key', () => {
    const acme = resolve(RFC2136).render.tls.acme;
    expect(acme?.dnsProvider).toEqual({ name: 'rfc2136', server: '127.0.0.1:53', keyName: 'ingressd.', keyAlg: 'hmac-sha256', key: SECRET });
    expect(providerSecret(acme?.dnsProvider)).toBe(SECRET);
    expect(resolve({ ...RFC2136, RFC2136_KEY_ALG: 'HMAC-SHA512' }).render.tls.acme?.dnsProvider).toMatchObject({ keyAlg: 'hmac-sha512' });
  });

  it('names what is missing in tls_not_configured terms', () => {
    const tls = resolve({ ACME_EMAIL: 'ops@example.test', ACME_DNS_PROVIDER: 'rfc2136' }).render.tls;
    expect(tls.acme).toBeUndefined();
    expect(tls.acmeMissing).toBe('set RFC2136_SERVER and RFC2136_KEY_NAME and RFC2136_KEY (or RFC2136_KEY_FILE)');
  });

  it('reports a bad server, algorithm, relative key file and two keys at once, never echoing the key', () => {
    const message = failure({ ...RFC2136, RFC2136_SERVER: 'dns.example.test', RFC2136_KEY_ALG: 'md5', RFC2136_KEY_FILE: 'key.txt' });
    expect(message).toContain('RFC2136_SERVER must be host:port');
    expect(message).toContain('RFC2136_KEY_ALG must be one of hmac-sha1');
    expect(message).toContain('RFC2136_KEY_FILE must be an absolute path');
    expect(message).toContain('set RFC2136_KEY or RFC2136_KEY_FILE, not both');
    expect(message).not.toContain(SECRET);
  });

  it('hands a key file to Caddy as its {file.<path>} placeholder: the secret never passes through ingressd', () => {
    const { RFC2136_KEY: _key, ...withoutKey } = RFC2136;
    const provider = resolve({ ...withoutKey, RFC2136_KEY_FILE: '/etc/ingressd/tsig.secret' }).render.tls.acme?.dnsProvider;
    expect(provider).toMatchObject({ name: 'rfc2136', key: '{file./etc/ingressd/tsig.secret}' });
    expect(providerSecret(provider)).toBeUndefined();
  });

  it('renders the rfc2136 provider for dns-01, and redactSecrets hides the key but keeps a placeholder', () => {
    const options = resolve({ ...RFC2136, DNS_RESOLVERS: '127.0.0.1:53', DNS_PROPAGATION_TIMEOUT: '30s' });
    const config = render({ ingresses: [INGRESS], instances: [] }, options.render).config;
    const text = JSON.stringify(config);
    expect(text).toContain(`"provider":{"key":"${SECRET}","key_alg":"hmac-sha256","key_name":"ingressd.","name":"rfc2136","server":"127.0.0.1:53"}`);
    expect(text).toContain('"propagation_timeout":"30s"');
    expect(text).toContain('"resolvers":["127.0.0.1:53"]');
    const redacted = JSON.stringify(redactSecrets(config));
    expect(redacted).not.toContain(SECRET);
    expect(redacted).toContain('"key":"<redacted>"');
    expect(JSON.stringify(redactSecrets({ provider: { name: 'rfc2136', key: '{file./k}' }, rate: { key: '{http.request.remote.host}' } }))).toBe(
      '{"provider":{"name":"rfc2136","key":"{file./k}"},"rate":{"key":"{http.request.remote.host}"}}',
    );
  });
});

describe('checkOptionFiles with RFC2136_KEY_FILE', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingressd-rfc2136-'));
    await writeFile(join(dir, 'ok'), `${SECRET}\n`);
    await writeFile(join(dir, 'empty'), '\n');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));
  const withFile = (file: string): Options => {
    const { RFC2136_KEY: _key, ...withoutKey } = RFC2136;
    return resolve({ ...withoutKey, RFC2136_KEY_FILE: file });
  };

  it('accepts a readable file holding the secret', async () => {
    await expect(checkOptionFiles(withFile(join(dir, 'ok')))).resolves.toBeUndefined();
  });

  it('fails at start, naming the variable and the path, on a missing or empty file', async () => {
    await expect(checkOptionFiles(withFile(join(dir, 'absent')))).rejects.toThrow(/RFC2136_KEY_FILE ".*absent" cannot be read \(ENOENT\)/);
    await expect(checkOptionFiles(withFile(join(dir, 'empty')))).rejects.toThrow(/RFC2136_KEY_FILE ".*empty" is empty/);
  });
});
