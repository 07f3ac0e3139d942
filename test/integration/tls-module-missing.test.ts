/**
 * dns-01 with Cloudflare on Debian's Caddy, which has no `dns.providers.*` module: ingressd learns
 * that from the binary, so the TLS rule is left out before Caddy ever sees it (no failing reload),
 * with a status that says how to fix it; the plain ingress keeps answering, and the Cloudflare
 * token never shows in a status file, ingressd's output or `ingressd render`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CLI,
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

const PORTS = { admin: 25219, dns: 25353 };
const PLAIN = 25280;
const HTTP = 25281;
const HTTPS = 25643;
const BACKEND = { host: '127.0.0.2', port: 25102 };
const TOKEN = 'fake-cloudflare-token-7Q2xZ-do-not-leak';
/** Debian's package: a Caddy without DNS provider modules, whichever Caddy the rest of the suite drives. */
const DEBIAN_CADDY = '/usr/bin/caddy';
const ENV: Readonly<Record<string, string>> = {
  CADDY_BINARY: DEBIAN_CADDY,
  ACME_EMAIL: 'ops@example.test',
  ACME_CHALLENGE: 'dns-01',
  ACME_DNS_PROVIDER: 'cloudflare',
  CLOUDFLARE_API_TOKEN: TOKEN,
  DNS_PROPAGATION_TIMEOUT: '2m',
  // Never contacted (the config is rejected first); set so nothing could ever reach a public CA.
  ACME_CA: 'https://127.0.0.1:25999/dir',
  TLS_ALLOWED_DOMAINS: 'secure.test',
  CADDY_HTTP_PORT: String(HTTP),
  CADDY_HTTPS_PORT: String(HTTPS),
};

const execFileAsync = promisify(execFile);

describe('dns-01 without the DNS provider module in Caddy', () => {
  let dir: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  let backend: Backend;
  let secure: StatusView;

  beforeAll(async () => {
    dir = await tempDir('tls-module');
    dataDir = await tempDir('tls-module-data');
    backend = await startBackend('plain-backend', BACKEND.host, BACKEND.port);
    await writeJson(join(dir, 'app.json'), { kind: 'Instance', name: 'app', address: BACKEND.host });
    await writeJson(join(dir, 'plain.json'), { rules: [{ match: { hostname: 'plain.test', port: PLAIN }, target: { instance: 'app', port: BACKEND.port } }] });
    await writeJson(join(dir, 'secure.json'), {
      rules: [{ match: { hostname: 'secure.test', port: HTTPS }, target: { instance: 'app', port: BACKEND.port }, tls: true, redirect_http: true }],
    });
    ingressd = startIngressd({ dir, dataDir, ports: PORTS, env: ENV });
    await waitReady(ingressd);
    secure = await waitFor('secure: Programmed=False', async () => {
      const status = await readStatus(dir, 'secure');
      return condition(status, 'Programmed')?.status === 'False' ? status : undefined;
    });
  }, 40_000);

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await backend?.close();
    await removeDir(dir);
    await removeDir(dataDir);
  });

  test('the TLS ingress is left out with reason CaddyModuleMissing and the fix in the message', () => {
    const programmed = condition(secure, 'Programmed');
    expect(programmed).toMatchObject({ status: 'False', reason: 'CaddyModuleMissing' });
    expect(programmed?.message).toContain('dns.providers.cloudflare');
    expect(programmed?.message).toContain('xcaddy build --with github.com/caddy-dns/cloudflare');
    expect(programmed?.message).toContain('CADDY_BINARY');
    expect(condition(secure, 'Ready')).toMatchObject({ status: 'False', reason: 'CaddyModuleMissing' });
    expect(condition(secure, 'Accepted')?.status).toBe('True');
  });

  test('the plain ingress keeps answering and is Ready', async () => {
    const answer = await get(PLAIN, 'plain.test');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('plain-backend');
    const plain = await waitFor('plain Ready', async () => {
      const status = await readStatus(dir, 'plain');
      return condition(status, 'Ready')?.status === 'True' ? status : undefined;
    });
    expect(condition(plain, 'Programmed')?.status).toBe('True');
  });

  test('Caddy holds the plain server but no ACME policy and no TLS server', async () => {
    const config = JSON.parse(await readFile(join(dataDir, 'caddy', 'config.json'), 'utf8')) as {
      apps?: { http?: { servers?: Record<string, unknown> }; tls?: { automation?: { policies?: unknown[] } } };
    };
    expect(Object.keys(config.apps?.http?.servers ?? {})).toEqual([`ingress-${PLAIN}`]);
    expect(config.apps?.tls?.automation?.policies ?? []).toEqual([]);
  });

  test('the token appears in no status file and nowhere in ingressd\'s output', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.status.json'));
    expect(files.sort()).toEqual(['app.status.json', 'plain.status.json', 'secure.status.json']);
    for (const file of files) expect(await readFile(join(dir, file), 'utf8')).not.toContain(TOKEN);
    expect(ingressd.output()).toContain('this Caddy cannot serve some rules');
    expect(ingressd.output()).toContain('"caddy":"2.6.2"');
    expect(ingressd.output()).not.toContain(TOKEN);
    // Known before any write: Caddy was never sent the module, so no reload failed on it.
    expect(await readFile(join(dataDir, 'caddy', 'caddy.log'), 'utf8')).not.toContain('dns.providers.cloudflare');
    expect(await readFile(join(dataDir, 'caddy', 'caddy.log'), 'utf8')).not.toContain(TOKEN);
  });

  test('`ingressd render` for a Caddy with the module redacts the token unless --show-secrets, and leaves the rule out for this one', async () => {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...ENV, CADDY_ADMIN_PORT: String(PORTS.admin), CADDY_LISTEN_ADDRESS: '127.0.0.1' };
    const redacted = await execFileAsync(process.execPath, [CLI, 'render', '--dir', dir, '--caddy-version', '2.11.9'], { env });
    expect(redacted.stdout).toMatch(/"api_token":\s*"<redacted>"/);
    expect(redacted.stdout + redacted.stderr).not.toContain(TOKEN);
    const shown = await execFileAsync(process.execPath, [CLI, 'render', '--dir', dir, '--caddy-version', '2.11.9', '--show-secrets'], { env });
    expect(shown.stdout).toMatch(new RegExp(`"api_token":\\s*"${TOKEN}"`));
    const forDebian = await execFileAsync(process.execPath, [CLI, 'render', '--dir', dir], { env });
    expect(forDebian.stderr).toContain('rendering for Caddy 2.6.2');
    expect(forDebian.stdout).not.toContain('api_token');
    expect(forDebian.stdout).not.toContain('secure.test');
  });
});
