/**
 * The reconcile contract (reconciler.ts's table), one test per row, on a fake clock against an
 * in-memory Caddy: what each key does and which result it ends in. The same loop against the
 * real Caddy is covered by the integration tests.
 */
import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../src/model/logger.js';
import { parseManifest } from '../../src/manifest/parse.js';
import { claimsOf, type ClaimsFn } from '../../src/reconciler/claims.js';
import { CADDY_KEY, CROSS_CHECK_KEY, fileKey, STATUSES_KEY, type Key } from '../../src/reconciler/keys.js';
import { LastValid } from '../../src/reconciler/last-valid.js';
import { Reconciler, type CaddySyncResult, type ReconcilerOptions } from '../../src/reconciler/reconciler.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { MemoryCaddy } from '../helpers/memory-caddy.js';
import { MemoryStatuses } from '../helpers/memory-statuses.js';
import { RENDER_SETTINGS } from '../helpers/tls-settings.js';

const SETTINGS = RENDER_SETTINGS;

const ingress = (name: string, host: string): string => JSON.stringify({ kind: 'Ingress', name, rules: [{ match: { hostname: host }, target: { instance: 'web', port: 8080 } }] });

function setup(options: Partial<ReconcilerOptions> = {}) {
  const clock = new FakeClock();
  const caddy = new MemoryCaddy();
  const statuses = new MemoryStatuses();
  const texts = new Map<string, string>();
  const enqueued: Key[] = [];
  const synced: CaddySyncResult[] = [];
  const state = { filesPending: false, othersWaiting: false, unreadable: new Set<string>() };
  const reconciler = new Reconciler({
    settings: SETTINGS,
    caddy,
    statuses,
    readManifest: (file) => {
      if (state.unreadable.has(file)) throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
      const text = texts.get(file);
      return text === undefined ? undefined : parseManifest(file, text);
    },
    publishInstances: async () => undefined,
    saveAppliedConfig: async () => undefined,
    clock,
    logger: silentLogger,
    enqueue: (key) => enqueued.push(key),
    filesPending: () => state.filesPending,
    othersWaiting: () => state.othersWaiting,
    isListenFree: async () => true,
    ...options,
  });
  reconciler.events.on('caddySynced', ({ result }) => synced.push(result));
  /** Writes a manifest and reconciles its file key, as the watcher would have it. */
  const put = async (file: string, text: string): Promise<void> => {
    texts.set(file, text);
    expect(await reconciler.reconcile(fileKey(file))).toEqual({ kind: 'done' });
  };
  return { clock, caddy, statuses, texts, enqueued, synced, state, reconciler, put };
}

describe('Reconciler: a file key', () => {
  it('records a new or changed manifest and asks for the Caddy key; an unchanged one asks for nothing', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'a.test'));
    expect(t.enqueued).toEqual([CADDY_KEY]);
    expect(await t.reconciler.reconcile(fileKey('a.json'))).toEqual({ kind: 'done' });
    expect(t.enqueued).toEqual([CADDY_KEY]);
    expect(t.reconciler.files()).toEqual(['a.json']);
  });

  it('forgets a manifest that is gone, with its status', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'a.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    await t.reconciler.reconcile(STATUSES_KEY);
    expect(t.statuses.files.has('a.json')).toBe(true);
    t.texts.delete('a.json');
    expect(await t.reconciler.reconcile(fileKey('a.json'))).toEqual({ kind: 'done' });
    expect(t.reconciler.files()).toEqual([]);
    expect(t.statuses.files.has('a.json')).toBe(false);
    expect(t.enqueued.at(-1)).toBe(CADDY_KEY);
  });

  it('writes the status again when an unchanged manifest is read and its status file is gone (a swapped directory)', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'a.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    await t.reconciler.reconcile(STATUSES_KEY);
    const written = t.statuses.files.get('a.json');
    expect(written).toBeDefined();
    t.statuses.files.delete('a.json');
    t.enqueued.length = 0;
    await t.put('a.json', ingress('a', 'a.test'));
    expect(t.enqueued).toEqual([STATUSES_KEY]);
    await t.reconciler.reconcile(STATUSES_KEY);
    expect(t.statuses.files.get('a.json')).toEqual(written);
    // Present again: reading the manifest asks for nothing.
    t.enqueued.length = 0;
    await t.put('a.json', ingress('a', 'a.test'));
    expect(t.enqueued).toEqual([]);
  });

  it('retries with backoff when the file cannot be read', async () => {
    const t = setup();
    t.state.unreadable.add('a.json');
    const result = await t.reconciler.reconcile(fileKey('a.json'));
    expect(result).toMatchObject({ kind: 'retry', error: { message: expect.stringContaining('EACCES') } });
  });
});

