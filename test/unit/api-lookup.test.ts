import { describe, expect, it } from '@jest/globals';
import { decodeSegment, isDotSegment, lookup, type Entry } from '../../src/api/lookup.js';

const entry = (id: string, name: string): Entry<string> => ({ id, name, value: `${name}.json` });

describe('lookup: exact id, then exact name, then unique id prefix', () => {
  const entries = [entry('abc123', 'web'), entry('abd456', 'api'), entry('xyz789', 'abc123x'), entry('web', 'other')];

  it('finds by exact id', () => {
    expect(lookup(entries, 'abd456')).toEqual({ kind: 'found', entry: entries[1] });
  });

  it('prefers an exact id over a name that equals it', () => {
    // "web" is the id of one entry and the name of another: the id wins.
    expect(lookup(entries, 'web')).toEqual({ kind: 'found', entry: entries[3] });
  });

  it('finds by exact name when no id matches', () => {
    expect(lookup(entries, 'api')).toEqual({ kind: 'found', entry: entries[1] });
  });

  it('prefers an exact name over an id prefix', () => {
    const withPrefixClash = [entry('api999', 'first'), entry('zzz', 'api')];
    expect(lookup(withPrefixClash, 'api')).toEqual({ kind: 'found', entry: withPrefixClash[1] });
  });

  it('finds by a unique id prefix', () => {
    expect(lookup(entries, 'xy')).toEqual({ kind: 'found', entry: entries[2] });
    expect(lookup(entries, 'abc')).toEqual({ kind: 'found', entry: entries[0] });
  });

  it('answers ambiguous for a prefix shared by several ids', () => {
    const result = lookup(entries, 'ab');
    expect(result.kind).toBe('ambiguous');
    expect(result.kind === 'ambiguous' ? result.matches.map((m) => m.id) : []).toEqual(['abc123', 'abd456']);
  });

  it('answers ambiguous when two files hold the same name', () => {
    expect(lookup([entry('id1', 'dup'), entry('id2', 'dup')], 'dup').kind).toBe('ambiguous');
  });

  it('answers ambiguous when two files derive the same id', () => {
    expect(lookup([entry('same', 'a'), entry('same', 'a')], 'same').kind).toBe('ambiguous');
  });

  it('answers not_found for no match, an empty key and a case-changed key', () => {
    expect(lookup(entries, 'nope')).toEqual({ kind: 'not_found' });
    expect(lookup(entries, '')).toEqual({ kind: 'not_found' });
    expect(lookup(entries, 'ABC123')).toEqual({ kind: 'not_found' });
  });

  it('answers not_found on an empty list', () => {
    expect(lookup([], 'a')).toEqual({ kind: 'not_found' });
  });
});

describe('decodeSegment: one decode, then only names and ids pass', () => {
  it.each(['web', 'my-api-2', 'wm27dr6xxrq57m43ybbbuif0', 'a', 'abc-'])('accepts %s', (raw) => {
    expect(decodeSegment(raw)).toEqual({ ok: true, value: raw });
  });

  it('decodes percent-encoding once', () => {
    expect(decodeSegment('w%65b')).toEqual({ ok: true, value: 'web' });
  });

  it.each([
    ['..', 'dot-dot'],
    ['.', 'dot'],
    ['..%2f..%2fetc', 'encoded slashes'],
    ['..%2F', 'upper-case encoded slash'],
    ['%2e%2e', 'encoded dot-dot'],
    ['%2E%2E%2Fx', 'upper-case encoded dot-dot and slash'],
    ['%5c..%5cx', 'encoded backslashes'],
    ['a%00b', 'NUL'],
    ['%252e%252e', 'double encoding (stays %-laden after one decode)'],
    ['a.b', 'a dot'],
    ['Web', 'upper case'],
    ['-web', 'a leading dash'],
    ['', 'nothing'],
    ['a'.repeat(65), '65 characters'],
    ['%zz', 'broken percent-encoding'],
  ])('refuses %s (%s)', (raw) => {
    expect(decodeSegment(raw).ok).toBe(false);
  });
});

describe('isDotSegment', () => {
  it.each([['.', true], ['..', true], ['%2e', true], ['%2E%2e', true], ['...', false], ['a', false], ['%zz', false]])('%s → %s', (raw, expected) => {
    expect(isDotSegment(raw)).toBe(expected);
  });
});
