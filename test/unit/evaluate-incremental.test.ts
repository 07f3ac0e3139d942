import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import type { Manifest } from '../../src/model/manifest.js';
import type { TlsSettings } from '../../src/model/settings.js';
import { IncrementalEvaluator } from '../../src/reconciler/evaluate-incremental.js';
import { evaluate, type EvaluatedSet } from '../../src/reconciler/evaluate.js';
import { parseManifest } from '../../src/manifest/parse.js';
import { NO_ACME, TLS } from '../helpers/tls-settings.js';


interface RuleSpec {
  readonly host: string;
  readonly to: string;
  readonly port?: number;
  readonly tls?: boolean;
  readonly redirect?: boolean;
}

function ingressText(name: string, rules: readonly RuleSpec[], fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    name,
    ...fields,
    rules: rules.map((r) => ({
      match: { hostname: r.host, ...(r.port === undefined ? {} : { port: r.port }) },
      target: { instance: r.to, port: 8080 },
      ...(r.tls === undefined ? {} : { tls: r.tls }),
      ...(r.redirect === undefined ? {} : { redirect_http: r.redirect }),
    })),
  });
}

function instanceText(name: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ kind: 'Instance', name, address: '10.100.0.10', ...fields });
}

/**
 * The expected answer. byFile and fileById may be layered maps sharing the previous answer's entries,
 * so they are compared as plain maps; byFile lists every file once (a fast path keeps the previous
 * order, so the order is not compared).
 */
function expectSame(actual: EvaluatedSet, expected: EvaluatedSet): void {
  const plain = (set: EvaluatedSet) => ({ ...set, byFile: new Map(set.byFile), fileById: new Map(set.fileById) });
  expect(plain(actual)).toEqual(plain(expected));
  expect([...actual.byFile.keys()].sort()).toEqual([...expected.byFile.keys()].sort());
}

/** A reconciler in miniature: its manifests, acceptedSince and the files changed since the last evaluation. */
class World {
  readonly manifests = new Map<string, Manifest>();
  readonly acceptedSince = new Map<string, number>();
  readonly changed = new Set<string>();
  readonly evaluator = new IncrementalEvaluator();
  tls: TlsSettings = TLS;
  now = 1_000;

  write(file: string, text: string): void {
    this.manifests.set(file, parseManifest(file, text));
    this.changed.add(file);
  }

  remove(file: string): void {
    this.manifests.delete(file);
    this.acceptedSince.delete(file);
    this.changed.add(file);
  }

  /** Evaluates incrementally, checks it against a full evaluation, and updates acceptedSince as the reconciler does. */
  evaluate(): EvaluatedSet {
    const result = this.evaluator.evaluate(this.manifests, this.changed, this.acceptedSince, this.tls);
    expectSame(result, evaluate([...this.manifests.values()], this.acceptedSince, this.tls));
    this.changed.clear();
    this.now += 1_000;
    for (const [file, evaluation] of result.byFile) {
      if (!evaluation.accepted) this.acceptedSince.delete(file);
      else if (!this.acceptedSince.has(file)) this.acceptedSince.set(file, this.now);
    }
    return result;
  }
}