describe('Reconciler: the last valid version (FALLBACK=last-valid)', () => {
  const serveThenBreak = async (options: Partial<ReconcilerOptions>) => {
    const t = setup(options);
    await t.put('a.json', ingress('a', 'a.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    await t.reconciler.reconcile(STATUSES_KEY);
    await t.put('a.json', '{"kind": "Ingress", "name": "a", "rules": [');
    await t.reconciler.reconcile(CADDY_KEY);
    await t.reconciler.reconcile(STATUSES_KEY);
    return t;
  };

  it('keeps serving a broken file\'s last accepted version with no Caddy write, and says so in its status', async () => {
    const t = await serveThenBreak({ lastValid: new LastValid() });
    expect(t.caddy.hosts()).toEqual(['a.test']);
    expect(t.caddy.writes).toBe(1);
    expect(t.statuses.condition('a.json', 'Accepted')).toMatchObject({ status: 'False', reason: 'Invalid' });
    expect(t.statuses.condition('a.json', 'Programmed')).toMatchObject({ status: 'True', reason: 'LastValidVersion' });
    expect(t.statuses.condition('a.json', 'Ready')?.status).toBe('False');
    // Deleting the file is the explicit way to stop serving it.
    t.texts.delete('a.json');
    await t.reconciler.reconcile(fileKey('a.json'));
    await t.reconciler.reconcile(CADDY_KEY);
    expect(t.caddy.hosts()).toEqual([]);
  });

  it('without it (FALLBACK=none) the broken file stops serving', async () => {
    const t = await serveThenBreak({});
    expect(t.caddy.hosts()).toEqual([]);
    expect(t.statuses.condition('a.json', 'Programmed')?.reason).toBe('NotAccepted');
  });
});

describe('Reconciler: the caddy key', () => {
  it('applies every manifest in one write, asks for the statuses key, and makes no write when nothing changed', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'a.test'));
    await t.put('b.json', ingress('b', 'b.test'));
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'done' });
    expect(t.caddy.writes).toBe(1);
    expect(t.caddy.hosts().sort()).toEqual(['a.test', 'b.test']);
    expect(t.enqueued).toContain(STATUSES_KEY);
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'done' });
    expect(t.caddy.writes).toBe(1);
    expect(t.synced.map((r) => r.writes)).toEqual([1, 0]);
  });

  it('waits in 10 ms steps while manifests are still arriving, for at most 1 s', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'a.test'));
    t.state.filesPending = true;
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'requeue', afterMs: 10 });
    t.clock.advance(999);
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'requeue', afterMs: 10 });
    t.clock.advance(1);
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'done' });
    expect(t.caddy.writes).toBe(1);
  });

  it('requeues after 10 s while a rule has health checks (Caddy refreshes its health gauge that often), done once none has', async () => {
    const t = setup();
    const checked = { match: { hostname: 'h.test', path: '/api' }, targets: [{ instance: 'web', port: 8080 }], health_check: { passive: { max_fails: 1 } } };
    await t.put('h.json', JSON.stringify({ kind: 'Ingress', name: 'h', rules: [checked] }));
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'requeue', afterMs: 10_000 });
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'requeue', afterMs: 10_000 });
    expect(t.caddy.writes).toBe(1);
    await t.put('h.json', ingress('h', 'h.test'));
    expect(await t.reconciler.reconcile(CADDY_KEY)).toEqual({ kind: 'done' });
  });

  it('logs a poll that changed nothing at debug, and a change at info', async () => {
    const lines: string[] = [];
    const logger = { ...silentLogger, info: (m: string) => void lines.push(`info ${m}`), debug: (m: string) => void lines.push(`debug ${m}`) };
    const t = setup({ logger });
    const checked = { match: { hostname: 'h.test', path: '/api' }, targets: [{ instance: 'web', port: 8080 }], health_check: { passive: { max_fails: 1 } } };
    await t.put('h.json', JSON.stringify({ kind: 'Ingress', name: 'h', rules: [checked] }));
    await t.reconciler.reconcile(CADDY_KEY); // the change
    await t.reconciler.reconcile(CADDY_KEY); // the health poll
    expect(lines.filter((l) => l.includes('reconciled:'))).toEqual(['info reconciled: Caddy updated', 'debug reconciled: Caddy already up to date']);
  });

  it('retries when Caddy is unreachable, and marks the served ingresses Programmed=Unknown', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'a.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    await t.reconciler.reconcile(STATUSES_KEY);
    expect(t.statuses.condition('a.json', 'Programmed')).toMatchObject({ status: 'True' });
    t.caddy.unreachable = true;
    t.reconciler.verifyLiveConfig();
    const failed: Error[] = [];
    t.reconciler.events.on('caddySyncFailed', (error) => failed.push(error));
    const result = await t.reconciler.reconcile(CADDY_KEY);
    expect(result).toMatchObject({ kind: 'retry' });
    expect(failed).toHaveLength(1);
    expect(t.statuses.condition('a.json', 'Programmed')).toMatchObject({ status: 'Unknown', reason: 'CaddyUnavailable' });
  });
});

