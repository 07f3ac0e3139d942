/**
 * The HTTP API with API_TOKEN set, against a real `ingressd run` whose Caddy takes 2 s to start
 * (a wrapper script): /readyz answers 503 until the first sync, every endpoint but /healthz needs
 * the token, and TLS without ACME is refused with tls_not_configured.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { callApi, type ApiAnswer } from '../helpers/api-client.js';
import { killDaemons, removeDir, startIngressd, tempDir, waitFor, waitReady, type IngressdProcess } from '../helpers/processes.js';

const SECURED = { admin: 26119, dns: 26153, api: 26189 };
const [HTTP, TLS_PORT] = [26180, 26181];
const TOKEN = 'test-token-0123456789';
const codeOf = (answer: ApiAnswer): unknown => (answer.json as { code?: unknown } | undefined)?.code;
const rule = (hostname: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  match: { hostname, port },
  target: { instance: 'app', port: 26101 },
  ...extra,
});

describe('HTTP API with API_TOKEN, without ACME, with a Caddy that takes 2 s to start', () => {
  let base: string;
  let dataDir: string;
  let ingressd: IngressdProcess;
  const readyAnswers: ApiAnswer[] = [];

  beforeAll(async () => {
    base = await tempDir('api-token');
    dataDir = await tempDir('api-token-data');
    const wrapper = join(base, 'slow-caddy.sh');
    await writeFile(wrapper, '#!/bin/sh\nsleep 2\nexec caddy "$@"\n');
    await chmod(wrapper, 0o755);
    await mkdir(join(base, 'manifests'));
    ingressd = startIngressd({ dir: join(base, 'manifests'), dataDir, ports: SECURED, env: { API_TOKEN: TOKEN, CADDY_BINARY: wrapper } });
    // Poll /readyz from process start: connection refused until the API listens, then 503 until the first sync.
    await waitFor(
      '/readyz to answer 200',
      async () => {
        const answer = await callApi(SECURED.api, '/readyz', { token: TOKEN }).catch(() => undefined);
        if (answer !== undefined) readyAnswers.push(answer);
        return answer?.status === 200;
      },
      30_000,
      50,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answers: ${JSON.stringify(readyAnswers.slice(-2))}; ingressd output:\n${ingressd.output().slice(-4000)}`);
    });
    await waitReady(ingressd);
  });

  afterAll(async () => {
    await ingressd?.stop();
    await killDaemons(dataDir);
    await removeDir(base);
    await removeDir(dataDir);
  });

  test('/readyz answers 503 while Caddy starts, then 200', () => {
    const statuses = readyAnswers.map((a) => a.status);
    expect(statuses[0]).toBe(503);
    expect(statuses.at(-1)).toBe(200);
    expect(statuses.indexOf(200)).toBe(statuses.length - 1);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(5);
    expect(readyAnswers[0]?.json).toEqual({ ready: false, node: expect.any(String), reason: expect.stringMatching(/^waiting for the first sync/) });
    expect(readyAnswers.at(-1)?.json).toEqual({ ready: true, node: expect.any(String) });
  });

  test('every endpoint but /healthz needs the bearer token', async () => {
    expect(await callApi(SECURED.api, '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    for (const path of ['/ingresses', '/instances', '/readyz', '/metrics', '/nope']) {
      for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        const answer = await callApi(SECURED.api, path, authorization === undefined ? {} : { authorization });
        expect([path, answer.status, codeOf(answer), answer.headers['www-authenticate']]).toEqual([path, 401, 'unauthorized', 'Bearer realm="ingressd"']);
      }
    }
    expect((await callApi(SECURED.api, '/ingresses', { token: TOKEN })).status).toBe(200);
    expect((await callApi(SECURED.api, '/metrics', { authorization: `bearer ${TOKEN}` })).status).toBe(200);
  });

  test('with the token, creates work; TLS without ACME is tls_not_configured', async () => {
    const call = (path: string, method: string, body: unknown): Promise<ApiAnswer> => callApi(SECURED.api, path, { method, body, token: TOKEN });
    expect((await call('/instances/app', 'PUT', { address: '127.0.0.2' })).status).toBe(201);
    const created = await call('/ingresses', 'POST', { name: 'app', rules: [rule('app.test', HTTP)] });
    expect(created).toMatchObject({ status: 201, json: { name: 'app', status: { kind: 'Ingress' } } });
    const tls = await call('/ingresses', 'POST', { name: 'secure', rules: [rule('secure.test', TLS_PORT, { tls: true })] });
    expect([tls.status, codeOf(tls)]).toEqual([400, 'tls_not_configured']);
    expect((await readdir(join(base, 'manifests'))).sort()).toEqual(['app.instance.json', 'app.instance.status.json', 'app.json', 'app.status.json']);
  });
});
