/**
 * The apply algorithm (one write, isolation of rejected ingresses) against an in-memory stand-in
 * for Caddy's admin API. Real Caddy rejections are covered by the integration tests (port in use,
 * missing module); rejections that only a Caddy bug could cause are simulated here, which is the
 * only way to drive the bisection deterministically.
 */
import { describe, expect, test } from '@jest/globals';
import { IngressdError } from '../../src/model/errors.js';
import type { JsonObject } from '../../src/model/json.js';
import { applyDesired } from '../../src/reconciler/apply.js';
import { MemoryCaddy } from '../helpers/memory-caddy.js';

const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const renderWithout = (excluded: ReadonlySet<string>): JsonObject => ({
  apps: {
    http: {
      http_port: 80,
      https_port: 443,
      servers: { 'ingress-80': { routes: ids.filter((id) => !excluded.has(id)).map((id) => ({ match: [{ host: [`${id}.test`] }] })) } },
    },
  },
});
const input = (caddy: MemoryCaddy, knownGood: readonly string[] = []) => ({
  client: caddy,
  renderWithout,
  ingressIds: ids,
  ingressesOnPort: () => [],
  tlsIngressIds: [],
  knownGood: () => new Set(knownGood),
  preExcluded: new Map(),
});

describe('applyDesired', () => {
  test('makes one write when Caddy differs, and none when it already matches', async () => {
    const caddy = new MemoryCaddy([]);
    const first = await applyDesired(input(caddy));
    expect(first.writes).toBe(1);
    expect(caddy.writes).toBe(1);
    const second = await applyDesired(input(caddy));
    expect(second.writes).toBe(0);
    expect(second.changed).toEqual([]);
    expect(caddy.attempts).toBe(1);
  });

  test('bisects to the ingresses Caddy rejects and applies every other one', async () => {
    const caddy = new MemoryCaddy(['c.test', 'f.test']);
    const outcome = await applyDesired(input(caddy));
    expect([...outcome.excluded.keys()].sort()).toEqual(['c', 'f']);
    expect(outcome.excluded.get('c')).toMatchObject({ status: 'False', reason: 'ConfigRejected' });
    const served = JSON.stringify(caddy.config);
    for (const id of ['a', 'b', 'd', 'e', 'g']) expect(served).toContain(`${id}.test`);
    expect(outcome.applied).toEqual(caddy.config);
  });

  test('never takes a route that Caddy already serves away while bisecting new ingresses', async () => {
    const caddy = new MemoryCaddy([]);
    await applyDesired({ ...input(caddy), renderWithout: (ex) => renderWithout(new Set([...ex, 'g'])) });
    const poisoned = new MemoryCaddy(['g.test']);
    poisoned.config = caddy.config;
    const snapshots: string[] = [];
    const spy = poisoned.write.bind(poisoned);
    poisoned.write = async (...args) => {
      await spy(...args);
      snapshots.push(JSON.stringify(poisoned.config));
    };
    const outcome = await applyDesired(input(poisoned, ['a', 'b', 'c', 'd', 'e', 'f']));
    expect([...outcome.excluded.keys()]).toEqual(['g']);
    for (const snapshot of snapshots) for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) expect(snapshot).toContain(`${id}.test`);
  });

  test('leaves the ingresses on a busy port out without bisecting', async () => {
    const caddy = new MemoryCaddy([]);
    let failures = 0;
    const write = caddy.write.bind(caddy);
    caddy.write = async (...args) => {
      if (JSON.stringify(args[2]).includes('b.test') && failures++ < 10) throw new IngressdError('port_in_use', 'port 8080 is held', { port: 8080 });
      await write(...args);
    };
    const outcome = await applyDesired({ ...input(caddy), ingressesOnPort: (port) => (port === 8080 ? ['b'] : []) });
    expect([...outcome.excluded.keys()]).toEqual(['b']);
    expect(outcome.excluded.get('b')).toMatchObject({ reason: 'PortInUse' });
    expect(outcome.writes).toBe(1);
  });

  test('retries after a 412 from a concurrent change', async () => {
    const caddy = new MemoryCaddy([]);
    let conflicts = 0;
    const write = caddy.write.bind(caddy);
    caddy.write = async (...args) => {
      if (conflicts++ < 2) throw new IngressdError('precondition_failed', 'changed');
      await write(...args);
    };
    const outcome = await applyDesired(input(caddy));
    expect(outcome.writes).toBe(1);
  });

  test('propagates an unreachable Caddy instead of blaming ingresses', async () => {
    const caddy = new MemoryCaddy([]);
    caddy.write = async () => {
      throw new IngressdError('caddy_unavailable', 'connection refused');
    };
    await expect(applyDesired(input(caddy))).rejects.toMatchObject({ code: 'caddy_unavailable' });
  });
});
