/**
 * DNS-01 end to end, nothing faked: Debian's bind9 is the authoritative server of the test zone and
 * accepts TSIG-signed RFC 2136 updates; Debian's Pebble validates dns-01 by asking that bind9; a real
 * `ingressd run` drives the Caddy under test with ACME_DNS_PROVIDER=rfc2136, the TSIG secret in a key
 * file, and DNS_RESOLVERS pointing certmagic's propagation check at bind9 (the zone is not in any
 * public DNS). Asserts what a client sees (HTTPS verified against Pebble's root), what bind9 was
 * sent, what Caddy holds, what the status says (for a failed attempt: Caddy's own error), and that
 * the secret shows nowhere.
 *
 * Needs a Caddy with dns.providers.rfc2136 (`npm run build:caddy`): on any other (Debian's 2.6.2)
 * the suite is skipped, saying so in its title.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CADDY, CADDY_INFO } from '../helpers/caddy-under-test.js';
import { startNamed, type Named } from '../helpers/named.js';
import { httpsGet, startPebble, type Pebble } from '../helpers/pebble.js';
import {
  CLI,
  adminRequest,
  condition,
  freePort,
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

const ZONE = 'dns01.test';
const EXACT = `api.${ZONE}`;
const PATTERN = `{instance}.dev.${ZONE}`;
const WILDCARD = `*.dev.${ZONE}`;
/** Allowed to get certificates: the exact host and *.dev, not *.other. */
const ALLOWED = `${EXACT},${WILDCARD}`;
const PROPAGATION_TIMEOUT = '90s';
const hasRfc2136 = CADDY_INFO.modules.includes('dns.providers.rfc2136');
const describeWithRfc2136 = hasRfc2136 ? describe : describe.skip;
const execFileAsync = promisify(execFile);

async function certificateReady(dir: string, stem: string): Promise<StatusView> {
  return waitFor(`${stem}: CertificateReady=True`, async () => {
    const status = await readStatus(dir, stem);
    return condition(status, 'CertificateReady')?.status === 'True' ? status : undefined;
  }, 60_000, 200);
}

interface CaddyDnsChallenge {
  readonly provider?: Readonly<Record<string, string>>;
  readonly propagation_timeout?: string;
  readonly resolvers?: readonly string[];
}

