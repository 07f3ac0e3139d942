import { describe, expect, it } from '@jest/globals';
import type { Operation } from 'fast-json-patch';
import { redactOperation } from '../../src/cli/commands/diff.js';
import {
  formatAge,
  formatSections,
  formatTable,
  ingressRow,
  instanceRow,
  joinLimited,
  unreconciledStatus,
  type Entry,
} from '../../src/cli/commands/get.js';
import type { TlsSettings } from '../../src/model/settings.js';
import { evaluate } from '../../src/reconciler/evaluate.js';
import type { ResourceStatus } from '../../src/reconciler/status-types.js';
import { parseManifest } from '../../src/manifest/parse.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();
const NO_TLS: TlsSettings = { acme: undefined, acmeMissing: 'set ACME_EMAIL', challenge: 'dns-01', allowedDomains: [], httpPort: 80 };

function entry(doc: Record<string, unknown>, file: string, ready: { status: 'True' | 'False' | 'Unknown'; reason: string; since: string }): Entry {
  const manifest = parseManifest(file, JSON.stringify(doc));
  const status: ResourceStatus = {
    kind: manifest.kind ?? 'Unknown',
    name: manifest.name,
    id: manifest.resource?.id ?? '',
    file,
    observedGeneration: manifest.generation,
    conditions: [{ type: 'Ready', status: ready.status, reason: ready.reason, message: '', lastTransitionTime: ready.since }],
    errors: [],
  };
  return { status, resource: manifest.resource };
}

const WEB = entry(
  {
    kind: 'Ingress',
    name: 'web',
    rules: [
      { match: { hostname: 'web.example.com', port: 8080 }, target: { instance: 'app', port: 3000 } },
      { match: { hostname: 'www.example.com', port: 8080 }, target: { instance: 'app', port: 3000 } },
    ],
  },
  'web.json',
  { status: 'True', reason: 'Ready', since: ago(45) },
);
const APP = entry({ kind: 'Instance', name: 'app', address: '10.0.0.5' }, 'app.json', { status: 'False', reason: 'NameConflict', since: ago(7200) });

describe('formatAge: time since the Ready transition, kubectl style', () => {
  it.each<[string, string, string]>([
    ['now', '0s', ago(0)],
    ['45 seconds', '45s', ago(45)],
    ['59 seconds', '59s', ago(59)],
    ['one minute', '1m', ago(60)],
    ['12 minutes', '12m', ago(12 * 60 + 30)],
    ['59 minutes', '59m', ago(59 * 60 + 59)],
    ['one hour', '1h', ago(3600)],
    ['3 hours', '3h', ago(3 * 3600 + 59 * 60)],
    ['one day', '1d', ago(86_400)],
    ['5 days', '5d', ago(5 * 86_400 + 3600)],
    ['364 days', '364d', ago(364 * 86_400)],
    ['a year', '1y', ago(365 * 86_400)],
    ['a time in the future (clock skew)', '0s', ago(-30)],
    ['an unreadable time', '<unknown>', 'yesterday-ish'],
  ])('%s → %s', (_, expected, since) => {
    expect(formatAge(since, NOW)).toBe(expected);
  });
});

describe('joinLimited: HOSTS and TARGET cells', () => {
  it('shows <none> for no items', () => {
    expect(joinLimited([])).toBe('<none>');
  });
  it('joins items with commas when they fit', () => {
    expect(joinLimited(['a:80', 'b:80'], 20)).toBe('a:80,b:80');
  });
  it('keeps whole items and counts the rest when they do not fit', () => {
    expect(joinLimited(['alpha.test:80', 'beta.test:80', 'gamma.test:80'], 30)).toBe('alpha.test:80 + 2 more...');
  });
  it('cuts a single over-long item with an ellipsis', () => {
    const text = joinLimited(['a-very-long-hostname.example.com:8443'], 20);
    expect(text).toBe('a-very-long-hostnam…');
    expect(text.length).toBe(20);
  });
  it('never exceeds the width', () => {
    const hosts = Array.from({ length: 30 }, (_, i) => `host-${i}.example.com:80`);
    for (const width of [10, 25, 48, 80]) expect(joinLimited(hosts, width).length).toBeLessThanOrEqual(width);
  });
});

describe('formatTable: aligned columns', () => {
  it('pads every column to its widest cell, three spaces apart, without trailing spaces', () => {
    expect(formatTable([['NAME', 'READY', 'FILE'], ['a-long-name', 'True', 'x.json'], ['b', 'Unknown', '']])).toBe(
      'NAME          READY     FILE\n' + 'a-long-name   True      x.json\n' + 'b             Unknown\n',
    );
  });
});

