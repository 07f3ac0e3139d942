/**
 * Real certificates from a real ACME CA on loopback: Debian's `pebble` (validating against
 * ingressd's own ports) with `pebble-challtestsrv` as its DNS (every A → 127.0.0.1), real Caddy and
 * a real `ingressd run` per challenge. Asserts what a client sees (a verified HTTPS request, the
 * redirect), what Caddy holds, what the status says, and that Caddy never listens on every
 * interface to answer a challenge.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpsGet, startPebble, type Pebble } from '../helpers/pebble.js';
import {
  condition,
  get,
  killDaemons,
  readStatus,
  removeDir,
  startBackend,
  startIngressd,
  tempDir,
  waitFor,
  waitReady,
  writeJson,
  type Backend,
  type IngressdProcess,
  type StatusView,
} from '../helpers/processes.js';

const PEBBLE = { acme: 25400, management: 25500, dns: 25053, dnsManagement: 25055 };
const BACKEND = { host: '127.0.0.2', port: 25101 };
const HTTP01 = { admin: 25019, dns: 25153, http: 25080, https: 25443 };
const ALPN = { admin: 25119, dns: 25253, http: 25180, https: 25543, side: 25544 };

function tlsRule(hostname: string, port: number): object {
  return { rules: [{ match: { hostname, port }, target: { instance: 'app', port: BACKEND.port }, tls: true, redirect_http: true }] };
}

async function certificateReady(dir: string, stem: string): Promise<StatusView> {
  return waitFor(`${stem}: CertificateReady=True`, async () => {
    const status = await readStatus(dir, stem);
    return condition(status, 'CertificateReady')?.status === 'True' ? status : undefined;
  }, 30_000);
}

function expectIssued(status: StatusView, hostname: string): void {
  expect(condition(status, 'CertificateReady')).toMatchObject({ status: 'True', reason: 'CertificateServed' });
  expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
  const [certificate] = status.certificates ?? [];
  expect(certificate).toMatchObject({ hostname, served: true, issuer: expect.stringMatching(/^Pebble Intermediate CA/) });
  expect(Date.parse(certificate?.notAfter ?? '')).toBeGreaterThan(Date.now());
}

describe('TLS with a private ACME CA (pebble)', () => {
  let pebble: Pebble;
  let backend: Backend;

  beforeAll(async () => {
    pebble = await startPebble({ ...PEBBLE, httpPort: HTTP01.http, tlsPort: ALPN.https });
    backend = await startBackend('tls-backend', BACKEND.host, BACKEND.port);
  }, 30_000);

  afterAll(async () => {
    await backend?.close();
    await pebble?.stop();
  });

  describe.each([
    ['http-01', HTTP01],
    ['tls-alpn-01', ALPN],
  ] as const)('ingressd run with ACME_CHALLENGE=%s', (challenge, ports) => {
    let dir: string;
    let dataDir: string;
    let ingressd: IngressdProcess;
    let listeners: ListenerSampler;
    const host = challenge === 'http-01' ? 'http01.test' : 'alpn.test';

    beforeAll(async () => {
      dir = await tempDir(`tls-${challenge}`);
      dataDir = await tempDir(`tls-${challenge}-data`);
      await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: BACKEND.host });
      // tls-alpn-01: first a host on another port, so the HTTPS port holds only the challenge server.
      await writeJson(join(dir, challenge === 'http-01' ? 'site.json' : 'side.json'), challenge === 'http-01' ? tlsRule(host, ports.https) : tlsRule('side.alpn.test', ALPN.side));
      // Sample from before Caddy starts until every certificate is issued.
      listeners = sampleListeners([ports.http, ports.https]);
      ingressd = startIngressd({
        dir,
        dataDir,
        ports: { admin: ports.admin, dns: ports.dns },
        env: {
          ACME_EMAIL: 'ops@example.test',
          ACME_CA: pebble.directoryUrl,
          ACME_CA_ROOT: pebble.tlsCertFile,
          ACME_CHALLENGE: challenge,
          TLS_ALLOWED_DOMAINS: 'http01.test,alpn.test,*.alpn.test',
          CADDY_HTTP_PORT: String(ports.http),
          CADDY_HTTPS_PORT: String(ports.https),
          CADDY_LISTEN_ADDRESS: '127.0.0.1',
        },
      });
      await waitReady(ingressd);
      if (challenge === 'tls-alpn-01') {
        await certificateReady(dir, 'side');
        await writeJson(join(dir, 'site.json'), tlsRule(host, ports.https));
      }
      await certificateReady(dir, 'site');
      await listeners.stop();
    }, 60_000);

    afterAll(async () => {
      await listeners?.stop();
      await ingressd?.stop();
      await killDaemons(dataDir);
      await removeDir(dir);
      await removeDir(dataDir);
    });

    test('the status reports the certificate served, its notAfter and issuer, and Ready', async () => {
      expectIssued((await readStatus(dir, 'site'))!, host);
      if (challenge === 'tls-alpn-01') expectIssued((await readStatus(dir, 'side'))!, 'side.alpn.test');
    });

    test('HTTPS with the SNI, trusting only Pebble\'s root, reaches the backend without a redirect', async () => {
      const answer = await httpsGet({ port: ports.https, servername: host, path: '/some/path?x=1&y=2', ca: pebble.issuingRootPem });
      expect(answer.status).toBe(200);
      expect(answer.body).toBe('tls-backend');
      expect(answer.headers['location']).toBeUndefined();
      if (challenge === 'tls-alpn-01') {
        expect((await httpsGet({ port: ALPN.side, servername: 'side.alpn.test', path: '/', ca: pebble.issuingRootPem })).body).toBe('tls-backend');
      }
    });

    test('plain HTTP gets a 301 to the https URL with the TLS port, path and query', async () => {
      const answer = await get(ports.http, host, '/some/path?x=1&y=2');
      expect(answer.status).toBe(301);
      expect(answer.headers['location']).toBe(`https://${host}:${ports.https}/some/path?x=1&y=2`);
      if (challenge === 'tls-alpn-01') {
        expect((await get(ports.http, 'side.alpn.test', '/a?b=c')).headers['location']).toBe(`https://side.alpn.test:${ALPN.side}/a?b=c`);
      }
    });

    test('Caddy answered the challenge in ingressd\'s own listeners, never on every interface', () => {
      const seen = listeners.result();
      // The sampler saw our own listeners, so it was looking at the right place …
      expect(seen.loopback).toEqual(expect.arrayContaining([`127.0.0.1:${ports.http}`, `127.0.0.1:${ports.https}`]));
      // … and nothing else ever listened on the challenge ports.
      expect(seen.other).toEqual([]);
      expect(seen.samples).toBeGreaterThan(10);
    });

    test('the rendered config binds the solver to the listen address and serves the challenge port itself', async () => {
      const config = await caddyConfig(ports.admin);
      const policy = config.apps?.tls?.automation?.policies?.find((p) => p['@id'] === 'ingressd.tls.acme');
      const issuer = policy?.issuers?.[0];
      expect(issuer).toMatchObject({ module: 'acme', ca: pebble.directoryUrl, trusted_roots_pem_files: [pebble.tlsCertFile], email: 'ops@example.test' });
      expect(issuer?.challenges).toEqual(
        challenge === 'http-01'
          ? { bind_host: '127.0.0.1', http: { alternate_port: ports.http }, 'tls-alpn': { disabled: true } }
          : { bind_host: '127.0.0.1', http: { disabled: true }, 'tls-alpn': { alternate_port: ports.https } },
      );
      const challengePort = challenge === 'http-01' ? ports.http : ports.https;
      expect(config.apps?.http?.servers?.[`ingress-${challengePort}`]?.listen).toEqual([`127.0.0.1:${challengePort}`]);
    });
  });
});

// ---------- listeners, Caddy's config (Pebble and HTTPS: ../helpers/pebble.ts) ----------

interface ListenerSampler {
  stop(): Promise<void>;
  /** Distinct listening addresses seen on the ports: on 127.0.0.1, and anywhere else. */
  result(): { readonly loopback: string[]; readonly other: string[]; readonly samples: number };
}