describeWithRfc2136(`dns-01 through RFC 2136 to bind9, validated by Pebble (${hasRfc2136 ? CADDY : `skipped: ${CADDY} has no dns.providers.rfc2136; npm run build:caddy builds one`})`, () => {
  let named: Named;
  let pebble: Pebble;
  let backends: Backend[];
  let dir: string;
  let dataDir: string;
  let keyDir: string;
  let ingressd: IngressdProcess;
  let env: Record<string, string>;
  let https: number;
  let backendPort: number;

  beforeAll(async () => {
    named = await startNamed(ZONE);
    pebble = await startPebble({ dnsServer: named.address });
    backendPort = await freePort();
    backends = await Promise.all([
      startBackend('api-backend', '127.0.0.2', backendPort),
      startBackend('a-backend', '127.0.0.3', backendPort),
      startBackend('b-backend', '127.0.0.4', backendPort),
    ]);
    dir = await tempDir('dns01');
    dataDir = await tempDir('dns01-data');
    keyDir = await tempDir('dns01-key');
    // The secret alone, as a secrets manager would mount it (a trailing newline included).
    await writeFile(join(keyDir, 'tsig.key'), `${named.secret}\n`, { mode: 0o600 });
    https = await freePort();
    await writeJson(join(dir, 'api.json'), { kind: 'Instance', name: 'api', address: '127.0.0.2' });
    await writeJson(join(dir, 'a.json'), { kind: 'Instance', name: 'a', address: '127.0.0.3' });
    await writeJson(join(dir, 'b.json'), { kind: 'Instance', name: 'b', address: '127.0.0.4' });
    await writeJson(join(dir, 'exact.json'), { rules: [{ match: { hostname: EXACT, port: https }, target: { instance: 'api', port: backendPort }, tls: true }] });
    await writeJson(join(dir, 'dev.json'), { rules: [{ match: { hostname: PATTERN, port: https }, target: { instance: '{instance}', port: backendPort }, tls: true }] });
    await writeJson(join(dir, 'other.json'), { rules: [{ match: { hostname: `{instance}.other.${ZONE}`, port: https }, target: { instance: '{instance}', port: backendPort }, tls: true }] });
    env = {
      ACME_EMAIL: 'ops@example.test',
      ACME_CA: pebble.directoryUrl,
      ACME_CA_ROOT: pebble.tlsCertFile,
      ACME_CHALLENGE: 'dns-01',
      ACME_DNS_PROVIDER: 'rfc2136',
      RFC2136_SERVER: named.address,
      RFC2136_KEY_NAME: named.keyName,
      RFC2136_KEY_ALG: named.keyAlg,
      RFC2136_KEY_FILE: join(keyDir, 'tsig.key'),
      DNS_RESOLVERS: named.address,
      DNS_PROPAGATION_TIMEOUT: PROPAGATION_TIMEOUT,
      TLS_ALLOWED_DOMAINS: ALLOWED,
      CADDY_HTTP_PORT: String(await freePort()),
      CADDY_HTTPS_PORT: String(https),
    };
    const admin = await freePort();
    // CADDY_ADMIN_PORT and CADDY_BINARY also for `ingressd render`, which renders for the running Caddy.
    env['CADDY_ADMIN_PORT'] = String(admin);
    env['CADDY_BINARY'] = CADDY;
    ingressd = startIngressd({ dir, dataDir, ports: { admin, dns: await freePort() }, env });
    await waitReady(ingressd);
    try {
      await certificateReady(dir, 'exact');
      await certificateReady(dir, 'dev');
    } catch (err) {
      throw new Error(`${String(err)}\n--- Caddy log (last 4000 chars) ---\n${(await caddyLog()).slice(-4000)}\n--- pebble ---\n${pebble.output().slice(-2000)}`);
    }
  }, 150_000);

  afterAll(async () => {
    await ingressd?.stop();
    if (dataDir !== undefined) await killDaemons(dataDir);
    await Promise.all((backends ?? []).map((b) => b.close()));
    await pebble?.stop();
    await named?.stop();
    for (const d of [dir, dataDir, keyDir]) if (d !== undefined) await removeDir(d);
  });

  const caddyLog = (): Promise<string> => readFile(join(dataDir, 'caddy', 'caddy.log'), 'utf8').catch(() => '');

  test('an exact hostname gets its certificate through dns-01 and is served over HTTPS verified against Pebble\'s root', async () => {
    const status = (await readStatus(dir, 'exact'))!;
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True' });
    expect(status.certificates).toEqual([expect.objectContaining({ hostname: EXACT, served: true, issuer: expect.stringMatching(/^Pebble Intermediate CA/) })]);
    const answer = await httpsGet({ port: https, servername: EXACT, path: '/', ca: pebble.issuingRootPem });
    expect(answer).toMatchObject({ status: 200, body: 'api-backend' });
    expect(answer.altNames).toBe(`DNS:${EXACT}`);
  });

  test('a pattern hostname gets ONE wildcard certificate, and two instances are served with it', async () => {
    const status = (await readStatus(dir, 'dev'))!;
    expect(condition(status, 'CertificateReady')).toMatchObject({ status: 'True', reason: 'CertificateServed' });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True' });
    const a = await httpsGet({ port: https, servername: `a.dev.${ZONE}`, path: '/x', ca: pebble.issuingRootPem });
    const b = await httpsGet({ port: https, servername: `b.dev.${ZONE}`, path: '/y', ca: pebble.issuingRootPem });
    expect([a.status, a.body, b.status, b.body]).toEqual([200, 'a-backend', 200, 'b-backend']);
    expect(a.altNames).toBe(`DNS:${WILDCARD}`);
    expect(b.serial).toBe(a.serial);
    // Caddy's storage holds exactly two certificates: the exact one and the wildcard (no per-host ones).
    const issuers = await readdir(join(dataDir, 'caddy', 'data', 'caddy', 'certificates')).catch(() => [] as string[]);
    const names = (await Promise.all(issuers.map((i) => readdir(join(dataDir, 'caddy', 'data', 'caddy', 'certificates', i))))).flat().sort();
    expect(names).toEqual([EXACT, `wildcard_.dev.${ZONE}`]);
  });

  test('the records went to bind9 as TSIG-signed updates, for both names, and were removed afterwards', async () => {
    const log = await named.log();
    expect(log).toContain(`signer "${named.keyName}" approved`);
    expect(log).toMatch(new RegExp(`adding an RR at '_acme-challenge\\.api\\.dns01\\.test' TXT`));
    expect(log).toMatch(new RegExp(`adding an RR at '_acme-challenge\\.dev\\.dns01\\.test' TXT`));
    await waitFor('the challenge records to be cleaned up', () => named.txt(`_acme-challenge.dev.${ZONE}`).length === 0 && named.txt(`_acme-challenge.${EXACT}`).length === 0, 10_000);
  });

  test('DNS_RESOLVERS and DNS_PROPAGATION_TIMEOUT reach Caddy; the secret stays in its file', async () => {
    const answer = await adminRequest(ingressd.ports.admin, 'GET', '/config/apps/tls/automation/policies/0/issuers/0/challenges/dns');
    expect(answer.status).toBe(200);
    const dns = JSON.parse(answer.body) as CaddyDnsChallenge;
    expect(dns).toEqual({
      provider: { name: 'rfc2136', server: named.address, key_name: named.keyName, key_alg: named.keyAlg, key: `{file.${join(keyDir, 'tsig.key')}}` },
      propagation_timeout: PROPAGATION_TIMEOUT,
      resolvers: [named.address],
    });
  });

  test('TLS_ALLOWED_DOMAINS still guards: a pattern whose wildcard is not allowed gets domain_not_allowed', async () => {
    const status = (await readStatus(dir, 'other'))!;
    expect(status.errors).toEqual([expect.objectContaining({ code: 'domain_not_allowed', path: '/rules/0/match/hostname' })]);
    expect(status.errors[0]?.message).toContain(`*.other.${ZONE}`);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False' });
  });

  test('the TSIG secret appears in no log, status file, saved config or `ingressd render` output', async () => {
    const statuses = await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.status.json')).map((f) => readFile(join(dir, f), 'utf8')));
    expect(statuses.length).toBeGreaterThanOrEqual(6);
    const saved = await Promise.all((await readdir(join(dataDir, 'caddy'))).filter((f) => f.endsWith('.json')).map((f) => readFile(join(dataDir, 'caddy', f), 'utf8')));
    const rendered = await execFileAsync(process.execPath, [CLI, 'render', '--dir', dir], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env, DATA_DIR: dataDir } });
    expect(rendered.stdout).toContain('"rfc2136"');
    // With the secret itself in the environment (RFC2136_KEY), render redacts it.
    const { RFC2136_KEY_FILE: _file, ...inline } = env;
    const redacted = await execFileAsync(process.execPath, [CLI, 'render', '--dir', dir], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...inline, RFC2136_KEY: named.secret, DATA_DIR: dataDir } });
    expect(redacted.stdout).toMatch(/"key":\s*"<redacted>"/);
    for (const text of [ingressd.output(), await caddyLog(), ...statuses, ...saved, rendered.stdout, rendered.stderr, redacted.stdout, redacted.stderr]) {
      expect(text).not.toContain(named.secret);
    }
  });
});

