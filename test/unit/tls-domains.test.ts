import { describe, expect, it } from '@jest/globals';
import { isDomainAllowed, parseAllowedDomains } from '../../src/reconciler/tls-domains.js';

// The seed's TestACMEConfig_IsDomainAllowed cases: the raw TLS_ALLOWED_DOMAINS value goes
// through parseAllowedDomains exactly as the options module does.
describe('isDomainAllowed (seed cases)', () => {
  it.each([
    ['empty list allows nothing', '', 'api.example.com', false],
    ['exact match', 'api.example.com', 'api.example.com', true],
    ['exact match in a list with spaces', 'api.example.com, www.example.com', 'www.example.com', true],
    ['exact entry does not match another host', 'api.example.com', 'other.example.com', false],
    ['wildcard matches api.', '*.hypeman-development.com', 'api.hypeman-development.com', true],
    ['wildcard matches www.', '*.hypeman-development.com', 'www.hypeman-development.com', true],
    ['wildcard matches a one-letter label', '*.hypeman-development.com', 'x.hypeman-development.com', true],
    ['wildcard matches a dashed label', '*.hypeman-development.com', 'my-app.hypeman-development.com', true],
    ['wildcard matches a numeric label', '*.hypeman-development.com', '123.hypeman-development.com', true],
    ['wildcard rejects two levels (api.v2.)', '*.hypeman-development.com', 'api.v2.hypeman-development.com', false],
    ['wildcard rejects two levels (a.b.)', '*.hypeman-development.com', 'a.b.hypeman-development.com', false],
    ['wildcard rejects the apex', '*.hypeman-development.com', 'hypeman-development.com', false],
    ['wildcard rejects another domain', '*.hypeman-development.com', 'api.example.com', false],
    ['wildcard rejects a look-alike domain', '*.hypeman-development.com', 'hypeman-developments.com', false],
    ['wildcard rejects an empty prefix', '*.example.com', '.example.com', false],
    ['* matches the apex', '*', 'example.com', true],
    ['* matches deep names', '*', 'a.b.c.example.com', true],
    ['* matches any domain', '*', 'anything.org', true],
    ['explicit apex beside a wildcard: apex', 'example.com,*.example.com', 'example.com', true],
    ['explicit apex beside a wildcard: subdomain', 'example.com,*.example.com', 'api.example.com', true],
    ['whitespace is trimmed', '  *.example.com  ,  api.other.com  ', 'api.other.com', true],
    ['empty entries are skipped', 'api.example.com,,', 'api.example.com', true],
    ['blank entries are skipped', ' , ,api.example.com', 'api.example.com', true],
  ])('%s', (_, raw, hostname, expected) => {
    expect(isDomainAllowed(hostname, parseAllowedDomains(raw))).toBe(expected);
  });
});

describe('isDomainAllowed with pattern wildcards', () => {
  it.each([
    ['*.example.com', ['*.example.com'], true],
    ['*.dev.example.com', ['*.example.com'], false],
    ['*.dev.example.com', ['*.dev.example.com'], true],
    ['*.*.example.com', ['*.example.com'], false],
    ['*.example.com', ['example.com'], false],
    ['*.example.com', ['*'], true],
  ])('%s against %j → %s', (wildcard, allowed, expected) => {
    expect(isDomainAllowed(wildcard, allowed)).toBe(expected);
  });

  it('compares case-insensitively', () => {
    expect(isDomainAllowed('API.Example.com', ['*.example.com'])).toBe(true);
    expect(isDomainAllowed('api.example.com', ['*.EXAMPLE.com'])).toBe(true);
  });
});

describe('parseAllowedDomains', () => {
  it.each([
    ['', []],
    ['  ', []],
    ['a.com', ['a.com']],
    [' a.com, ,*.B.com ,', ['a.com', '*.b.com']],
    ['*', ['*']],
  ])('%j → %j', (raw, expected) => {
    expect(parseAllowedDomains(raw)).toEqual(expected);
  });
});
