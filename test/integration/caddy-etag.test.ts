import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { freePort, startBareCaddy, type BareCaddy } from '../helpers/processes.js';
import type { JsonObject, JsonValue } from '../../src/model/json.js';
import { caddyConfigEtag, fnv1a32Utf8 } from '../../src/reconciler/caddy-etag.js';
import { goJson, type GoJsonDialect } from '../../src/reconciler/go-json.js';
import { formatCaddyVersion } from '../../src/model/caddy-version.js';
import { CADDY_ETAG, CADDY_INFO } from '../helpers/caddy-under-test.js';

/** How the Caddy under test tags and encodes: FNV-1a 32 and Go 1.19 before 2.8, xxhash64 and Go ≥ 1.22 since. */
const SCHEME = CADDY_ETAG;
const DIALECT: GoJsonDialect = SCHEME === 'xxhash64-header' ? 'go1.22' : 'go1.19';
const TAG = SCHEME === 'xxhash64-header' ? /^"\/config\/ [0-9a-f]{16}"$/ : /^"\/config\/ [0-9a-f]{8}"$/;
const etagOf = (config: JsonObject | null): string => caddyConfigEtag(config, SCHEME);

interface Answer {
  readonly status: number;
  /** The raw body bytes. */
  readonly body: Buffer;
  /** ETag from the header or, as Caddy 2.6 sends it, the trailer. */
  readonly etag: string | undefined;
}

/** One admin API request with node:http (fetch() drops trailers). */
function admin(port: number, method: string, path: string, body?: string, ifMatch?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    if (ifMatch !== undefined) headers['If-Match'] = ifMatch;
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const etag = res.headers.etag ?? res.trailers['etag'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), etag });
      });
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(body);
  });
}

/** A seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Finite doubles from random bit patterns: every exponent, subnormals, both signs. */
function randomDoubles(count: number, seed: number): number[] {
  const random = prng(seed);
  const view = new DataView(new ArrayBuffer(8));
  const out: number[] = [];
  while (out.length < count) {
    view.setUint32(0, Math.floor(random() * 2 ** 32));
    view.setUint32(4, Math.floor(random() * 2 ** 32));
    const value = view.getFloat64(0);
    if (Number.isFinite(value)) out.push(value);
  }
  return out;
}

/** Every control character, the HTML-escaped ones, separators, multi-byte and astral text, lone surrogates. */
const NASTY_STRINGS: readonly string[] = [
  Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).join(''),
  '\b\f\n\r\t\u007f',
  '<script>alert("x&y")</script>',
  'line\u2028separator\u2029paragraph',
  'quote " backslash \\ slash / tilde ~',
  'é ü ß — € ✓ \ue000 \uffff \ufffd',
  'emoji 😀 🏳️‍🌈 𝄞 astral \u{10ffff}',
  'lone high \ud800 end',
  'lone low \udc00 end',
  'reversed pair \udc00\ud800 end',
  'trailing high \udbff',
  '',
  '{http.request.host} 100% \u0000',
];

/** Keys whose order differs between UTF-16 and UTF-8 (astral vs U+E000–U+FFFF), or between raw and escaped forms. */
const NASTY_KEYS: readonly string[] = [
  'z', 'Z', 'a', 'aa', '', 'é', '\ue000', '\uffff', '😀', '𝄞', 'x\ud800', 'x\ue000', 'x😀', 'x\uffff',
  '<', '=', '>', '&', '\\', '\\u003d', '"', '\u2028', '\u0001', '\u001f', 'a/b', '~0', '10', '9', '__proto__x',
];

const NASTY_NUMBERS: readonly number[] = [
  0, -0, 1, -1, 3.14, -2.5, 0.1, 0.2 + 0.1, 1 / 3, 1e21, 1e20, 999999999999999900000, 1.0000000000000001e21,
  123456789012, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e-6, 0.000001, 1e-7, 9.999999999999997e-7, 1.5e-7, 1e-10,
  1.5e300, Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, 5e-324, 123e-20,
  100, 1e2, 12345678.9, 0.5, 1e-5, 4.35, 0.3, 1e100, 1.7976931348623157e308,
];

