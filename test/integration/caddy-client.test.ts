import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { freePort, startBareCaddy, type BareCaddy } from '../helpers/processes.js';
import { CADDY_ETAG, CADDY_INFO, configBody } from '../helpers/caddy-under-test.js';
import { formatCaddyVersion } from '../../src/model/caddy-version.js';
import { createCaddyClient, type CaddyClient } from '../../src/reconciler/caddy-client.js';
import { IngressdError, type ErrorCode } from '../../src/model/errors.js';
import type { JsonObject } from '../../src/model/json.js';

function listen<S extends NetServer | HttpServer>(server: S, port: number): Promise<S> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<IngressdError> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(IngressdError);
  expect((err as IngressdError).code).toBe(code);
  return err as IngressdError;
}

describe(`CaddyClient against a real Caddy ${formatCaddyVersion(CADDY_INFO.version)}`, () => {
  let adminPort: number;
  let caddy: BareCaddy | undefined;
  let client: CaddyClient;

  const withAdmin = (rest: JsonObject = {}): JsonObject => ({ admin: { listen: `127.0.0.1:${adminPort}` }, ...rest });
  const staticServer = (port: number, body: string): JsonObject => ({
    apps: { http: { servers: { s: { listen: [`127.0.0.1:${port}`], routes: [{ handle: [{ handler: 'static_response', body }] }] } } } },
  });

  beforeAll(async () => {
    caddy = await startBareCaddy('caddy-client');
    adminPort = caddy.adminPort;
    client = createCaddyClient({ adminAddress: '127.0.0.1', adminPort, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await caddy?.stop();
  });

  it('reads the initial config with its etag (an FNV-1a trailer before Caddy 2.8, an xxhash64 header since)', async () => {
    const live = await client.getConfig();
    expect(live.config).toEqual(withAdmin());
    expect(live.etag).toMatch(CADDY_ETAG === 'fnv1a32-trailer' ? /^"\/config\/ [0-9a-f]{8}"$/ : /^"\/config\/ [0-9a-f]{16}"$/);
    expect(live.bytes).toBe(Buffer.byteLength(configBody(JSON.stringify(withAdmin()))));
    expect(client.adminUrl).toBe(`http://127.0.0.1:${adminPort}`);
  });

  it('reads back a loaded config, with an etag that follows the content', async () => {
    const port = await freePort();
    const a = withAdmin(staticServer(port, 'a'));
    const b = withAdmin(staticServer(port, 'b'));
    await client.load(a);
    const first = await client.getConfig();
    expect(first.config).toEqual(a);
    await client.load(a);
    expect((await client.getConfig()).etag).toBe(first.etag);
    await client.load(b);
    const second = await client.getConfig();
    expect(second.config).toEqual(b);
    expect(second.etag).toBeDefined();
    expect(second.etag).not.toBe(first.etag);
  });

  it('applies a root write guarded by a current If-Match', async () => {
    const port = await freePort();
    const { etag } = await client.getConfig();
    const next = withAdmin(staticServer(port, 'guarded'));
    await client.write('POST', '', next, etag);
    expect((await client.getConfig()).config).toEqual(next);
  });

  it('refuses a write with a stale If-Match as precondition_failed and keeps the config', async () => {
    const port = await freePort();
    const stale = await client.getConfig();
    await client.load(withAdmin(staticServer(port, 'moved on')));
    const current = await client.getConfig();
    const err = await expectCode(client.write('POST', '', withAdmin(), stale.etag), 'precondition_failed');
    expect(err.status).toBe(412);
    expect((await client.getConfig()).config).toEqual(current.config);
  });

  it('performs path mutations (PUT, PATCH, DELETE) below /config/', async () => {
    const port = await freePort();
    await client.load(withAdmin(staticServer(port, 'x')));
    await client.write('PATCH', 'apps/http/servers/s/routes/0/handle/0/body', 'patched', undefined);
    await client.write('PUT', 'apps/http/servers/s/read_timeout', '10s', undefined);
    let config = (await client.getConfig()).config;
    expect(config).toMatchObject({ apps: { http: { servers: { s: { read_timeout: '10s', routes: [{ handle: [{ body: 'patched' }] }] } } } } });
    await client.write('DELETE', '/apps/http/servers/s/read_timeout', undefined, undefined);
    config = (await client.getConfig()).config;
    expect(config).not.toMatchObject({ apps: { http: { servers: { s: { read_timeout: '10s' } } } } });
  });

  it('reports a mutation of a missing path as config_validation_failed with Caddy\'s status', async () => {
    const err = await expectCode(client.write('PATCH', 'apps/nosuch/key', 1, undefined), 'config_validation_failed');
    expect(err.status).toBe(500);
    expect(err.message).toContain('invalid traversal path');
  });

  it('reports port_in_use with the port when another process holds a listen port, via load and via a path write', async () => {
    const port = await freePort();
    const holder = await listen(createNetServer(), port);
    try {
      const before = (await client.getConfig()).config;
      const viaLoad = await expectCode(client.load(withAdmin(staticServer(port, 'busy'))), 'port_in_use');
      expect(viaLoad.port).toBe(port);
      expect(viaLoad.status).toBe(400);
      const viaWrite = await expectCode(client.write('POST', '', withAdmin(staticServer(port, 'busy')), undefined), 'port_in_use');
      expect(viaWrite.port).toBe(port);
      expect(viaWrite.status).toBe(500);
      expect((await client.getConfig()).config).toEqual(before);
    } finally {
      await close(holder);
    }
  });

  it('reports a missing DNS provider as caddy_module_missing', async () => {
    // No Caddy build has this provider (the built ones have cloudflare and rfc2136).
    const config = withAdmin({
      apps: { tls: { automation: { policies: [{ issuers: [{ module: 'acme', challenges: { dns: { provider: { name: 'nosuchdns', api_token: 'x' } } } }] }] } } },
    });
    const err = await expectCode(client.load(config), 'caddy_module_missing');
    expect(err.module).toBe('dns.providers.nosuchdns');
  });

  it('reports an unknown handler as caddy_module_missing', async () => {
    const port = await freePort();
    const config = withAdmin({ apps: { http: { servers: { s: { listen: [`127.0.0.1:${port}`], routes: [{ handle: [{ handler: 'nosuch_handler' }] }] } } } } });
    const err = await expectCode(client.write('POST', '', config, undefined), 'caddy_module_missing');
    expect(err.module).toBe('http.handlers.nosuch_handler');
  });

  it('pings true while Caddy answers and false where nothing listens', async () => {
    expect(await client.ping()).toBe(true);
    const nobody = createCaddyClient({ adminAddress: '127.0.0.1', adminPort: await freePort() });
    expect(await nobody.ping(500)).toBe(false);
  });

  it('reports caddy_unavailable where nothing listens', async () => {
    const nobody = createCaddyClient({ adminAddress: '127.0.0.1', adminPort: await freePort() });
    const err = await expectCode(nobody.getConfig(), 'caddy_unavailable');
    expect(err.message).toContain('ECONNREFUSED');
    await expectCode(nobody.load(withAdmin()), 'caddy_unavailable');
  });

  it('rejects with the abort reason when the caller aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    controller.abort(reason);
    expect(await rejection(client.getConfig(controller.signal))).toBe(reason);
  });
});

describe('CaddyClient wire handling (local servers speaking like Caddy)', () => {
  let server: HttpServer | undefined;

  afterAll(async () => {
    if (server !== undefined) await close(server);
  });

  async function serve(handler: Parameters<typeof createHttpServer>[1]): Promise<CaddyClient> {
    if (server !== undefined) await close(server);
    const port = await freePort();
    server = await listen(createHttpServer(handler), port);
    return createCaddyClient({ adminAddress: '127.0.0.1', adminPort: port, timeoutMs: 300 });
  }

  it('returns a null config from a config-less Caddy, with the etag from the trailer', async () => {
    // Caddy 2.6.2 started without a config answers exactly like this (lab §2.1); a real one would
    // need the default admin port 2019, which tests must not take.
    const client = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', Trailer: 'ETag' });
      res.write('null\n');
      res.addTrailers({ ETag: '"/config/ 0e7c22ea"' });
      res.end();
    });
    expect(await client.getConfig()).toEqual({ config: null, etag: '"/config/ 0e7c22ea"', bytes: 5 });
  });

  it('prefers the ETag header when Caddy sends one (2.8 and later)', async () => {
    const client = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"/config/ header"' });
      res.end('{"apps":{}}\n');
    });
    expect(await client.getConfig()).toEqual({ config: { apps: {} }, etag: '"/config/ header"', bytes: 12 });
  });

  it('reports caddy_unavailable when the admin API does not answer in time', async () => {
    const client = await serve(() => undefined);
    const err = await expectCode(client.getConfig(), 'caddy_unavailable');
    expect(err.message).toContain('300 ms');
  });

  it('sends JSON with Content-Type, If-Match and an encoded path', async () => {
    const seen: { method?: string; url?: string; type?: string; ifMatch?: string; body?: string } = {};
    const client = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        Object.assign(seen, { method: req.method, url: req.url, type: req.headers['content-type'], ifMatch: req.headers['if-match'], body });
        res.end();
      });
    });
    await client.write('PUT', 'apps/http/servers/a b/x', { k: 1 }, '"/config/ 1234abcd"');
    expect(seen).toEqual({ method: 'PUT', url: '/config/apps/http/servers/a%20b/x', type: 'application/json', ifMatch: '"/config/ 1234abcd"', body: '{"k":1}' });
  });

  it('rejects options outside their range with invalid_option', () => {
    expect(() => createCaddyClient({ adminAddress: '127.0.0.1', adminPort: 70_000 })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
    expect(() => createCaddyClient({ adminAddress: ' ', adminPort: 2019 })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });

  it('formats an IPv6 admin URL with brackets', () => {
    expect(createCaddyClient({ adminAddress: '::1', adminPort: 2019 }).adminUrl).toBe('http://[::1]:2019');
  });
});