describe('Reconciler: the statuses key', () => {
  it('writes the statuses of the last sync, and steps aside (requeue 50 ms) while other work waits, for at most 2 s', async () => {
    const t = setup();
    for (let k = 0; k < 250; k++) await t.put(`i${k}.json`, ingress(`i${k}`, `h${k}.test`));
    await t.reconciler.reconcile(CADDY_KEY);
    t.state.othersWaiting = true;
    expect(await t.reconciler.reconcile(STATUSES_KEY)).toEqual({ kind: 'requeue', afterMs: 50 });
    const early = t.statuses.files.size;
    expect(early).toBeLessThan(250);
    t.clock.advance(2_000);
    expect(await t.reconciler.reconcile(STATUSES_KEY)).toEqual({ kind: 'done' });
    expect(t.statuses.files.size).toBe(250);
    expect(t.statuses.condition('i7.json', 'Programmed')).toMatchObject({ status: 'True' });
  });
});

/** An incremental evaluator that forgets hostname claims: what a rule added to one model and not the other would do. */
const forgetsHostnames: ClaimsFn = (resource, httpPort) => {
  const claims = claimsOf(resource, httpPort);
  return { ...claims, routes: [], slots: [claims.name, claims.id] };
};

describe('Reconciler: the crossCheck key', () => {
  it('asks for nothing until changes have been quiet for 5 s, then has the next Caddy sync cross-check; a correct state matches', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'shop.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    await t.put('b.json', ingress('b', 'other.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    t.enqueued.length = 0;
    t.clock.advance(4_999);
    expect(await t.reconciler.reconcile(CROSS_CHECK_KEY)).toEqual({ kind: 'done' });
    expect(t.enqueued).toEqual([]);
    t.clock.advance(1);
    expect(await t.reconciler.reconcile(CROSS_CHECK_KEY)).toEqual({ kind: 'done' });
    expect(t.enqueued).toEqual([CADDY_KEY]);
    await t.reconciler.reconcile(CADDY_KEY);
    expect(t.synced.at(-1)?.crossCheck).toEqual({ files: [], sections: [] });
    // Nothing unchecked is left: the key asks for nothing, and no later sync checks again.
    t.enqueued.length = 0;
    t.clock.advance(120_000);
    expect(await t.reconciler.reconcile(CROSS_CHECK_KEY)).toEqual({ kind: 'done' });
    expect(t.enqueued).toEqual([]);
  });

  it('catches an incremental evaluator that forgets a claim, and repairs the state and Caddy in the same sync', async () => {
    const t = setup({ claims: forgetsHostnames });
    await t.put('a.json', ingress('a', 'shop.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    // b claims a's hostname; the broken fast path lets it in beside a.
    await t.put('b.json', ingress('b', 'shop.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    expect(t.reconciler.evaluated()?.byFile.get('b.json')?.accepted).toBe(true);
    t.clock.advance(60_000);
    await t.reconciler.reconcile(CROSS_CHECK_KEY);
    await t.reconciler.reconcile(CADDY_KEY);
    expect(t.synced.at(-1)?.crossCheck).toEqual({ files: ['b.json'], sections: [] });
    expect(t.reconciler.evaluated()?.byFile.get('b.json')).toMatchObject({ accepted: false, issues: [expect.objectContaining({ code: 'hostname_in_use' })] });
    expect(t.caddy.hosts()).toEqual(['shop.test']);
    await t.reconciler.reconcile(STATUSES_KEY);
    expect(t.statuses.condition('b.json', 'Accepted')).toMatchObject({ status: 'False', reason: 'HostnameConflict' });
    expect(t.statuses.condition('a.json', 'Programmed')).toMatchObject({ status: 'True' });
  });

  it('checks at most once per interval while changes keep coming', async () => {
    const t = setup();
    await t.put('a.json', ingress('a', 'a.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    await t.put('b.json', ingress('b', 'b.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    t.clock.advance(60_000);
    await t.reconciler.reconcile(CROSS_CHECK_KEY);
    await t.reconciler.reconcile(CADDY_KEY);
    await t.put('c.json', ingress('c', 'c.test'));
    await t.reconciler.reconcile(CADDY_KEY);
    t.enqueued.length = 0;
    t.clock.advance(59_999);
    await t.reconciler.reconcile(CROSS_CHECK_KEY);
    expect(t.enqueued).toEqual([]);
    t.clock.advance(1);
    await t.reconciler.reconcile(CROSS_CHECK_KEY);
    expect(t.enqueued).toEqual([CADDY_KEY]);
  });
});