describe('IncrementalEvaluator: targeted cases', () => {
  it('takes the fast path for a conflict-free edit and reuses the unchanged evaluations', () => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'a.example.com', to: 'vm' }]));
    world.write('b.json', ingressText('b', [{ host: 'b.example.com', to: 'vm' }]));
    world.write('vm.json', instanceText('vm'));
    const first = world.evaluate();
    expect(world.evaluator.lastPath).toBe('full');

    world.write('b.json', ingressText('b', [{ host: 'b2.example.com', to: 'vm' }]));
    const second = world.evaluate();
    expect(world.evaluator.lastPath).toBe('fast');
    expect(second.byFile.get('a.json')).toBe(first.byFile.get('a.json'));
    expect(second.byFile.get('b.json')).not.toBe(first.byFile.get('b.json'));
    expect(second.instances).toBe(first.instances);
    expect(second.ingresses).not.toBe(first.ingresses);
    // The earlier answer is untouched.
    expect(first.ingresses[1]?.rules[0]?.match.hostname).toBe('b.example.com');
  });

  it('evaluates in full when a manifest changed without being reported', () => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'a.example.com', to: 'vm' }]));
    world.evaluate();

    world.write('b.json', ingressText('b', [{ host: 'b.example.com', to: 'vm' }]));
    world.changed.clear();
    expect(world.evaluate().byFile.get('b.json')?.accepted).toBe(true);
    expect(world.evaluator.lastPath).toBe('full');
  });

  it('falls back when freeing a hostname a rejected ingress wants, which then is accepted', () => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'api.example.com', to: 'vm' }]));
    world.write('b.json', ingressText('b', [{ host: 'api.example.com', to: 'vm' }]));
    world.write('vm.json', instanceText('vm'));
    expect(world.evaluate().byFile.get('b.json')?.issues.map((i) => i.code)).toEqual(['hostname_in_use']);

    world.remove('a.json');
    const result = world.evaluate();
    expect(world.evaluator.lastPath).toBe('full');
    expect(result.byFile.get('b.json')).toMatchObject({ accepted: true, issues: [] });
  });

  it('clears instance_not_found when the instance appears, and brings it back when it goes, on the fast path', () => {
    const world = new World();
    world.write('web.json', ingressText('web', [{ host: 'web.example.com', to: 'my-api' }]));
    expect(world.evaluate().byFile.get('web.json')?.issues.map((i) => i.code)).toEqual(['instance_not_found']);

    world.write('my-api.json', instanceText('my-api'));
    expect(world.evaluate().byFile.get('web.json')).toMatchObject({ accepted: true, issues: [] });
    expect(world.evaluator.lastPath).toBe('fast');

    world.remove('my-api.json');
    expect(world.evaluate().byFile.get('web.json')?.issues.map((i) => i.code)).toEqual(['instance_not_found']);
    expect(world.evaluator.lastPath).toBe('fast');
  });

  it('falls back when a changed ingress now clashes, and reports hostname_in_use', () => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'a.example.com', to: 'vm' }]));
    world.write('b.json', ingressText('b', [{ host: 'b.example.com', to: 'vm' }]));
    world.evaluate();

    world.write('b.json', ingressText('b', [{ host: 'a.example.com', to: 'vm' }]));
    const clash = world.evaluate().byFile.get('b.json');
    expect(world.evaluator.lastPath).toBe('full');
    expect(clash?.accepted).toBe(false);
    expect(clash?.issues.map((i) => i.code)).toEqual(['hostname_in_use']);
    expect(clash?.issues[0]?.message).toContain('a.json');
  });

  it.each([
    ['a hostname', { host: 'api.example.com' }, { host: 'api.example.com' }],
    ['a port in the other TLS mode', { host: 'a.example.com', port: 8443 }, { host: 'b.example.com', port: 8443, tls: true }],
  ])('falls back when acceptedSince puts a rejected candidate before its rival for %s', (_, a, b) => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ ...a, to: 'vm' }]));
    world.write('b.json', ingressText('b', [{ ...b, to: 'vm' }]));
    expect(world.evaluate().byFile.get('b.json')?.accepted).toBe(false);
    world.evaluate();
    expect(world.evaluator.lastPath).toBe('fast');

    world.acceptedSince.set('b.json', 1);
    const result = world.evaluate();
    expect(world.evaluator.lastPath).toBe('full');
    expect(result.byFile.get('b.json')?.accepted).toBe(true);
    expect(result.byFile.get('a.json')?.accepted).toBe(false);
  });

  it('falls back when a new ingress shares a free hostname with a rejected one, which then reports both clashes', () => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'x.example.com', to: 'vm' }]));
    world.write('r.json', ingressText('r', [{ host: 'x.example.com', to: 'vm' }, { host: 'y.example.com', to: 'vm' }]));
    expect(world.evaluate().byFile.get('r.json')?.issues).toHaveLength(1);

    world.write('b.json', ingressText('b', [{ host: 'y.example.com', to: 'vm' }]));
    const result = world.evaluate();
    expect(world.evaluator.lastPath).toBe('full');
    expect(result.byFile.get('b.json')?.accepted).toBe(true);
    expect(result.byFile.get('r.json')?.issues.map((i) => i.code)).toEqual(['hostname_in_use', 'hostname_in_use']);
  });

  it.each([
    ['a claimer moves before the holder', 'a.json', 500],
    ['the holder moves after a claimer', 'z.json', 3_000],
  ])('falls back when acceptedSince changes which ingress a port-mode clash names: %s', (_, file, since) => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'a.example.com', to: 'vm', port: 8443 }]));
    world.write('z.json', ingressText('z', [{ host: 'z.example.com', to: 'vm', port: 8443 }]));
    world.write('r.json', ingressText('r', [{ host: 'r.example.com', to: 'vm', port: 8443, tls: true }]));
    world.acceptedSince.set('a.json', 2_000).set('z.json', 1_000);
    expect(world.evaluate().byFile.get('r.json')?.issues[0]?.message).toContain('"z"');

    world.acceptedSince.set(file, since);
    expect(world.evaluate().byFile.get('r.json')?.issues[0]?.message).toContain('"a"');
    expect(world.evaluator.lastPath).toBe('full');
  });

  it('falls back when a port holder comes to precede a rejected candidate that did not report the port', () => {
    const world = new World();
    world.write('b.json', ingressText('b', [{ host: 'x.example.com', to: 'vm' }]));
    world.write('r.json', ingressText('r', [{ host: 'x.example.com', to: 'vm' }, { host: 'r.example.com', to: 'vm', port: 8443, tls: true }]));
    world.write('s.json', ingressText('s', [{ host: 's.example.com', to: 'vm', port: 8443 }]));
    world.acceptedSince.set('b.json', 100);
    expect(world.evaluate().byFile.get('r.json')?.issues.map((i) => i.code)).toEqual(['hostname_in_use']);

    // The reconciler dates s.json's acceptance, which puts it before r.json.
    expect(world.evaluate().byFile.get('r.json')?.issues.map((i) => i.code)).toEqual(['hostname_in_use', 'invalid_request']);
    expect(world.evaluator.lastPath).toBe('full');
  });

  it('keeps the fast path on a contested port unless its holder moves', () => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'a.example.com', to: 'vm', port: 8443 }]));
    world.write('z.json', ingressText('z', [{ host: 'z.example.com', to: 'vm', port: 8443 }]));
    world.write('r.json', ingressText('r', [{ host: 'r.example.com', to: 'vm', port: 8443, tls: true }]));
    world.evaluate();
    world.evaluate();
    expect(world.evaluator.lastPath).toBe('fast');

    world.write('z.json', ingressText('z', [{ host: 'z2.example.com', to: 'vm', port: 8443 }]));
    world.write('b.json', ingressText('b', [{ host: 'b.example.com', to: 'vm', port: 8443 }]));
    expect(world.evaluate().byFile.get('r.json')?.issues[0]?.message).toContain('"a" (a.json)');
    expect(world.evaluator.lastPath).toBe('fast');

    world.write('a.json', ingressText('a', [{ host: 'a2.example.com', to: 'vm', port: 8443 }]));
    expect(world.evaluate().byFile.get('r.json')?.issues[0]?.message).toContain('"a" (a.json)');
    expect(world.evaluator.lastPath).toBe('full');
  });

  it('evaluates in full after reset and with another tls object', () => {
    const world = new World();
    world.write('a.json', ingressText('a', [{ host: 'a.example.com', to: 'vm', port: 443, tls: true }]));
    world.evaluate();
    world.evaluate();
    expect(world.evaluator.lastPath).toBe('fast');

    world.tls = NO_ACME;
    expect(world.evaluate().byFile.get('a.json')?.issues.map((i) => i.code)).toEqual(['tls_not_configured']);
    expect(world.evaluator.lastPath).toBe('full');

    world.evaluator.reset();
    world.evaluate();
    expect(world.evaluator.lastPath).toBe('full');
  });
});

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const INGRESS_FILES = Array.from({ length: 24 }, (_, i) => `ing/${String(i).padStart(2, '0')}.json`);
const INSTANCE_FILES = Array.from({ length: 4 }, (_, k) => `vm/${k}.json`);

