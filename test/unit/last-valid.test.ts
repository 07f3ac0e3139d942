/**
 * The last-valid rule (reconciler/last-valid.ts), one test per line of its contract: which
 * version stands in, what is recorded and forgotten, the status it gives, and that the one
 * pipeline (`desiredState`) serves the same set as `run` from the same records.
 */
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../src/manifest/parse.js';
import { desiredState } from '../../src/reconciler/desired-state.js';
import { evaluate } from '../../src/reconciler/evaluate.js';
import { LastValid, reportedIssues, withLastValid, type LastValidEntry } from '../../src/reconciler/last-valid.js';
import { discardLastValid, lastValidDir, lastValidFiles } from '../../src/reconciler/last-valid-file.js';
import { existsSync } from 'node:fs';
import { silentLogger } from '../../src/model/logger.js';
import { buildStatus } from '../../src/reconciler/status.js';
import { NO_ACME, RENDER_SETTINGS } from '../helpers/tls-settings.js';

const SETTINGS = RENDER_SETTINGS;
const web = (host: string, file = 'web.json', name = 'web') => parseManifest(file, JSON.stringify({ name, rules: [{ match: { hostname: host }, target: { instance: 'app', port: 80 } }] }));
const T = Date.parse('2026-12-01T10:00:00.000Z');
const entryOf = (manifest = web('web.test'), acceptedAt = T, since = T - 1000): LastValidEntry => ({ manifest, acceptedAt, since });

describe('withLastValid', () => {
  test('a valid file is itself, with or without a record', () => {
    const now = web('new.test');
    expect(withLastValid(now, entryOf(), NO_ACME)).toBe(now);
    expect(withLastValid(now, undefined, NO_ACME)).toBe(now);
  });

  test.each([
    ['unparsable JSON', parseManifest('web.json', '{"name": "web", "rules": [')],
    ['a schema error', parseManifest('web.json', JSON.stringify({ name: 'web', rules: [{ match: { hostname: 'web.test', port: 70000 }, target: { instance: 'app', port: 80 } }] }))],
    ['a file-local rule error', parseManifest('web.json', JSON.stringify({ name: 'web', rules: [{ match: { hostname: 'bad_host!' }, target: { instance: 'app', port: 80 } }] }))],
    ['an empty (half-written) file', parseManifest('web.json', '')],
  ])('%s: the recorded version stands in, with the current generation and errors', (_name, broken) => {
    const entry = entryOf();
    const standIn = withLastValid(broken, entry, NO_ACME);
    expect(standIn.resource).toEqual(entry.manifest.resource);
    expect(standIn.generation).toBe(broken.generation);
    expect(standIn.fallback).toEqual({ issues: expect.arrayContaining([expect.objectContaining({ code: 'invalid_request' })]), servedGeneration: entry.manifest.generation, acceptedAt: T, since: T - 1000 });
  });

  test('an invalid file without a record serves nothing, as without the rule', () => {
    const broken = parseManifest('web.json', '{');
    expect(withLastValid(broken, undefined, NO_ACME)).toBe(broken);
  });
});

