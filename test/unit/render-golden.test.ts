import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stableStringify } from '../../src/model/canonical.js';
import { IncrementalRenderer } from '../../src/render/incremental.js';
import { render } from '../../src/render/index.js';
import { loadGoldenCases } from '../golden/cases.js';

// UPDATE_GOLDEN=1 rewrites every expected.json from the current renderer; read the diff before committing.
const update = process.env['UPDATE_GOLDEN'] === '1';
const cases = loadGoldenCases();

describe('render golden files', () => {
  it('has golden cases to compare', () => {
    expect(cases.map((c) => c.name)).toEqual(expect.arrayContaining(['basic', 'empty', 'http01', 'multi-port-patterns', 'static-mode', 'tls-dns01-redirect']));
  });

  it.each(cases.map((c) => [c.name, c] as const))('renders %s byte for byte as expected.json', (_name, golden) => {
    const actual = stableStringify(render(golden.input, golden.settings).config);
    if (update) writeFileSync(golden.expectedFile, actual);
    if (!existsSync(golden.expectedFile)) throw new Error(`${golden.expectedFile} is missing; run with UPDATE_GOLDEN=1 and review it`);
    expect(actual).toBe(readFileSync(golden.expectedFile, 'utf8'));
  });

  it.each(cases.map((c) => [c.name, c] as const))('renders %s byte for byte through the incremental renderer, built up one ingress at a time', (_name, golden) => {
    const renderer = new IncrementalRenderer(golden.settings);
    const { ingresses, instances } = golden.input;
    for (let n = 0; n <= ingresses.length; n++) {
      const input = { ingresses: ingresses.slice(0, n), instances };
      const result = renderer.render(input);
      const reference = render(input, golden.settings);
      expect(stableStringify(result.config)).toBe(stableStringify(reference.config));
      expect(result.warnings).toEqual(reference.warnings);
    }
    expect(stableStringify(renderer.render(golden.input).config)).toBe(readFileSync(golden.expectedFile, 'utf8'));
    // And back down: removing them again, the last one first, leaves what an empty set renders.
    for (let n = ingresses.length - 1; n >= 0; n--) renderer.render({ ingresses: ingresses.slice(0, n), instances });
    expect(stableStringify(renderer.render({ ingresses: [], instances }).config)).toBe(stableStringify(render({ ingresses: [], instances }, golden.settings).config));
  });

  it.each(cases.map((c) => [c.name, c] as const))('renders %s identically with resources and rules reversed', (_name, golden) => {
    const reversed = {
      ingresses: [...golden.input.ingresses].reverse().map((i) => ({ ...i, rules: [...i.rules].reverse() })),
      instances: [...golden.input.instances].reverse(),
    };
    expect(stableStringify(render(reversed, golden.settings).config)).toBe(stableStringify(render(golden.input, golden.settings).config));
  });
});