/**
 * Manifest texts for one file. Home variants keep to the file's own names and hostnames, so they
 * clash with nothing; troublemakers share names, ids, hostnames, ports of the other TLS mode, or
 * are invalid. Targets include `vm4`, which no Instance ever declares.
 */
function variants(file: string, random: () => number): { readonly home: string; readonly trouble: string } {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const i = INGRESS_FILES.indexOf(file);
  if (i < 0) {
    const k = INSTANCE_FILES.indexOf(file);
    const home = pick([instanceText(`vm${k}`), instanceText(`vm${k}`, { address: '10.100.0.11' }), instanceText(`vm${k}`, { id: `vm-id-${k}` })]);
    const trouble = pick([instanceText('vm0'), instanceText(`vm${k}`, { id: 'dup-id' }), instanceText(`vm${k}`, { address: 'not-an-ip' })]);
    return { home, trouble };
  }
  const to = pick(['vm0', 'vm1', 'vm2', 'vm3', 'vm4', 'vm-id-1', 'VM2']);
  const own = `h${i}.example.com`;
  const home = pick([
    ingressText(`n${i}`, [{ host: own, to }]),
    ingressText(`n${i}`, [{ host: own, to }, { host: own, to: 'vm1', port: 8080 }]),
    ingressText(`n${i}`, [{ host: own, to, port: 443, tls: true }]),
    ingressText(`n${i}`, [{ host: own, to, port: 443, tls: true, redirect: true }]),
    ingressText(`n${i}`, [{ host: own, to, port: 8443 }]),
    ingressText(`n${i}`, [{ host: `{x}.p${i}.example.com`, to: '{x}' }]),
    ingressText(`m${i}`, [{ host: `other${i}.example.com`, to }]),
  ]);
  const trouble = pick([
    ingressText(`n${i}`, [{ host: pick(['x.example.com', 'y.example.com']), to }]),
    ingressText(`n${i}`, [{ host: pick(['x.example.com', 'y.example.com']), to }, { host: pick(['z0.example.com', 'z1.example.com']), to }]),
    ingressText(pick(['dup', 'dup2']), [{ host: own, to, port: 8443, tls: random() < 0.5 }, { host: pick(['z0.example.com', 'z1.example.com']), to }]),
    ingressText('dup', [{ host: own, to }]),
    ingressText(`n${i}`, [{ host: own, to }], { id: 'dup-id' }),
    ingressText(`n${i}`, [{ host: own, to, port: 8443, tls: random() < 0.5 }]),
    ingressText(`n${i}`, [{ host: 'x.example.com', to, port: 443, tls: true, redirect: true }]),
    ingressText(`n${i}`, [{ host: '{y}.example.com', to: '{y}' }]),
    ingressText(`n${i}`, [{ host: own, to, port: 80, tls: true }]),
    ingressText(`n${i}`, [{ host: `h${i}.other.org`, to, port: 443, tls: true }]),
    ingressText(`n${i}`, [{ host: '*.example.com', to }]),
    '{ not json',
  ]);
  return { home, trouble };
}

