import { describe, expect, it } from '@jest/globals';
import { lastAcmeErrors, withAcmeErrors } from '../../src/controller/acme-errors.js';
import type { CertificateProbe } from '../../src/controller/certificate-probe.js';
import type { CertificateStatus } from '../../src/reconciler/status-types.js';

/** Lines as Caddy 2.11.9 wrote them in tls-dns01.test.ts (a record that never propagated). */
const failed = (identifier: string, order: string): string =>
  JSON.stringify({
    level: 'error',
    ts: 1796279687.332884,
    logger: 'tls.obtain',
    msg: 'could not get certificate from issuer',
    identifier,
    issuer: '127.0.0.1:38763-dir',
    error: `[${identifier}] solving challenges: waiting for solver certmagic.solverWrapper to be ready: timed out waiting for record to fully propagate; verify DNS provider configuration is correct - last error: <nil> (order=https://127.0.0.1:38763/my-order/${order}) (ca=https://127.0.0.1:38763/dir)`,
  });
const obtained = (identifier: string): string => JSON.stringify({ level: 'info', logger: 'tls.obtain', msg: 'certificate obtained successfully', identifier });
const REASON = 'solving challenges: waiting for solver certmagic.solverWrapper to be ready: timed out waiting for record to fully propagate; verify DNS provider configuration is correct - last error: <nil>';

describe('lastAcmeErrors', () => {
  it('keeps the last failure per subject, without the order and CA URLs that change on every attempt', () => {
    const log = [failed('slow.example.test', 'AAA'), 'not json {', '{"broken": ', failed('slow.example.test', 'BBB'), failed('*.dev.example.test', 'CCC')].join('\n');
    expect(lastAcmeErrors(log)).toEqual(new Map([['slow.example.test', REASON], ['*.dev.example.test', REASON]]));
  });

  it('forgets a failure once the certificate is obtained, and ignores other lines', () => {
    const log = [failed('a.example.test', 'A'), obtained('a.example.test'), JSON.stringify({ logger: 'http', msg: 'using ACME account' }), failed('b.example.test', 'B')].join('\n');
    expect([...lastAcmeErrors(log).keys()]).toEqual(['b.example.test']);
  });

  it('redacts the DNS provider secret, URL credentials and query strings', () => {
    const error = 'presenting token: POST https://admin:hunter2@dns.example/api/zones?token=abc123 failed: key s3cr3t-key refused';
    const line = JSON.stringify({ logger: 'tls.obtain', msg: 'could not get certificate from issuer', identifier: 'x.test', error });
    const reason = lastAcmeErrors(line, 's3cr3t-key').get('x.test') ?? '';
    for (const secret of ['hunter2', 'abc123', 's3cr3t-key']) expect(reason).not.toContain(secret);
    expect(reason).toContain('https://<redacted>@dns.example/api/zones?<redacted>');
  });

  it('bounds the reason kept', () => {
    const long = JSON.stringify({ logger: 'tls.obtain', msg: 'could not get certificate from issuer', identifier: 'x.test', error: 'e'.repeat(2000) });
    expect(lastAcmeErrors(long).get('x.test')).toHaveLength(400);
  });
});

describe('withAcmeErrors', () => {
  const pending = (hostname: string): CertificateStatus => ({ hostname, served: false, message: 'no certificate yet (Caddy is obtaining one)' });
  const served: CertificateStatus = { hostname: 'ok.example.test', served: true, message: 'served' };
  const probe: CertificateProbe = async (targets) =>
    new Map(targets.map((t) => [`${t.hostname}:${t.port}`, t.hostname === served.hostname ? served : pending(t.hostname)]));
  const targets = [
    { hostname: 'slow.example.test', port: 443 },
    { hostname: '{instance}.dev.example.test', port: 443 },
    { hostname: 'ok.example.test', port: 443 },
    { hostname: 'quiet.example.test', port: 443 },
  ];

  it('appends Caddy\'s last error to pending certificates (patterns by their wildcard), leaving the rest as they are', async () => {
    const log = [failed('slow.example.test', 'A'), failed('*.dev.example.test', 'B'), failed('ok.example.test', 'C')].join('\n');
    const results = await withAcmeErrors(probe, async () => log)(targets);
    expect([...results.values()].map((r) => r.message)).toEqual([
      `no certificate yet (Caddy is obtaining one); Caddy's last attempt failed: ${REASON}`,
      `no certificate yet (Caddy is obtaining one); Caddy's last attempt failed: ${REASON}`,
      'served',
      'no certificate yet (Caddy is obtaining one)',
    ]);
    expect([...results.keys()]).toEqual(targets.map((t) => `${t.hostname}:${t.port}`));
  });

  it('does not read the log when everything is served, and survives a log it cannot read', async () => {
    let reads = 0;
    const allServed = await withAcmeErrors(probe, async () => {
      reads++;
      return '';
    })([targets[2]!]);
    expect([reads, allServed.get('ok.example.test:443')]).toEqual([0, served]);
    const unreadable = await withAcmeErrors(probe, () => Promise.reject(new Error('EACCES')))(targets);
    expect(unreadable.get('slow.example.test:443')).toEqual(pending('slow.example.test'));
  });
});
