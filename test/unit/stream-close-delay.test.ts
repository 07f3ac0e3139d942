import { describe, expect, test } from '@jest/globals';
import { resolveOptions } from '../../src/controller/options.js';
import type { CaddyInfo } from '../../src/model/caddy-version.js';
import type { Ingress } from '../../src/model/resource.js';
import { render } from '../../src/render/index.js';

const ctx = { cwd: '/srv', isTty: false };
const caddy = (major: number, minor: number, patch: number): CaddyInfo => ({ version: { major, minor, patch }, modules: [] });
const INGRESS: Ingress = { kind: 'Ingress', id: 'i1', name: 'web', rules: [{ match: { hostname: 'a.test', port: 8080 }, target: { instance: 'app', port: 80 }, tls: false, redirect_http: false }] };

/** Every stream_close_delay value in a rendered config. */
function delays(env: Record<string, string>, on: CaddyInfo): unknown[] {
  const settings = { ...resolveOptions(env, {}, ctx).render, caddy: on };
  const text = JSON.stringify(render({ ingresses: [INGRESS], instances: [] }, settings).config);
  return [...text.matchAll(/"stream_close_delay":("[^"]*")/g)].map((m) => JSON.parse(m[1]!));
}

describe('stream_close_delay follows the Caddy in use', () => {
  test('defaults to 5m, rendered for Caddy 2.7 and later only (2.6.2 rejects the field)', () => {
    expect(delays({}, caddy(2, 7, 0))).toEqual(['5m']);
    expect(delays({}, caddy(2, 11, 9))).toEqual(['5m']);
    expect(delays({}, caddy(2, 6, 2))).toEqual([]);
  });

  test('STREAM_CLOSE_DELAY sets it, 0 renders none on any Caddy', () => {
    expect(delays({ STREAM_CLOSE_DELAY: '90s' }, caddy(2, 10, 2))).toEqual(['90s']);
    expect(delays({ STREAM_CLOSE_DELAY: '90s' }, caddy(2, 6, 2))).toEqual([]);
    expect(delays({ STREAM_CLOSE_DELAY: '0' }, caddy(2, 11, 9))).toEqual([]);
  });

  test('a bad STREAM_CLOSE_DELAY is reported with its value', () => {
    expect(() => resolveOptions({ STREAM_CLOSE_DELAY: 'long' }, {}, ctx)).toThrow(/STREAM_CLOSE_DELAY "long"/);
  });
});

describe('CADDY_GRACE_PERIOD', () => {
  test('defaults to a bounded 10s', () => {
    expect(resolveOptions({}, {}, ctx).render.gracePeriod).toBe('10s');
    expect(resolveOptions({ CADDY_GRACE_PERIOD: '3s' }, {}, ctx).render.gracePeriod).toBe('3s');
  });

  test('refuses 0, which would let a stopping Caddy wait for ever', () => {
    expect(() => resolveOptions({ CADDY_GRACE_PERIOD: '0s' }, {}, ctx)).toThrow(/CADDY_GRACE_PERIOD must be more than 0/);
  });
});
