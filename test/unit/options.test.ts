import { describe, expect, test } from '@jest/globals';
import { resolveOptions, withDnsPort } from '../../src/controller/options.js';

const ctx = { cwd: '/srv', isTty: false };

describe('resolveOptions', () => {
  test('fills every default', () => {
    const o = resolveOptions({}, {}, ctx);
    expect(o.dataDir).toBe('/var/lib/ingressd');
    expect(o.caddy).toEqual({ binary: 'caddy', adminAddress: '127.0.0.1', adminPort: 2019, stopOnShutdown: false });
    expect(o.dns).toEqual({ address: '127.0.0.1', port: 5353, zone: 'ingressd.internal' });
    expect(o.render.dnsResolver).toBe('udp/127.0.0.1:5353');
    expect(o.render.upstreamMode).toBe('dns');
    expect(o.resyncIntervalMs).toBe(30_000);
    expect(o.api).toMatchObject({ host: '127.0.0.1', port: 8089, enabled: true });
    expect(o.log).toEqual({ level: 'info', format: 'json' });
    expect(Object.isFrozen(o.render.tls)).toBe(true);
  });

  test('flags override environment variables, and relative paths resolve against the working directory', () => {
    const o = resolveOptions({ MANIFEST_DIR: 'a', CADDY_ADMIN_PORT: '3000' }, { dir: 'b', 'admin-port': '4000' }, ctx);
    expect(o.manifestDir).toBe('/srv/b');
    expect(o.caddy.adminPort).toBe(4000);
  });

  test('every bad value is reported at once, naming the variable and the value', () => {
    let message = '';
    try {
      resolveOptions({ CADDY_ADMIN_PORT: '70000', RESYNC_INTERVAL: 'soon', CADDY_STOP_ON_SHUTDOWN: 'maybe', UPSTREAM_MODE: 'x' }, {}, ctx);
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_option' });
      message = (err as Error).message;
    }
    expect(message).toContain('CADDY_ADMIN_PORT must be a port number 1-65535, got "70000"');
    expect(message).toContain('CADDY_STOP_ON_SHUTDOWN must be true or false, got "maybe"');
    expect(message).toContain('UPSTREAM_MODE must be one of dns, static, got "x"');
    expect(message).toContain('RESYNC_INTERVAL "soon"');
  });

  test('a non-loopback API address needs a token', () => {
    expect(() => resolveOptions({ API_LISTEN: '0.0.0.0:8089' }, {}, ctx)).toThrow(/set API_TOKEN/);
    expect(resolveOptions({ API_LISTEN: '0.0.0.0:8089', API_TOKEN: 'secret-token' }, {}, ctx).api.enabled).toBe(true);
    expect(resolveOptions({ API_LISTEN: 'off' }, {}, ctx).api.enabled).toBe(false);
    expect(resolveOptions({ API_LISTEN: '[::1]:9000' }, {}, ctx).api).toMatchObject({ host: '::1', port: 9000 });
  });

  test('text logs on a terminal, JSON otherwise, unless LOG_FORMAT says', () => {
    expect(resolveOptions({}, {}, { cwd: '/', isTty: true }).log.format).toBe('text');
    expect(resolveOptions({ LOG_FORMAT: 'json' }, {}, { cwd: '/', isTty: true }).log.format).toBe('json');
  });

  test('TRUSTED_PROXIES: none by default; comma-separated CIDRs and addresses; a bad entry named', () => {
    expect(resolveOptions({}, {}, ctx).render.trustedProxies).toEqual([]);
    expect(resolveOptions({ TRUSTED_PROXIES: ' 10.0.0.0/8, 192.0.2.7 ,fd00::/8,' }, {}, ctx).render.trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    expect(() => resolveOptions({ TRUSTED_PROXIES: '10.0.0.0/8,10.0.0.0/33' }, {}, ctx)).toThrow(/TRUSTED_PROXIES entry "10.0.0.0\/33" has prefix length \/33/);
    expect(() => resolveOptions({ TRUSTED_PROXIES: 'lb.example.com' }, {}, ctx)).toThrow(/TRUSTED_PROXIES entry "lb.example.com" is not an IPv4 or IPv6 address/);
  });

  test('withDnsPort points the resolver at the DNS process actually running', () => {
    const o = withDnsPort(resolveOptions({ INTERNAL_DNS_PORT: '0' }, {}, ctx), 40123);
    expect(o.dns.port).toBe(40123);
    expect(o.render.dnsResolver).toBe('udp/127.0.0.1:40123');
  });
});
