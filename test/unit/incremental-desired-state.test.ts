import { describe, expect, it } from '@jest/globals';
import { parseManifest } from '../../src/manifest/parse.js';
import type { Manifest } from '../../src/model/manifest.js';
import { IncrementalDesiredState } from '../../src/reconciler/incremental-desired-state.js';
import { RENDER_SETTINGS } from '../helpers/tls-settings.js';

const ingress = (name: string, host: string): string => JSON.stringify({ kind: 'Ingress', name, rules: [{ match: { hostname: host }, target: { instance: 'web', port: 8080 } }] });

function manifests(entries: Record<string, string>): Map<string, Manifest> {
  return new Map(Object.entries(entries).map(([file, text]) => [file, parseManifest(file, text)]));
}

const TEXTS = { 'a.json': ingress('a', 'a.example.com'), 'b.json': ingress('b', 'b.example.com'), 'web.json': JSON.stringify({ kind: 'Instance', name: 'web', address: '127.0.0.2' }) };

describe('IncrementalDesiredState.render', () => {
  const files = manifests(TEXTS);

  it('answers a resync at rest (same evaluation, same exclusions) without rendering again', () => {
    const state = new IncrementalDesiredState(RENDER_SETTINGS);
    const evaluated = state.evaluate(files, new Set(), new Map());
    const first = state.render(evaluated, new Set(['b']));
    expect(state.render(evaluated, new Set(['b']))).toBe(first);
  });

  it('renders again when the exclusions or the evaluation change', () => {
    const state = new IncrementalDesiredState(RENDER_SETTINGS);
    const evaluated = state.evaluate(files, new Set(), new Map());
    const all = state.render(evaluated, new Set());
    const b = evaluated.ingresses.find((i) => i.name === 'b')?.id ?? '';
    const withoutB = state.render(evaluated, new Set([b]));
    expect(JSON.stringify(withoutB.config)).not.toContain('b.example.com');
    expect(JSON.stringify(state.render(evaluated, new Set()).config)).toBe(JSON.stringify(all.config));
    const changed = manifests({ ...TEXTS, 'a.json': ingress('a', 'c.example.com') });
    const next = state.evaluate(changed, new Set(['a.json']), new Map());
    expect(JSON.stringify(state.render(next, new Set()).config)).toContain('c.example.com');
  });
});
