import { describe, expect, test } from '@jest/globals';
import { renderForCaddy, streamCloseDelayFor } from '../../src/controller/caddy-features.js';
import { resolveOptions } from '../../src/controller/options.js';
import type { CaddyInfo } from '../../src/model/caddy-version.js';

const ctx = { cwd: '/srv', isTty: false };
const caddy = (major: number, minor: number, patch: number): CaddyInfo => ({ version: { major, minor, patch }, modules: [] });

describe('stream_close_delay follows the Caddy in use', () => {
  test('defaults to 5m, rendered only once a Caddy 2.7+ is known', () => {
    const o = resolveOptions({}, {}, ctx);
    expect(o.caddyDependent).toEqual({ streamCloseDelay: '5m', streamCloseDelayExplicit: false });
    expect(o.render.streamCloseDelay).toBeUndefined();
    expect(renderForCaddy(o.render, o.caddyDependent, caddy(2, 7, 0)).streamCloseDelay).toBe('5m');
    expect(renderForCaddy(o.render, o.caddyDependent, caddy(2, 11, 9)).streamCloseDelay).toBe('5m');
    expect(renderForCaddy(o.render, o.caddyDependent, caddy(2, 6, 2)).streamCloseDelay).toBeUndefined();
  });

  test('an explicit STREAM_CLOSE_DELAY is rendered while the Caddy is unknown, but never for a Caddy older than 2.7', () => {
    const o = resolveOptions({ STREAM_CLOSE_DELAY: '90s' }, {}, ctx);
    expect(o.render.streamCloseDelay).toBe('90s');
    expect(streamCloseDelayFor(o.caddyDependent, caddy(2, 6, 2))).toBeUndefined();
    expect(streamCloseDelayFor(o.caddyDependent, caddy(2, 10, 2))).toBe('90s');
  });

  test('STREAM_CLOSE_DELAY=0 renders none on any Caddy', () => {
    const o = resolveOptions({ STREAM_CLOSE_DELAY: '0' }, {}, ctx);
    expect(o.render.streamCloseDelay).toBeUndefined();
    expect(streamCloseDelayFor(o.caddyDependent, caddy(2, 11, 9))).toBeUndefined();
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