function withAdmin(adminPort: number, rest: JsonObject): JsonObject {
  return { admin: { listen: `127.0.0.1:${adminPort}` }, ...rest };
}

/** What ingressd renders, on loopback ports: one server per ingress port, host routes to reverse proxies. */
function realisticConfig(adminPort: number, ports: readonly number[], routesPerServer: number): JsonObject {
  const servers: JsonObject = {};
  for (const port of ports) {
    const routes: JsonValue[] = [];
    for (let i = 0; i < routesPerServer; i++) {
      const hosts = i % 3 === 0 ? [`h${i}.example.test`, `h${i + routesPerServer}.example.test`] : [`h${i}.example.test`];
      routes.push({
        // Unique per route, as render makes them (Caddy 2.11.2 and later refuse a duplicate @id).
        '@id': `ingressd.${port}.exact.inst${i % 4}.${28_200 + (i % 7)}.${i}`,
        handle: [
          i % 2 === 0
            ? {
                handler: 'reverse_proxy',
                upstreams: [{ dial: `127.0.0.1:${28_200 + (i % 7)}` }, { dial: `127.0.0.2:${28_200 + (i % 7)}` }],
                transport: { protocol: 'http', keep_alive: { idle_timeout: '5s', max_idle_conns_per_host: 32 } },
              }
            : {
                handler: 'reverse_proxy',
                dynamic_upstreams: {
                  source: 'a',
                  name: `inst${i % 4}.ingressd.internal`,
                  port: `${28_200 + (i % 7)}`,
                  refresh: '1s',
                  resolver: { addresses: ['udp/127.0.0.1:5353'] },
                },
                transport: { protocol: 'http', keep_alive: { idle_timeout: '5s', max_idle_conns_per_host: 32 } },
              },
        ],
        match: [i % 5 === 4 ? { host: [`*.w${i}.example.test`], path: ['/api/*', '/v1/*'] } : { host: hosts }],
        terminal: true,
      });
    }
    routes.push({
      '@id': `ingressd.${port}.notfound`,
      handle: [
        {
          handler: 'static_response',
          status_code: 404,
          headers: { 'Content-Type': ['text/plain; charset=utf-8'] },
          body: 'Not Found: no ingress configured for hostname {http.request.host}\n',
        },
      ],
    });
    servers[`ingress-${port}`] = {
      '@id': `ingressd.server.${port}`,
      listen: [`127.0.0.1:${port}`],
      automatic_https: { disable: true },
      max_header_bytes: 1_048_576,
      routes,
    };
  }
  return withAdmin(adminPort, { apps: { http: { http_port: ports[0] ?? 0, https_port: ports[1] ?? 0, grace_period: 123_456_789_012, servers } } });
}

/**
 * Strings, keys and numbers where Caddy keeps them verbatim: the `vars` handler takes any JSON,
 * `static_response` any body, header names and values.
 */
function nastyConfig(adminPort: number, port: number, numbers: readonly number[]): JsonObject {
  const keyed: JsonObject = {};
  NASTY_KEYS.forEach((key, i) => {
    keyed[key] = NASTY_STRINGS[i % NASTY_STRINGS.length] ?? '';
  });
  const headers: JsonObject = {};
  NASTY_KEYS.forEach((key, i) => {
    headers[`X-${key}`] = [NASTY_STRINGS[(i + 3) % NASTY_STRINGS.length] ?? '', `${i}<&>`];
  });
  return withAdmin(adminPort, {
    apps: {
      http: {
        servers: {
          nasty: {
            listen: [`127.0.0.1:${port}`],
            routes: [
              {
                handle: [
                  { handler: 'vars', keyed, strings: [...NASTY_STRINGS], numbers: [...numbers], nested: { deep: [[{ '': null, t: true, f: false }], []], empty: {} } },
                  { handler: 'static_response', status_code: 200, headers, body: NASTY_STRINGS.join('|') },
                ],
              },
            ],
          },
        },
      },
    },
  });
}

