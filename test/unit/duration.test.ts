import { describe, expect, test } from '@jest/globals';
import { parseCaddyDurationMs, parseDurationMs } from '../../src/model/duration.js';

describe('parseDurationMs', () => {
  test.each([
    ['2m', 120_000],
    ['120s', 120_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));
  test.each(['', '5', 'm', '2 m', '1d', '-1s', 'abc'])('%p is not a duration', (text) => expect(parseDurationMs(text)).toBeUndefined());
});

describe('parseCaddyDurationMs', () => {
  test.each([
    ['5s', 5000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1d', 86_400_000],
    ['1d12h', 129_600_000],
    ['1ns', 1e-6],
  ])('%s is %d ms', (text, ms) => expect(parseCaddyDurationMs(text)).toBe(ms));
  // Manifest fields are taken exactly as written, as the schema's duration pattern says: every number has a unit.
  test.each(['', ' 5s', '5s ', '0', '1 fortnight', '5', 's', '-1s', '1w'])('%p is not a Caddy duration', (text) => expect(parseCaddyDurationMs(text)).toBeUndefined());
});
