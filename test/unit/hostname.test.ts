import { describe, expect, it } from '@jest/globals';
import { checkHostname, expandTemplate, hostKey, isPattern, parsePattern, templateCaptures } from '../../src/model/hostname.js';

describe('isPattern', () => {
  it.each([
    ['api.example.com', false],
    ['{instance}.example.com', true],
    ['{app}-{env}.example.com', true],
    ['*.example.com', false],
    ['foo.bar.example.com', false],
  ])('%s → %s', (hostname, expected) => {
    expect(isPattern(hostname)).toBe(expected);
  });
});

describe('parsePattern accepts whole-label captures (seed table)', () => {
  it.each([
    ['{instance}.example.com', '*.example.com', ['instance'], { instance: 2 }],
    ['{instance}.app.example.com', '*.app.example.com', ['instance'], { instance: 3 }],
    ['{instance}.{env}.example.com', '*.*.example.com', ['instance', 'env'], { instance: 3, env: 2 }],
    ['api.{Name_1}.example.com', 'api.*.example.com', ['Name_1'], { Name_1: 2 }],
  ])('%s → %s', (hostname, wildcard, captures, indexes) => {
    const parsed = parsePattern(hostname);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.pattern.wildcard).toBe(wildcard);
    expect(parsed.pattern.captures).toEqual(captures);
    for (const [name, index] of Object.entries(indexes)) {
      expect(parsed.pattern.labelIndexes[name]).toBe(index);
      expect(parsed.pattern.placeholders[name]).toBe(`{http.request.host.labels.${index}}`);
    }
  });
});

describe('parsePattern rejects', () => {
  it.each([
    ['a hostname without captures (not a pattern)', 'api.example.com', 'not a pattern'],
    ['mixed captures', '{app}-{env}.example.com', 'mixed captures'],
    ['a capture glued to text', 'api-{instance}.example.com', 'mixed captures'],
    ['a duplicate capture', '{a}.{a}.example.com', 'duplicate capture'],
    ['a single label', '{instance}', 'at least two labels'],
    ['only captures', '{a}.{b}', 'at least one literal label'],
    ['an empty capture name', '{}.example.com', 'needs a name'],
    ['a capture name starting with a digit', '{1x}.example.com', 'needs a name'],
    ['an invalid literal label', '{a}.exa_mple.com', 'may hold only'],
    ['an empty literal label', '{a}..example.com', 'empty label'],
  ])('%s', (_, hostname, fragment) => {
    const parsed = parsePattern(hostname);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toContain(fragment);
  });
});

describe('checkHostname', () => {
  it.each([
    ['api.example.com', true],
    ['nginx-test', true],
    ['a1.b2.c3', true],
    ['xn--bcher-kva.example', true],
    ['', false],
    ['-api.example.com', false],
    ['api-.example.com', false],
    ['api..example.com', false],
    ['.example.com', false],
    ['example.com.', false],
    ['api_x.example.com', false],
    ['api.example.com:8080', false],
    ['has space.com', false],
    [`${'a'.repeat(64)}.com`, false],
    [`${'a'.repeat(63)}.com`, true],
    [Array.from({ length: 51 }, () => 'abcd').join('.'), false],
  ])('%s valid=%s', (hostname, valid) => {
    expect(checkHostname(hostname) === undefined).toBe(valid);
  });
});

describe('templates', () => {
  it('lists the captures a target references', () => {
    expect(templateCaptures('{instance}-web')).toEqual(['instance']);
    expect(templateCaptures('{a}{b}')).toEqual(['a', 'b']);
    expect(templateCaptures('my-api')).toEqual([]);
  });

  it('expands captures to Caddy placeholders and leaves literals alone (seed ResolveInstance)', () => {
    const parsed = parsePattern('{instance}.example.com');
    if (!parsed.ok) throw new Error(parsed.message);
    expect(expandTemplate('{instance}', parsed.pattern)).toBe('{http.request.host.labels.2}');
    expect(expandTemplate('{instance}-web', parsed.pattern)).toBe('{http.request.host.labels.2}-web');
    expect(expandTemplate('my-api', parsed.pattern)).toBe('my-api');
    expect(expandTemplate('{other}', parsed.pattern)).toBe('{other}');
  });

  it('keeps captures named like Object.prototype members as own entries', () => {
    const parsed = parsePattern('{__proto__}.{constructor}.example.com');
    if (!parsed.ok) throw new Error(parsed.message);
    expect(expandTemplate('{__proto__}-{constructor}', parsed.pattern)).toBe('{http.request.host.labels.3}-{http.request.host.labels.2}');
    const plain = parsePattern('{instance}.example.com');
    if (!plain.ok) throw new Error(plain.message);
    expect(expandTemplate('{constructor}', plain.pattern)).toBe('{constructor}');
  });
});

describe('hostKey', () => {
  it.each([
    ['api.example.com', 'api.example.com'],
    ['{instance}.example.com', '*.example.com'],
    ['{name}.example.com', '*.example.com'],
    ['{a}-{b}.example.com', '{a}-{b}.example.com'],
  ])('%s → %s', (hostname, key) => {
    expect(hostKey(hostname)).toBe(key);
  });
});