describe('LastValid.record', () => {
  test('records what a sync accepted and served, not what Caddy left out; only a version standing in is persisted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingressd-lastvalid-'));
    try {
      const store = new LastValid(lastValidFiles(dir));
      const a = web('a.test', 'a.json', 'a');
      const b = web('b.test', 'b.json', 'b');
      const evaluated = evaluate([a, b], new Map(), NO_ACME);
      store.record(evaluated, new Map([[b.resource!.id, { status: 'False', reason: 'ConfigRejected', message: 'no' }]]), new Map([['a.json', T - 5]]), T);
      expect([...store.entries.keys()]).toEqual(['a.json']);
      expect(store.entries.get('a.json')).toEqual({ manifest: a, acceptedAt: T, since: T - 5 });
      await store.flush();
      // Valid files keep their record in memory only: a start reads no record per manifest.
      expect(new LastValid(lastValidFiles(dir)).entries.size).toBe(0);
      // a.json breaks: its record stands in, and is persisted on flush.
      const standIn = store.apply(parseManifest('a.json', '{'), NO_ACME);
      store.record(evaluate([standIn], new Map(), NO_ACME), new Map(), new Map(), T + 1);
      expect(store.hasUnsaved).toBe(true);
      await store.flush();
      // A restart reads the same record back, and serves it while the file stays broken.
      const restarted = new LastValid(lastValidFiles(dir));
      expect(restarted.entries.get('a.json')?.manifest.generation).toBe(a.generation);
      // Fixed: the record on disk goes at the next flush.
      const fixed = web('a2.test', 'a.json', 'a');
      restarted.record(evaluate([fixed], new Map(), NO_ACME), new Map(), new Map(), T + 2);
      await restarted.flush();
      expect(new LastValid(lastValidFiles(dir)).entries.size).toBe(0);
      // Broken again, then deleted: the record is removed at once.
      restarted.record(evaluate([restarted.apply(parseManifest('a.json', '{'), NO_ACME)], new Map(), NO_ACME), new Map(), new Map(), T + 3);
      await restarted.flush();
      expect(new LastValid(lastValidFiles(dir)).entries.get('a.json')?.manifest.generation).toBe(fixed.generation);
      restarted.forget('a.json');
      expect(new LastValid(lastValidFiles(dir)).entries.size).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a record whose file was deleted while ingressd was stopped goes at the first sync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingressd-lastvalid-'));
    try {
      const first = new LastValid(lastValidFiles(dir));
      first.record(evaluate([web('web.test')], new Map(), NO_ACME), new Map(), new Map(), T);
      first.record(evaluate([first.apply(parseManifest('web.json', '{'), NO_ACME)], new Map(), NO_ACME), new Map(), new Map(), T + 1);
      await first.flush();
      // Restarted with web.json gone: the first sync's set does not hold it.
      const restarted = new LastValid(lastValidFiles(dir));
      expect(restarted.entries.has('web.json')).toBe(true);
      restarted.record(evaluate([web('other.test', 'other.json', 'other')], new Map(), NO_ACME), new Map(), new Map(), T + 2);
      expect(restarted.entries.has('web.json')).toBe(false);
      expect(new LastValid(lastValidFiles(dir)).entries.size).toBe(0);
      expect(restarted.apply(parseManifest('web.json', '{'), NO_ACME).resource).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a record DATA_DIR refused to remove is removed at the next flush, and forget never throws', async () => {
    const onDisk = new Map<string, LastValidEntry>();
    let refuse = true;
    const persistence = {
      load: () => new Map(onDisk),
      save: (entry: LastValidEntry) => void onDisk.set(entry.manifest.file, entry),
      remove: (file: string) => {
        if (refuse) throw Object.assign(new Error('read-only'), { code: 'EROFS' });
        onDisk.delete(file);
      },
    };
    const store = new LastValid(persistence);
    store.record(evaluate([web('web.test')], new Map(), NO_ACME), new Map(), new Map(), T);
    store.record(evaluate([store.apply(parseManifest('web.json', '{'), NO_ACME)], new Map(), NO_ACME), new Map(), new Map(), T + 1);
    await store.flush();
    expect(onDisk.has('web.json')).toBe(true);
    expect(() => store.forget('web.json')).not.toThrow();
    expect(onDisk.has('web.json')).toBe(true);
    refuse = false;
    await store.flush();
    expect(onDisk.has('web.json')).toBe(false);
  });

  test('FALLBACK=none: run discards the records an earlier run kept', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ingressd-lastvalid-'));
    try {
      const store = new LastValid(lastValidFiles(lastValidDir(dataDir)));
      store.record(evaluate([web('web.test')], new Map(), NO_ACME), new Map(), new Map(), T);
      store.record(evaluate([store.apply(parseManifest('web.json', '{'), NO_ACME)], new Map(), NO_ACME), new Map(), new Map(), T + 1);
      await store.flush();
      expect(existsSync(lastValidDir(dataDir))).toBe(true);
      discardLastValid(dataDir, silentLogger);
      expect(existsSync(lastValidDir(dataDir))).toBe(false);
      expect(() => discardLastValid(dataDir, silentLogger)).not.toThrow();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a stand-in is never recorded over the version it stands for', () => {
    const store = new LastValid();
    const first = web('web.test');
    store.record(evaluate([first], new Map(), NO_ACME), new Map(), new Map(), T);
    const standIn = store.apply(parseManifest('web.json', '{'), NO_ACME);
    store.record(evaluate([standIn], new Map(), NO_ACME), new Map(), new Map(), T + 1);
    expect(store.entries.get('web.json')).toEqual({ manifest: first, acceptedAt: T, since: T });
  });

  test('a file whose valid version loses a conflict keeps nothing: conflicts are unchanged', () => {
    const store = new LastValid();
    const mine = web('web.test', 'web.json', 'web');
    store.record(evaluate([mine], new Map(), NO_ACME), new Map(), new Map(), T);
    const colliding = web('other.test', 'web.json', 'web');
    const holder = web('other.test', 'holder.json', 'holder');
    const evaluated = evaluate([holder, colliding], new Map([['holder.json', T - 10]]), NO_ACME);
    expect(evaluated.byFile.get('web.json')?.accepted).toBe(false);
    store.record(evaluated, new Map(), new Map(), T + 1);
    expect(store.entries.has('web.json')).toBe(false);
  });
});