describeWithRfc2136(`dns-01 whose record never reaches the resolvers certmagic asks (${hasRfc2136 ? CADDY : 'skipped: no dns.providers.rfc2136'})`, () => {
  const HOST = `slow.${ZONE}`;
  let primary: Named;
  /** Serves the same zone but never receives the updates: a secondary that lags for ever. */
  let stale: Named;
  let pebble: Pebble;
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;

  beforeAll(async () => {
    primary = await startNamed(ZONE);
    stale = await startNamed(ZONE);
    pebble = await startPebble({ dnsServer: primary.address });
    dir = await tempDir('dns01-slow');
    dataDir = await tempDir('dns01-slow-data');
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: '127.0.0.2' });
    await writeJson(join(dir, 'slow.json'), { rules: [{ match: { hostname: HOST, port: await freePort() }, target: { instance: 'app', port: 8080 }, tls: true }] });
    ingressd = startIngressd({
      dir,
      dataDir,
      ports: { admin: await freePort(), dns: await freePort() },
      env: {
        ACME_EMAIL: 'ops@example.test',
        ACME_CA: pebble.directoryUrl,
        ACME_CA_ROOT: pebble.tlsCertFile,
        ACME_DNS_PROVIDER: 'rfc2136',
        RFC2136_SERVER: primary.address,
        RFC2136_KEY_NAME: primary.keyName,
        RFC2136_KEY: primary.secret,
        DNS_RESOLVERS: stale.address,
        DNS_PROPAGATION_TIMEOUT: '3s',
        TLS_ALLOWED_DOMAINS: HOST,
        CADDY_HTTP_PORT: String(await freePort()),
        CADDY_HTTPS_PORT: String(await freePort()),
      },
    });
    await waitReady(ingressd);
  }, 60_000);

  afterAll(async () => {
    await ingressd?.stop();
    if (dataDir !== undefined) await killDaemons(dataDir);
    await pebble?.stop();
    await primary?.stop();
    await stale?.stop();
    for (const d of [dir, dataDir]) if (d !== undefined) await removeDir(d);
  });

  test('Caddy gives up after DNS_PROPAGATION_TIMEOUT (3s, not its 2m default) and the ingress stays CertificatePending', async () => {
    interface LogLine { readonly logger?: string; readonly msg?: string; readonly identifier?: string; readonly ts?: number; readonly error?: string }
    const lines = await waitFor('a failed attempt in Caddy\'s log', async () => {
      const text = await readFile(join(dataDir, 'caddy', 'caddy.log'), 'utf8').catch(() => '');
      const parsed = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
      return parsed.some((l) => l.msg === 'could not get certificate from issuer') ? parsed : undefined;
    }, 30_000, 200);
    const started = lines.find((l) => l.msg === 'trying to solve challenge' && l.identifier === HOST);
    const failed = lines.find((l) => l.msg === 'could not get certificate from issuer' && l.identifier === HOST);
    expect(failed?.error).toContain('timed out waiting for record to fully propagate');
    const waitedS = (failed?.ts ?? 0) - (started?.ts ?? 0);
    expect(waitedS).toBeGreaterThanOrEqual(3);
    expect(waitedS).toBeLessThan(20);
    // The record was published (to the primary), and the resolver certmagic was told to ask never had it.
    expect(await primary.log()).toContain(`adding an RR at '_acme-challenge.${HOST}' TXT`);
    expect(await stale.log()).not.toContain('adding an RR');
    // The status says why, in Caddy's words (from its log), not only that no certificate is served yet.
    const status = await waitFor('the status to carry Caddy\'s error', async () => {
      const s = await readStatus(dir, 'slow');
      return condition(s, 'CertificateReady')?.message.includes('Caddy\'s last attempt failed') ? s : undefined;
    }, 15_000, 200);
    expect(condition(status, 'CertificateReady')).toMatchObject({ status: 'False', reason: 'CertificatePending' });
    expect(condition(status, 'CertificateReady')?.message).toContain(`${HOST}: no certificate yet`);
    expect(condition(status, 'CertificateReady')?.message).toContain('timed out waiting for record to fully propagate');
    expect(condition(status, 'CertificateReady')?.message).not.toContain('order=');
    expect(condition(status, 'Programmed')).toMatchObject({ status: 'True' });
  }, 40_000);
});