describe('rows and sections', () => {
  it('an ingress row lists host:port and unique instance:port targets', () => {
    expect(ingressRow(WEB, NOW)).toEqual(['web', 'web.example.com:8080,www.example.com:8080', 'app:3000', 'True', 'Ready', '45s', 'web.json']);
  });
  it('an ingress row shows paths and joins several targets of a rule with +', () => {
    const shop = entry(
      {
        kind: 'Ingress',
        name: 'shop',
        rules: [
          { match: { hostname: 'shop.test', path: '/api/' }, targets: [{ instance: 'a1', port: 1 }, { instance: 'a2', port: 1 }] },
          { match: { hostname: 'shop.test', path: '/v1', path_type: 'exact' }, target: { instance: 'a1', port: 1 } },
        ],
      },
      'shop.json',
      { status: 'True', reason: 'Ready', since: ago(5) },
    );
    expect(ingressRow(shop, NOW).slice(0, 3)).toEqual(['shop', 'shop.test:80/api,shop.test:80/v1 (exact)', 'a1:1+a2:1,a1:1']);
  });
  it('an instance row shows its address', () => {
    expect(instanceRow(APP, NOW)).toEqual(['app', '10.0.0.5', 'False', 'NameConflict', '2h', 'app.json']);
  });
  it('an ingress that did not parse shows <none> for hosts and targets', () => {
    const broken = entry({ kind: 'Ingress', rules: 'nope' }, 'broken.json', { status: 'False', reason: 'Invalid', since: ago(5) });
    expect(ingressRow(broken, NOW)).toEqual(['broken', '<none>', '<none>', 'False', 'Invalid', '5s', 'broken.json']);
  });
  it('without a kind, prints both tables separated by a blank line', () => {
    const text = formatSections([WEB, APP], undefined, NOW);
    const [ingresses = '', instances = ''] = text.split('\n\n');
    expect(ingresses.startsWith('NAME   HOSTS')).toBe(true);
    expect(instances.startsWith('NAME   ADDRESS')).toBe(true);
  });
  it('says so when a section is empty, and prints only the section asked for', () => {
    expect(formatSections([WEB], undefined, NOW)).toContain('No instances found.');
    expect(formatSections([WEB, APP], 'Instance', NOW)).not.toContain('HOSTS');
  });
});

describe('unreconciledStatus: a manifest with no status file yet', () => {
  const manifests = [
    parseManifest('web.json', JSON.stringify({ rules: [{ match: { hostname: 'web.test' }, target: { instance: 'ghost', port: 80 } }] })),
    parseManifest('bad.json', JSON.stringify({ rules: [{ match: { hostname: 'not a host' }, target: { instance: 'x', port: 80 } }] })),
  ];
  const evaluated = evaluate(manifests, new Map(), NO_TLS);
  const ready = (file: string): ResourceStatus['conditions'][number] | undefined =>
    unreconciledStatus(evaluated.byFile.get(file)!, ago(10)).conditions.find((c) => c.type === 'Ready');

  it('is Ready=Unknown, NotReconciled, when the manifest is accepted (even with unresolved instances)', () => {
    expect(ready('web.json')).toMatchObject({ status: 'Unknown', reason: 'NotReconciled', lastTransitionTime: ago(10) });
  });
  it('is Ready=False with the rejection reason when the manifest is invalid', () => {
    expect(ready('bad.json')).toMatchObject({ status: 'False', reason: 'Invalid', lastTransitionTime: ago(10) });
  });
});

describe('redactOperation: secrets in diff output', () => {
  it('redacts a value at an api_token path', () => {
    const op: Operation = { op: 'replace', path: '/tls_policies/0/issuers/0/challenges/dns/provider/api_token', value: 'secret' };
    expect(redactOperation(op)).toEqual({ ...op, value: '<redacted>' });
  });
  it('redacts api_token anywhere inside an added value, leaving the rest', () => {
    const op: Operation = { op: 'add', path: '/tls_policies/0', value: { issuers: [{ provider: { name: 'cloudflare', api_token: 'secret' } }] } };
    expect(redactOperation(op)).toEqual({ ...op, value: { issuers: [{ provider: { name: 'cloudflare', api_token: '<redacted>' } }] } });
  });
  it('leaves operations without a value and ordinary values alone', () => {
    const remove: Operation = { op: 'remove', path: '/servers/ingress-80' };
    const replace: Operation = { op: 'replace', path: '/servers/ingress-80/listen/0', value: '127.0.0.1:80' };
    expect(redactOperation(remove)).toEqual(remove);
    expect(redactOperation(replace)).toEqual(replace);
  });
});
