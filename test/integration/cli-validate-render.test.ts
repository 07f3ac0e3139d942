/**
 * `ingressd validate` and `ingressd render` as a user runs them: the built CLI, real files, and
 * Debian's Caddy judging the rendered config of the example manifests.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, ROOT, removeDir, tempDir } from '../helpers/processes.js';

function cli(args: readonly string[], env: Readonly<Record<string, string>> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ingressd validate', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('validate');
    await mkdir(join(dir, 'team'), { recursive: true });
    await writeFile(join(dir, 'syntax.json'), '{\n  "name": "syntax",\n  "rules": [,]\n}\n');
    await writeFile(join(dir, 'ports.json'), JSON.stringify({ rules: [{ match: { hostname: 'p.test', port: 70000 }, target: { instance: 'app', port: 0 } }] }));
    await writeFile(join(dir, 'wild.json'), JSON.stringify({ rules: [{ match: { hostname: '*.example.com' }, target: { instance: 'app', port: 80 } }] }));
    await writeFile(join(dir, 'app.json'), JSON.stringify({ kind: 'Instance', address: '127.0.0.2' }));
    await writeFile(join(dir, 'first.json'), JSON.stringify({ rules: [{ match: { hostname: 'same.test' }, target: { instance: 'app', port: 80 } }] }));
    await writeFile(join(dir, 'team', 'second.json'), JSON.stringify({ rules: [{ match: { hostname: 'same.test' }, target: { instance: 'app', port: 80 } }] }));
    await writeFile(join(dir, 'first.status.json'), '{"ignored": true}');
    await writeFile(join(dir, '.hidden.json'), 'not json and ignored');
  });

  afterAll(async () => {
    await removeDir(dir);
  });

  test('prints one precise line per problem and exits 1', () => {
    const r = cli(['validate', dir]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(5);
    expect(lines.some((l) => /ports\.json: \/rules\/0\/match\/port: .*70000.* \[invalid_request\]$/.test(l))).toBe(true);
    expect(lines.some((l) => /ports\.json: \/rules\/0\/target\/port: .* \[invalid_request\]$/.test(l))).toBe(true);
    expect(lines.some((l) => /syntax\.json: .*line 3, column \d+.* \[invalid_request\]$/.test(l))).toBe(true);
    expect(lines.some((l) => /wild\.json: \/rules\/0\/match\/hostname: wildcard hostnames are not supported.* \[invalid_request\]$/.test(l))).toBe(true);
    expect(lines.some((l) => /team\/second\.json: \/rules\/0\/match\/hostname: .*first\.json.* \[hostname_in_use\]$/.test(l))).toBe(true);
  });

  test('--json reports every file for machines', () => {
    const r = cli(['validate', '--json', dir]);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { valid: boolean; files: { file: string; valid: boolean }[] };
    expect(report.valid).toBe(false);
    expect(report.files.filter((f) => f.valid).map((f) => f.file.split('/').pop()).sort()).toEqual(['app.json', 'first.json']);
  });

  test('exits 0 on valid manifests and 2 on a usage error', () => {
    expect(cli(['validate', join(ROOT, 'manifests', 'examples')]).status).toBe(0);
    expect(cli(['validate']).status).toBe(2);
    expect(cli(['validate', '--bogus', dir]).status).toBe(2);
    expect(cli(['frobnicate']).status).toBe(2);
  });

  test('every command answers --help', () => {
    for (const command of ['run', 'validate', 'render', 'diff', 'get', 'dns']) {
      const r = cli([command, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: ingressd ${command}`);
    }
  });
});

describe('ingressd render', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('render');
  });

  afterAll(async () => {
    await removeDir(dir);
  });

  test('the rendered config of manifests/examples is accepted by Caddy', async () => {
    const r = cli(['render', '--dir', join(ROOT, 'manifests', 'examples')], { CADDY_LISTEN_ADDRESS: '127.0.0.1', CADDY_ADMIN_PORT: '21919' });
    expect(r.status).toBe(0);
    const config = JSON.parse(r.stdout) as { admin: { listen: string } };
    expect(config.admin.listen).toBe('127.0.0.1:21919');
    await writeFile(join(dir, 'config.json'), r.stdout);
    const caddy = spawnSync(process.env['CADDY_BINARY'] ?? 'caddy', ['validate', '--config', join(dir, 'config.json')], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') },
    });
    expect(caddy.error).toBeUndefined();
    expect(`${caddy.stdout}${caddy.stderr}`).toContain('Valid configuration');
    expect(caddy.status).toBe(0);
  });

  test('renders byte-identical output on every run', () => {
    const a = cli(['render', '--dir', join(ROOT, 'manifests', 'examples')]);
    const b = cli(['render', '--dir', join(ROOT, 'manifests', 'examples')]);
    expect(a.stdout).toBe(b.stdout);
  });

  test('redacts secrets unless --show-secrets', async () => {
    await writeFile(join(dir, 'tls.json'), JSON.stringify({ rules: [{ match: { hostname: 'secure.example.com', port: 443 }, target: { instance: 'app', port: 80 }, tls: true }] }));
    const env = { ACME_EMAIL: 'ops@example.com', ACME_DNS_PROVIDER: 'cloudflare', CLOUDFLARE_API_TOKEN: 'cf-secret-token-1234', TLS_ALLOWED_DOMAINS: '*.example.com' };
    const hidden = cli(['render', '--dir', dir, '--caddy-version', '2.11.9'], env);
    expect(hidden.status).toBe(0);
    expect(hidden.stdout).not.toContain('cf-secret-token-1234');
    expect(hidden.stdout).toContain('<redacted>');
    expect(cli(['render', '--dir', dir, '--caddy-version', '2.11.9', '--show-secrets'], env).stdout).toContain('cf-secret-token-1234');
  });
});
