import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stableStringify } from '../../src/model/canonical.js';
import type { JsonObject } from '../../src/model/json.js';
import type { Ingress } from '../../src/model/resource.js';
import type { RenderSettings } from '../../src/model/settings.js';
import { render } from '../../src/render/index.js';
import { servableIngress } from '../../src/render/requirements.js';
import { loadGoldenCases, type GoldenCase } from '../golden/cases.js';
import { CADDY_INFO } from '../helpers/caddy-under-test.js';

/**
 * Every golden case, moved onto loopback and ports above 20000, must pass `caddy validate` with
 * Debian's Caddy 2.6.2 — except configs using the cloudflare DNS provider, which that binary
 * lacks: those must fail with `unknown module: dns.providers.cloudflare`, and pass once the
 * provider is removed (so nothing else in them is wrong).
 */
const CADDY = process.env['CADDY_BINARY'] ?? 'caddy';
const ADMIN_PORT = 22019;
const PORT_SHIFT = 20000;
// Any parseable PEM does: Caddy reads trusted_roots_pem_files while provisioning the issuer.
const ROOTS_PEM = '/etc/ssl/certs/ca-certificates.crt';

let workDir = '';

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'ingressd-render-caddy-'));
});
afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function requireCaddy(): void {
  if (!existsSync(CADDY)) {
    throw new Error(`${CADDY} not found: this test needs Debian's Caddy 2.6.2 (apt-get install caddy); it is not skipped`);
  }
}

function loopbackPort(port: number): number {
  return port < PORT_SHIFT ? port + PORT_SHIFT : port;
}

/** The same case, listening on 127.0.0.1 and ports above 20000, with a real PEM file. */
function onLoopback(golden: GoldenCase): { ingresses: Ingress[]; settings: RenderSettings } {
  const s = golden.settings;
  const acme = s.tls.acme && { ...s.tls.acme, caRootPemFile: s.tls.acme.caRootPemFile === undefined ? undefined : ROOTS_PEM };
  const settings: RenderSettings = {
    ...s,
    listenAddress: '127.0.0.1',
    // Rendered for the Caddy that validates it (no stream_close_delay before 2.7, which rejects it).
    caddy: CADDY_INFO,
    httpPort: loopbackPort(s.httpPort),
    httpsPort: loopbackPort(s.httpsPort),
    tls: { ...s.tls, acme, httpPort: loopbackPort(s.tls.httpPort) },
  };
  // As production does: rules this Caddy cannot serve (weighted_round_robin before 2.7) are left out.
  const ingresses = golden.input.ingresses.flatMap((i) => {
    const servable = servableIngress(i, settings);
    return servable === undefined ? [] : [{ ...servable, rules: servable.rules.map((r) => ({ ...r, match: { ...r.match, port: loopbackPort(r.match.port) } })) }];
  });
  return { ingresses, settings };
}

interface Validation {
  readonly ok: boolean;
  readonly output: string;
}

function caddyValidate(name: string, config: JsonObject): Promise<Validation> {
  const dir = join(workDir, name);
  const file = join(dir, 'caddy.json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, stableStringify({ admin: { listen: `127.0.0.1:${ADMIN_PORT}` }, ...config }));
  // Caddy's default storage lives under HOME / XDG dirs: keep it inside the temp directory.
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  return new Promise((resolve) => {
    execFile(CADDY, ['validate', '--config', file], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, output: `${stdout}\n${stderr}` });
    });
  });
}

function dnsChallenge(config: JsonObject): JsonObject | undefined {
  const apps = config['apps'] as JsonObject;
  const tls = apps['tls'] as JsonObject | undefined;
  const policies = ((tls?.['automation'] as JsonObject | undefined)?.['policies'] ?? []) as JsonObject[];
  const issuer = (policies[0]?.['issuers'] as JsonObject[] | undefined)?.[0];
  return (issuer?.['challenges'] as JsonObject | undefined)?.['dns'] as JsonObject | undefined;
}

const cases = loadGoldenCases();

describe('rendered configs on real Caddy (caddy validate)', () => {
  it('covers the golden cases, including one that needs the cloudflare DNS provider', () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    const needsProvider = cases.filter((c) => c.settings.tls.acme?.dnsProvider !== undefined);
    expect(needsProvider.map((c) => c.name)).toContain('tls-dns01-redirect');
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: Caddy accepts it, or rejects only the DNS provider (missing, or the golden files\' fake token)', async (name, golden) => {
    requireCaddy();
    const { ingresses, settings } = onLoopback(golden);
    const { config } = render({ ingresses, instances: golden.input.instances }, settings);
    const text = JSON.stringify(config);
    for (const listen of text.matchAll(/"listen":\["([^"]+)"\]/g)) {
      expect(listen[1]).toMatch(/^127\.0\.0\.1:(2\d{4}|[3-6]\d{4})$/);
    }

    const dns = dnsChallenge(config);
    const result = await caddyValidate(name, config);
    if (dns?.['provider'] === undefined) {
      if (!result.ok) throw new Error(`caddy validate rejected ${name}:\n${result.output}`);
      expect(result.output).toContain('Valid configuration');
      return;
    }
    expect(result.ok).toBe(false);
    // Without the module (Debian's 2.6.2) Caddy names it; with it (a built Caddy) it checks the fake token.
    expect(result.output).toMatch(CADDY_INFO.modules.includes('dns.providers.cloudflare') ? /provision dns\.providers\.cloudflare: API token/ : /unknown module: dns\.providers\.cloudflare/);

    // Everything else must be valid: with a token of the right shape for a Caddy with the module;
    // without the provider for 2.6.2, which accepts a dns challenge without one.
    const withoutProvider = JSON.parse(text) as JsonObject;
    const challenge = dnsChallenge(withoutProvider) as JsonObject;
    if (CADDY_INFO.modules.includes('dns.providers.cloudflare')) challenge['provider'] = { name: 'cloudflare', api_token: 'A'.repeat(40) };
    else delete challenge['provider'];
    const rest = await caddyValidate(`${name}-no-provider`, withoutProvider);
    if (!rest.ok) throw new Error(`caddy validate rejected ${name} without its DNS provider:\n${rest.output}`);
  });
});