/**
 * Reads /proc/net/tcp and tcp6 every few milliseconds and records every LISTEN socket on `ports`.
 * Caddy's solver holds its own listener for the whole challenge (~0.5 s with Pebble), so a listener
 * on 0.0.0.0 or [::] cannot slip between two samples.
 */
function sampleListeners(ports: readonly number[]): ListenerSampler {
  const loopback = new Set<string>();
  const other = new Set<string>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
        const text = await readFile(file, 'utf8').catch(() => '');
        for (const line of text.split('\n').slice(1)) {
          const [, local, , state] = line.trim().split(/\s+/);
          if (state !== '0A' || local === undefined) continue;
          const [hexAddress = '', hexPort = ''] = local.split(':');
          const port = parseInt(hexPort, 16);
          if (!ports.includes(port)) continue;
          const address = decodeAddress(hexAddress);
          (address === '127.0.0.1' ? loopback : other).add(`${address.includes(':') ? `[${address}]` : address}:${port}`);
        }
      }
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
    result: () => ({ loopback: [...loopback].sort(), other: [...other].sort(), samples }),
  };
}

/** /proc/net/tcp{,6} addresses are 32-bit words in little-endian order; IPv6 is shown as its 8 groups. */
function decodeAddress(hex: string): string {
  const bytes = [...hex.matchAll(/.{8}/g)].flatMap(([word]) => [6, 4, 2, 0].map((i) => parseInt(word.slice(i, i + 2), 16)));
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  return Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':');
}

interface CaddyView {
  readonly apps?: {
    readonly http?: { readonly servers?: Readonly<Record<string, { readonly listen?: readonly string[] }>> };
    readonly tls?: { readonly automation?: { readonly policies?: readonly { readonly '@id'?: string; readonly issuers?: readonly Readonly<Record<string, unknown>>[] }[] } };
  };
}

/** Caddy's live config, from its admin API. */
async function caddyConfig(adminPort: number): Promise<CaddyView> {
  return (await (await fetch(`http://127.0.0.1:${adminPort}/config/`)).json()) as CaddyView;
}