describe('the status of a stand-in', () => {
  test('Accepted=False with the current errors, Programmed=True LastValidVersion naming the served generation and time, Ready=False', () => {
    const entry = entryOf();
    const standIn = withLastValid(parseManifest('web.json', '{"name": "web", "rules": ['), entry, NO_ACME);
    const evaluation = evaluate([standIn], new Map(), NO_ACME).byFile.get('web.json')!;
    expect(evaluation.accepted).toBe(true);
    const status = buildStatus({ evaluation, program: { status: 'True', reason: 'Programmed', message: 'served' }, routes: [], certificates: undefined, previous: undefined, now: '2026-12-01T11:00:00.000Z' });
    const byType = Object.fromEntries(status.conditions.map((c) => [c.type, c]));
    expect(byType['Accepted']).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(byType['Programmed']).toMatchObject({ status: 'True', reason: 'LastValidVersion' });
    expect(byType['Programmed']?.message).toContain(`observedGeneration ${entry.manifest.generation}, accepted 2026-12-01T10:00:00.000Z`);
    expect(byType['Ready']).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(status.observedGeneration).toBe(standIn.generation);
    expect(status.errors).toEqual(reportedIssues(evaluation));
    expect(status.errors[0]?.code).toBe('invalid_request');
  });
});

describe('desiredState with the records', () => {
  test('serves the stand-in exactly as the valid version was served (same config), and reports the file invalid', () => {
    const valid = web('web.test');
    const before = desiredState({ manifests: [valid], acceptedSince: new Map(), settings: SETTINGS });
    const broken = parseManifest('web.json', '{"name": "web"');
    const after = desiredState({ manifests: [broken], acceptedSince: new Map(), settings: SETTINGS, lastValid: new Map([['web.json', entryOf(valid)]]) });
    expect(after.config).toEqual(before.config);
    expect(reportedIssues(after.evaluated.byFile.get('web.json')!).length).toBeGreaterThan(0);
    const none = desiredState({ manifests: [broken], acceptedSince: new Map(), settings: SETTINGS });
    expect(none.evaluated.ingresses).toEqual([]);
  });

  test("a stand-in keeps its precedence from its record (its status file holds none)", () => {
    const valid = web('web.test');
    const rival = web('web.test', 'rival.json', 'rival');
    const broken = parseManifest('web.json', '{');
    const state = desiredState({ manifests: [rival, broken], acceptedSince: new Map(), settings: SETTINGS, lastValid: new Map([['web.json', entryOf(valid)]]) });
    expect(state.evaluated.byFile.get('web.json')?.accepted).toBe(true);
    expect(state.evaluated.byFile.get('rival.json')?.issues[0]?.code).toBe('hostname_in_use');
  });
});
