import { describe, expect, it } from '@jest/globals';
import { caddyErrorText, caddyUnavailable, toCaddyError } from '../../src/reconciler/caddy-errors.js';
import { IngressdError } from '../../src/model/errors.js';

const PORT_8080_BODY =
  '{"error":"loading config: loading new config: http app module: start: listening on 0.0.0.0:8080: listen tcp 0.0.0.0:8080: bind: address already in use"}';

describe('toCaddyError: the seed ParseCaddyError cases', () => {
  it('maps a full Caddy JSON error for port 8080 to port_in_use naming port 8080', () => {
    const err = toCaddyError(400, PORT_8080_BODY);
    expect(err.code).toBe('port_in_use');
    expect(err.port).toBe(8080);
    expect(err.status).toBe(400);
    expect(err.message).toContain('port 8080');
  });

  it('maps a bare "listen tcp 0.0.0.0:443: bind: address already in use" to port_in_use naming port 443', () => {
    const err = toCaddyError(500, 'listen tcp 0.0.0.0:443: bind: address already in use');
    expect(err.code).toBe('port_in_use');
    expect(err.port).toBe(443);
    expect(err.message).toContain('port 443');
  });

  it('maps the bare text "address already in use" to port_in_use with a generic message and no port', () => {
    const err = toCaddyError(500, 'address already in use');
    expect(err.code).toBe('port_in_use');
    expect(err.port).toBeUndefined();
    expect(err.message).toContain('already held by another process');
  });

  it('maps an unrelated error to config_validation_failed carrying Caddy\'s text and status', () => {
    const err = toCaddyError(500, '{"error":"loading new config: http app module: json: unknown field \\"bodyy\\""}');
    expect(err.code).toBe('config_validation_failed');
    expect(err.status).toBe(500);
    expect(err.message).toContain('json: unknown field "bodyy"');
  });

  it('maps an empty body to config_validation_failed that points at Caddy\'s log', () => {
    const err = toCaddyError(500, '');
    expect(err.code).toBe('config_validation_failed');
    expect(err.status).toBe(500);
    expect(err.message).toContain('HTTP 500');
    expect(err.message).toContain('log');
  });
});

describe('toCaddyError: beyond the seed', () => {
  it.each([
    ['[::]:80', 'listen tcp [::]:80: bind: address already in use', 80],
    ['[::1]:34081', '{"error":"loading new config: http app module: start: listening on [::1]:34081: listen tcp [::1]:34081: bind: address already in use"}', 34081],
    [':443 (all interfaces)', 'listen tcp :443: bind: address already in use', 443],
    ['udp (HTTP/3)', 'listen udp 0.0.0.0:443: bind: address already in use', 443],
    ['tcp4', 'listen tcp4 127.0.0.1:9000: bind: address already in use', 9000],
  ])('parses the port of an IPv6 or other listen form: %s', (_name, body, port) => {
    const err = toCaddyError(500, body);
    expect(err.code).toBe('port_in_use');
    expect(err.port).toBe(port);
  });

  it('maps a missing DNS provider to caddy_module_missing naming the module and how to get it', () => {
    const body =
      '{"error":"loading config: loading new config: loading tls app module: provision tls: provisioning automation policy 0: loading TLS automation management module: position 0: loading module \'acme\': provision tls.issuance.acme: loading DNS provider module: loading module \'cloudflare\': unknown module: dns.providers.cloudflare"}';
    const err = toCaddyError(400, body);
    expect(err.code).toBe('caddy_module_missing');
    expect(err.module).toBe('dns.providers.cloudflare');
    expect(err.status).toBe(400);
    expect(err.message).toContain('CADDY_BINARY');
    expect(err.message).toContain('caddy-dns/cloudflare');
  });

  it('maps any other unknown module to caddy_module_missing with its id', () => {
    const err = toCaddyError(500, '{"error":"loading module \'nosuch_handler\': unknown module: http.handlers.nosuch_handler"}');
    expect(err.code).toBe('caddy_module_missing');
    expect(err.module).toBe('http.handlers.nosuch_handler');
  });

  it('maps HTTP 412 to precondition_failed', () => {
    const err = toCaddyError(412, '{"error":"If-Match header did not match current config hash"}', 'POST /config/');
    expect(err.code).toBe('precondition_failed');
    expect(err.status).toBe(412);
    expect(err.message).toContain('POST /config/');
  });

  it('maps a non-JSON body to config_validation_failed with the raw text', () => {
    const err = toCaddyError(404, '404 page not found\n');
    expect(err.code).toBe('config_validation_failed');
    expect(err.status).toBe(404);
    expect(err.message).toContain('404 page not found');
  });

  it('maps a traversal error to config_validation_failed', () => {
    const err = toCaddyError(500, '{"error":"invalid traversal path at: config/apps/nosuch"}', 'PATCH /config/apps/nosuch');
    expect(err.code).toBe('config_validation_failed');
    expect(err.message).toContain('PATCH /config/apps/nosuch');
    expect(err.message).toContain('invalid traversal path');
  });

  it('returns IngressdError instances', () => {
    expect(toCaddyError(500, '')).toBeInstanceOf(IngressdError);
  });
});

describe('caddyErrorText', () => {
  it('takes the error field of a JSON body', () => {
    expect(caddyErrorText('{"error":"boom"}\n')).toBe('boom');
  });

  it('keeps a JSON body without an error string as text', () => {
    expect(caddyErrorText('{"message":"x"}')).toBe('{"message":"x"}');
  });

  it('shortens very long text', () => {
    expect(caddyErrorText('x'.repeat(5_000)).length).toBeLessThan(1_100);
  });
});

describe('caddyUnavailable', () => {
  it('names the admin URL and the cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2019'), { code: 'ECONNREFUSED' });
    const err = caddyUnavailable('http://127.0.0.1:2019', cause, 'GET /config/');
    expect(err.code).toBe('caddy_unavailable');
    expect(err.cause).toBe(cause);
    expect(err.message).toContain('http://127.0.0.1:2019');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('GET /config/');
  });
});
