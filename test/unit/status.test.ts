import { describe, expect, test } from '@jest/globals';
import type { Issue } from '../../src/model/issues.js';
import type { Manifest } from '../../src/model/manifest.js';
import type { Evaluation } from '../../src/reconciler/evaluate.js';
import { acceptedSinceOf, buildStatus } from '../../src/reconciler/status.js';
import type { ProgramState, ResourceStatus } from '../../src/reconciler/status-types.js';

const manifest: Manifest = {
  file: 'web.json',
  kind: 'Ingress',
  name: 'web',
  generation: 'gen-1',
  resource: { kind: 'Ingress', id: 'abc', name: 'web', rules: [{ match: { hostname: 'web.test', port: 80 }, target: { instance: 'app', port: 8080 }, tls: false, redirect_http: false }] },
  issues: [],
};
const programmed: ProgramState = { status: 'True', reason: 'Programmed', message: 'served' };
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:05:00.000Z';

function evaluation(accepted: boolean, issues: Issue[] = []): Evaluation {
  return { manifest, accepted, issues };
}
function conditionOf(status: ResourceStatus, type: string) {
  return status.conditions.find((c) => c.type === type);
}

describe('buildStatus', () => {
  test('Ready is True only when Accepted, ResolvedRefs and Programmed are all True', () => {
    const status = buildStatus({ evaluation: evaluation(true), program: programmed, routes: [], certificates: undefined, previous: undefined, now: T0 });
    expect(status.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Accepted', 'True'],
      ['ResolvedRefs', 'True'],
      ['Programmed', 'True'],
      ['Ready', 'True'],
    ]);
    expect(status.observedGeneration).toBe('gen-1');
  });

  test('a rejected manifest is Accepted=False with the reason of its first blocking issue', () => {
    const issues: Issue[] = [{ code: 'hostname_in_use', path: '/rules/0/match/hostname', message: 'held by other.json' }];
    const status = buildStatus({ evaluation: evaluation(false, issues), program: { status: 'False', reason: 'NotAccepted', message: 'x' }, routes: undefined, certificates: undefined, previous: undefined, now: T0 });
    expect(conditionOf(status, 'Accepted')).toMatchObject({ status: 'False', reason: 'HostnameConflict' });
    expect(conditionOf(status, 'Accepted')?.message).toContain('held by other.json');
    expect(conditionOf(status, 'ResolvedRefs')?.status).toBe('Unknown');
    expect(conditionOf(status, 'Ready')).toMatchObject({ status: 'False', reason: 'HostnameConflict' });
    expect(status.errors).toEqual(issues);
  });

  test('an unknown instance makes ResolvedRefs False without blocking Programmed', () => {
    const issues: Issue[] = [{ code: 'instance_not_found', path: '/rules/0/target/instance', message: 'no instance app' }];
    const status = buildStatus({ evaluation: evaluation(true, issues), program: programmed, routes: [], certificates: undefined, previous: undefined, now: T0 });
    expect(conditionOf(status, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InstanceNotFound' });
    expect(conditionOf(status, 'Programmed')?.status).toBe('True');
    expect(conditionOf(status, 'Ready')).toMatchObject({ status: 'False', reason: 'InstanceNotFound' });
  });

  test('Ready is Unknown when the first condition that is not True is Unknown', () => {
    const status = buildStatus({ evaluation: evaluation(true), program: { status: 'Unknown', reason: 'CaddyUnavailable', message: 'down' }, routes: [], certificates: undefined, previous: undefined, now: T0 });
    expect(conditionOf(status, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'CaddyUnavailable' });
  });

  test('lastTransitionTime moves only when a condition status flips', () => {
    const first = buildStatus({ evaluation: evaluation(true), program: programmed, routes: [], certificates: undefined, previous: undefined, now: T0 });
    const same = buildStatus({ evaluation: evaluation(true), program: { ...programmed, message: 'other words' }, routes: [], certificates: undefined, previous: first, now: T1 });
    expect(same.conditions.every((c) => c.lastTransitionTime === T0)).toBe(true);
    const flipped = buildStatus({ evaluation: evaluation(true), program: { status: 'False', reason: 'PortInUse', message: 'busy' }, routes: [], certificates: undefined, previous: first, now: T1 });
    expect(conditionOf(flipped, 'Programmed')?.lastTransitionTime).toBe(T1);
    expect(conditionOf(flipped, 'Ready')?.lastTransitionTime).toBe(T1);
    expect(conditionOf(flipped, 'Accepted')?.lastTransitionTime).toBe(T0);
  });

  test('TLS ingresses get CertificateReady, and Ready waits for it', () => {
    const pending = buildStatus({ evaluation: evaluation(true), program: programmed, routes: [], certificates: [{ hostname: 'web.test', served: false, message: 'obtaining' }], previous: undefined, now: T0 });
    expect(conditionOf(pending, 'CertificateReady')).toMatchObject({ status: 'False', reason: 'CertificatePending' });
    expect(conditionOf(pending, 'Ready')?.status).toBe('False');
    const served = buildStatus({ evaluation: evaluation(true), program: programmed, routes: [], certificates: [{ hostname: 'web.test', served: true, notAfter: T1, issuer: 'Pebble', message: 'ok' }], previous: pending, now: T1 });
    expect(conditionOf(served, 'CertificateReady')?.status).toBe('True');
    expect(conditionOf(served, 'Ready')?.status).toBe('True');
  });

  test('acceptedSinceOf reads the Accepted transition time only when Accepted is True', () => {
    const accepted = buildStatus({ evaluation: evaluation(true), program: programmed, routes: [], certificates: undefined, previous: undefined, now: T0 });
    expect(acceptedSinceOf(accepted)).toBe(Date.parse(T0));
    const rejected = buildStatus({ evaluation: evaluation(false, [{ code: 'invalid_request', path: '', message: 'bad' }]), program: programmed, routes: undefined, certificates: undefined, previous: undefined, now: T0 });
    expect(acceptedSinceOf(rejected)).toBeUndefined();
    expect(acceptedSinceOf(undefined)).toBeUndefined();
  });
});
