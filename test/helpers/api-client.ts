/**
 * For HTTP API tests: requests with the path sent exactly as written (no URL normalisation), and a
 * strict parser of the Prometheus text exposition format (version 0.0.4) that throws on anything
 * malformed.
 */
import { request as httpRequest } from 'node:http';

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
}

export interface ApiCall {
  readonly method?: string;
  readonly body?: unknown;
  /** Sent as is instead of JSON.stringify(body). */
  readonly rawBody?: string | Buffer;
  readonly token?: string;
  readonly authorization?: string;
  readonly contentType?: string;
  /** Send the body chunked, without Content-Length. */
  readonly chunked?: boolean;
}

/** Calls 127.0.0.1:<port><path>; `path` goes on the wire byte for byte. */
export function callApi(port: number, path: string, call: ApiCall = {}): Promise<ApiAnswer> {
  const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  const headers: Record<string, string> = {};
  if (body !== undefined) {
    headers['content-type'] = call.contentType ?? 'application/json';
    if (call.chunked !== true) headers['content-length'] = String(Buffer.byteLength(body));
  }
  if (call.token !== undefined) headers['authorization'] = `Bearer ${call.token}`;
  if (call.authorization !== undefined) headers['authorization'] = call.authorization;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port, path, method: call.method ?? 'GET', headers, agent: false, timeout: 30_000 }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    // A server answering 413 early may reset the connection while we still write: keep the answer.
    req.on('error', (err) => (answered ? undefined : reject(err)));
    req.end(body);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL}=${LABEL_VALUE})(?:,${LABEL}=${LABEL_VALUE})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`);
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Readonly<Record<string, readonly string[]>> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count', ''] };

/**
 * Parses a text exposition strictly: HELP/TYPE at most once per family and before its samples,
 * families contiguous, names and labels well-formed, values numeric, no duplicate series,
 * histogram buckets cumulative and ending at `+Inf` equal to `_count`, final newline.
 */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${line}`);
    };
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta !== null) {
      const [, keyword, name = '', rest = ''] = meta;
      if (!new RegExp(`^${NAME}$`).test(name)) fail('bad metric name');
      let family = families.get(name);
      if (family === undefined) {
        family = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, family);
      } else if (family !== current || family.samples.length > 0) fail('HELP/TYPE after samples or for a family seen before');
      current = family;
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) fail('unknown type');
        Object.assign(family, { type: rest });
      } else Object.assign(family, { help: rest });
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line) ?? fail('malformed sample');
    const [, name = '', labelText = '', valueText = ''] = m;
    if (!VALUE.test(valueText)) fail('bad value');
    const family = current !== undefined && belongs(name, current) ? current : fail('sample outside its family');
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(new RegExp(`(${LABEL})=(${LABEL_VALUE})`, 'g'))) {
      if (pair[1]! in labels) fail('duplicate label');
      // Prometheus label escapes (backslash, quote, newline) are also JSON escapes.
      labels[pair[1]!] = JSON.parse(pair[2]!) as string;
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) fail('duplicate series');
    seen.add(key);
    family.samples.push({ name, labels, value: Number(valueText.replace('Inf', 'Infinity')) });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function belongs(sample: string, family: Family): boolean {
  const suffixes = SUFFIXES[family.type] ?? [''];
  return suffixes.some((s) => sample === `${family.name}${s}`);
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name.endsWith('_bucket') && le === undefined) throw new Error(`${family.name}: bucket without le`);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const samples of groups.values()) {
    const buckets = samples.filter((s) => s.name.endsWith('_bucket'));
    const count = samples.find((s) => s.name.endsWith('_count'))?.value;
    const bounds = buckets.map((b) => Number(b.labels['le']!.replace('Inf', 'Infinity')));
    if (bounds.at(-1) !== Infinity) throw new Error(`${family.name}: last bucket is not +Inf`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!) || buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family.name}: buckets not cumulative`);
    }
    if (buckets.at(-1)?.value !== count) throw new Error(`${family.name}: +Inf bucket differs from _count`);
    if (!samples.some((s) => s.name.endsWith('_sum'))) throw new Error(`${family.name}: no _sum`);
  }
}