describe(`caddyConfigEtag against a real Caddy ${formatCaddyVersion(CADDY_INFO.version)} (${SCHEME})`, () => {
  let adminPort: number;
  let caddy: BareCaddy | undefined;

  const load = async (config: JsonObject): Promise<void> => {
    const res = await admin(adminPort, 'POST', '/load', JSON.stringify(config));
    expect({ status: res.status, body: res.body.toString('utf8') }).toEqual({ status: 200, body: '' });
  };
  const read = (): Promise<Answer> => admin(adminPort, 'GET', '/config/');

  /** Loads `config`, reads it back, and checks body and tag byte for byte. */
  const roundTrip = async (config: JsonObject): Promise<Answer> => {
    await load(config);
    const live = await read();
    expect(live.status).toBe(200);
    expect(live.etag).toMatch(TAG);
    // The lab's claim for 2.6.2: the tag is FNV-1a 32 of the body.
    if (SCHEME === 'fnv1a32-trailer') expect(live.etag).toBe(`"/config/ ${fnv1a32Utf8(live.body.toString('utf8')).toString(16).padStart(8, '0')}"`);
    // The encoding itself, for a readable diff when it breaks, then the bytes, then the tag.
    expect(`${goJson(config, DIALECT)}\n`).toBe(live.body.toString('utf8'));
    expect(Buffer.from(`${goJson(config, DIALECT)}\n`, 'utf8').equals(live.body)).toBe(true);
    expect(etagOf(config)).toBe(live.etag);
    return live;
  };

  beforeAll(async () => {
    caddy = await startBareCaddy('caddy-etag');
    adminPort = caddy.adminPort;
  });

  afterAll(async () => {
    await caddy?.stop();
  });

  it('matches the initial config Caddy was started with', async () => {
    const live = await read();
    expect(etagOf(withAdmin(adminPort, {}))).toBe(live.etag);
    // No config at all encodes as `null`.
    expect(goJson(null)).toBe('null');
    if (SCHEME === 'fnv1a32-trailer') expect(etagOf(null)).toBe(`"/config/ ${fnv1a32Utf8('null\n').toString(16).padStart(8, '0')}"`);
  });

  it('matches a realistic ingressd config, byte for byte', async () => {
    const ports = [await freePort(), await freePort()];
    await roundTrip(realisticConfig(adminPort, ports, 150));
  });

  it('matches strings with control characters, HTML characters, separators, astral text and lone surrogates', async () => {
    const live = await roundTrip(nastyConfig(adminPort, await freePort(), [1, 2]));
    const text = live.body.toString('utf8');
    // Go details worth seeing spelled out: \b and \f long-form before Go 1.22, short since; DEL raw.
    expect(text).toContain(DIALECT === 'go1.19' ? '\\u0008\\u000c\\n\\r\\t\u007f' : '\\b\\f\\n\\r\\t\u007f');
    expect(text).toContain('\\u003cscript\\u003e'); // < > escaped
    expect(text).toContain('\\"x\\u0026y\\"');
    expect(text).toContain('line\\u2028separator\\u2029paragraph');
    expect(text).toContain('lone high \ufffd end'); // U+FFFD raw, not \ufffd
    expect(text).toContain('reversed pair \ufffd\ufffd end');
    // Keys in UTF-8 byte order: U+E000 and U+FFFF before astral characters.
    const keyed = text.slice(text.indexOf('"keyed":'));
    expect(keyed.indexOf('"\ue000"')).toBeLessThan(keyed.indexOf('"😀"'));
    expect(keyed.indexOf('"\uffff"')).toBeLessThan(keyed.indexOf('"𝄞"'));
    expect(keyed.indexOf('"x\ufffd"')).toBeLessThan(keyed.indexOf('"x\uffff"'));
    expect(keyed.indexOf('"x\uffff"')).toBeLessThan(keyed.indexOf('"x😀"'));
  });

  it('matches float64 formatting: edge cases and 2,000 random bit patterns', async () => {
    const live = await roundTrip(nastyConfig(adminPort, await freePort(), [...NASTY_NUMBERS, ...randomDoubles(2_000, 42)]));
    const text = live.body.toString('utf8');
    const numbers = text.slice(text.indexOf('"numbers":'), text.indexOf('"numbers":') + 400);
    expect(numbers).toContain('"numbers":[0,0,1,-1,3.14,-2.5,0.1,0.30000000000000004,0.3333333333333333,1e+21,100000000000000000000,999999999999999900000,1.0000000000000001e+21,123456789012,');
    expect(numbers).toContain(',-9223372036854776000,0.000001,0.000001,1e-7,9.999999999999997e-7,1.5e-7,1e-10,1.5e+300,1.7976931348623157e+308,5e-324,-5e-324,');
  });

  it('sends -0 as 0 through JSON.stringify, though raw -0 text stays -0 in Caddy', async () => {
    const port = await freePort();
    await roundTrip(nastyConfig(adminPort, port, [-0, -0.0, 0]));
    // Go keeps the sign of a literal -0; JSON.stringify never sends one, so goJson writes 0.
    const raw = JSON.stringify(nastyConfig(adminPort, port, [7777.5])).replace('7777.5', '-0');
    expect((await admin(adminPort, 'POST', '/load', raw)).status).toBe(200);
    expect((await read()).body.toString('utf8')).toContain('"numbers":[-0]');
  });

  it('guards POST /config/ as If-Match: the computed tag is accepted, a stale one gets 412', async () => {
    const ports = [await freePort(), await freePort()];
    const first = realisticConfig(adminPort, ports, 20);
    await load(first);
    const second = realisticConfig(adminPort, ports, 21);
    // Stale (the tag of a config Caddy does not hold) → 412, and nothing changes.
    const stale = await admin(adminPort, 'POST', '/config/', JSON.stringify(second), etagOf(second));
    expect(stale.status).toBe(412);
    expect(stale.body.toString('utf8')).toContain('If-Match header did not match current config hash');
    expect((await read()).etag).toBe(etagOf(first));
    // The computed tag of what we wrote → 200, without having read it back.
    const ok = await admin(adminPort, 'POST', '/config/', JSON.stringify(second), etagOf(first));
    expect({ status: ok.status, body: ok.body.toString('utf8') }).toEqual({ status: 200, body: '' });
    // And again from the tag computed for the second write: a chain of writes never reads.
    const third = nastyConfig(adminPort, ports[0] ?? 0, NASTY_NUMBERS);
    const chained = await admin(adminPort, 'POST', '/config/', JSON.stringify(third), etagOf(second));
    expect(chained.status).toBe(200);
    expect((await read()).etag).toBe(etagOf(third));
  });

  it('follows a server-level write: the tag of the merged config guards the next one', async () => {
    const ports = [await freePort(), await freePort()];
    const config = realisticConfig(adminPort, ports, 10);
    await load(config);
    const name = `ingress-${ports[1]}`;
    const replacement = (realisticConfig(adminPort, ports, 11)['apps'] as { http: { servers: JsonObject } }).http.servers[name] ?? null;
    const res = await admin(adminPort, 'POST', `/config/apps/http/servers/${name}`, JSON.stringify(replacement), etagOf(config));
    expect(res.status).toBe(200);
    const merged = structuredClone(config);
    (merged['apps'] as { http: { servers: JsonObject } }).http.servers[name] = replacement;
    const etag = etagOf(merged);
    expect((await read()).etag).toBe(etag);
    const next = await admin(adminPort, 'POST', '/config/', JSON.stringify(config), etag);
    expect(next.status).toBe(200);
    expect((await read()).etag).toBe(etagOf(config));
  });
});