/** Files rejected in `set` that are valid on their own: the losers of a clash. */
function losers(set: EvaluatedSet, tls: TlsSettings): string[] {
  return [...set.byFile.values()]
    .filter((e) => !e.accepted && evaluate([e.manifest], new Map(), tls).byFile.get(e.manifest.file)?.accepted === true)
    .map((e) => e.manifest.file);
}

describe('IncrementalEvaluator: equivalence with evaluate', () => {
  it('gives what a full evaluation gives over a random walk of edits, mostly on the fast path', () => {
    const random = prng(20_240_611);
    const world = new World();
    const files = [...INGRESS_FILES, ...INSTANCE_FILES];
    let previous: EvaluatedSet | undefined;
    let previousCopy: EvaluatedSet | undefined;
    let previousLosers = 0;
    let conflictFree = 0;
    let fastWhenConflictFree = 0;
    let fast = 0;
    const steps = 400;

    for (let step = 0; step < steps; step++) {
      // Calm phases mostly write home variants, so conflicts drain away; stormy ones make many.
      const troubleRate = step % 100 < 60 ? 0.03 : 0.35;
      const count = 1 + Math.floor(random() * 3);
      for (let n = 0; n < count; n++) {
        const file = files[Math.floor(random() * files.length)]!;
        const { home, trouble } = variants(file, random);
        if (world.manifests.has(file) && random() < 0.2) world.remove(file);
        else world.write(file, random() < troubleRate ? trouble : home);
        // Now and then the status file gives a (re)loaded file an older acceptedSince, as on adoption.
        if (world.manifests.has(file) && random() < 0.05) world.acceptedSince.set(file, Math.floor(random() * world.now));
      }
      if (random() < 0.03) {
        const file = files[Math.floor(random() * files.length)]!;
        if (world.manifests.has(file)) world.acceptedSince.set(file, Math.floor(random() * world.now));
      }
      if (random() < 0.02) world.tls = world.tls === TLS ? NO_ACME : TLS;
      const reset = random() < 0.01;
      if (reset) world.evaluator.reset();

      const result = world.evaluate();
      if (world.evaluator.lastPath === 'fast') fast++;

      // Earlier answers are never mutated, and (but after a reset) an evaluation that did not change is the same object.
      if (previous !== undefined) {
        expect(previous).toEqual(previousCopy);
      }
      if (previous !== undefined && !reset) {
        for (const [file, evaluation] of result.byFile) {
          const before = previous.byFile.get(file);
          if (before?.manifest === evaluation.manifest && isDeepStrictEqual(before, evaluation)) expect(evaluation).toBe(before);
        }
      }
      previous = result;
      previousCopy = structuredClone(result);

      const currentLosers = losers(result, world.tls).length;
      if (previousLosers === 0 && currentLosers === 0) {
        conflictFree++;
        if (world.evaluator.lastPath === 'fast') fastWhenConflictFree++;
      }
      previousLosers = currentLosers;
    }

    expect(conflictFree).toBeGreaterThan(steps / 5);
    expect(fastWhenConflictFree).toBeGreaterThan(conflictFree / 2);
    expect(fast).toBeLessThan(steps);
  });
});
