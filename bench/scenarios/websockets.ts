/**
 * 10. WebSockets across writes: what `stream_close_delay` costs Caddy. A Caddy of its own (the
 * binary in CADDY_BINARY, else `caddy` on PATH) behind a fresh `ingressd run` with 20 hosts; the
 * plan's `streamWrites` unrelated ingress changes, each waited for as one Caddy write (counted in
 * Caddy's log), under steady traffic (a WebSocket echo and a plain GET every 20 ms). Two runs:
 * - with streams: 100 WebSockets open, one closed and opened again after every write, so live
 *   streams are always spread over the last 100 configs, each of which Caddy must keep (the worst
 *   case for the delay: every old config with a stream stays in memory until the stream ends or
 *   the delay expires);
 * - without streams: the same writes and plain GETs, no WebSocket.
 * Caddy's RSS is sampled every 25 writes. STREAM_CLOSE_DELAY is ingressd's default (5m) on
 * Caddy 2.7+; older Caddy has no such field and cuts every stream on every write (counted).
 * Independent of N: run it once, e.g. `--only websockets --sizes 100`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { atLeast, formatCaddyVersion, parseCaddyVersion, SINCE } from '../../src/model/caddy-version.js';
import type { SizeContext } from '../harness/context.js';
import { figuresOf, reference, type FigureInput } from '../harness/figures.js';
import { caddyWrites, daemonPids, Ingressd, ingressdEnv, stopDaemons } from '../harness/ingressd.js';
import { writeManifests, type ManifestFile } from '../harness/manifests.js';
import { STREAMS_ADMIN_PORT, STREAMS_BACKEND, STREAMS_DNS_PORT, STREAMS_LISTEN_PORT } from '../harness/ports.js';
import { memoryOf } from '../harness/proc.js';
import { summarize } from '../harness/stats.js';
import { SocketPool, startEchoBackend, SteadyTraffic } from '../harness/websocket-load.js';
import type { Scenario } from './types.js';

const HOSTS = Array.from({ length: 20 }, (_, i) => `h${i}.streams.bench`);
const SOCKETS = 100;
const SAMPLE_EVERY = 25;

interface StreamsRun {
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly rssMaxMb: number;
  readonly peakMb: number;
  /** After every socket closed and 3 s passed. */
  readonly rssAfterCloseMb: number;
  readonly writes: number;
  readonly cut: number;
  readonly openAtEnd: number;
  readonly requests: number;
  readonly failures: number;
  readonly connectRetries: number;
  readonly writeMs: number[];
}

export const websocketsScenario: Scenario = {
  id: 10,
  name: 'websockets',
  async run(ctx) {
    const binary = process.env['CADDY_BINARY'] ?? 'caddy';
    const version = parseCaddyVersion(execFileSync(binary, ['version'], { encoding: 'utf8' }));
    const delay = atLeast(version, SINCE.streamCloseDelay) ? '5m' : '0';
    const backend = await startEchoBackend(STREAMS_BACKEND.host, STREAMS_BACKEND.port);
    try {
      const without = await streamsRun(ctx, binary, delay, false);
      const withStreams = await streamsRun(ctx, binary, delay, true);
      const caddy = `Caddy ${formatCaddyVersion(version)} (${binary}), STREAM_CLOSE_DELAY=${delay}`;
      const ref = (value: number) => reference('same writes, no WebSockets', value);
      const rows: FigureInput[] = [
        { name: `Caddy RSS after ${withStreams.writes} writes, ${SOCKETS} WebSockets`, unit: 'MB', value: withStreams.rssEndMb, reference: ref(without.rssEndMb), note: caddy },
        { name: '  Caddy RSS before the writes', unit: 'MB', value: withStreams.rssStartMb, reference: ref(without.rssStartMb) },
        { name: '  Caddy RSS, highest sample', unit: 'MB', value: withStreams.rssMaxMb, reference: ref(without.rssMaxMb), note: `every ${SAMPLE_EVERY} writes` },
        { name: '  Caddy peak RSS (VmHWM)', unit: 'MB', value: withStreams.peakMb, reference: ref(without.peakMb) },
        { name: '  Caddy RSS 3 s after the sockets closed', unit: 'MB', value: withStreams.rssAfterCloseMb, reference: ref(without.rssAfterCloseMb) },
        { name: '  WebSockets cut by a write', unit: 'count', value: withStreams.cut, note: `${withStreams.openAtEnd} of ${SOCKETS} open at the end` },
        { name: '  failed echoes / GETs under the writes', unit: 'count', value: withStreams.failures, reference: reference('no WebSockets (GETs)', without.failures), note: `of ${withStreams.requests} (${without.requests} without)` },
        { name: '  WebSocket handshakes retried', unit: 'count', value: withStreams.connectRetries, note: 'a socket is reopened right after each write, while Caddy reloads' },
        { name: '  change → Caddy write', unit: 'ms', value: summarize(withStreams.writeMs), reference: reference('no WebSockets', summarize(without.writeMs)) },
      ];
      return figuresOf('10 websockets', ctx.n, rows);
    } finally {
      await backend.close();
    }
  },
};

async function streamsRun(ctx: SizeContext, binary: string, delay: string, withStreams: boolean): Promise<StreamsRun> {
  const root = join(ctx.root, `streams-${withStreams ? 'with' : 'without'}`);
  const dir = join(root, 'manifests');
  const dataDir = join(root, 'data');
  await mkdir(root, { recursive: true });
  const rule = (hostname: string) => ({ match: { hostname, port: STREAMS_LISTEN_PORT }, target: { instance: 'echo', port: STREAMS_BACKEND.port } });
  await writeManifests(dir, [
    manifest('echo.json', { kind: 'Instance', name: 'echo', address: STREAMS_BACKEND.host }),
    manifest('hosts.json', { rules: HOSTS.map(rule) }),
  ]);
  const stopCaddy = ctx.shared.cleanup.add(`Caddy and DNS of scenario 10 (${dataDir})`, () => stopDaemons(dataDir));
  const env = ingressdEnv(dataDir, {
    CADDY_BINARY: binary,
    CADDY_ADMIN_PORT: String(STREAMS_ADMIN_PORT),
    INTERNAL_DNS_PORT: String(STREAMS_DNS_PORT),
    STREAM_CLOSE_DELAY: delay,
  });
  const ingressd = await Ingressd.start({ cli: ctx.shared.cli, dir, env, logFile: join(root, 'ingressd.log'), cleanup: ctx.shared.cleanup });
  const pool = withStreams ? new SocketPool(STREAMS_LISTEN_PORT, HOSTS) : undefined;
  try {
    const caddyPid = (await daemonPids(dataDir)).caddy;
    if (caddyPid === undefined) throw new Error('scenario 10: no Caddy pid file');
    ctx.shared.own.add(caddyPid);
    await pool?.open(SOCKETS);
    const traffic = new SteadyTraffic(STREAMS_LISTEN_PORT, HOSTS[0]!, pool, 20);
    await sleep(1000);
    const rssStartMb = memoryOf(caddyPid).rssMb;
    const samples = [rssStartMb];
    const writeMs: number[] = [];
    const before = await caddyWrites(dataDir);
    let writes = before;
    for (let w = 1; w <= ctx.plan.streamWrites; w++) {
      const started = performance.now();
      await writeManifests(dir, [manifest('change.json', { rules: [rule(`change-${w}.streams.bench`)] })]);
      writes = await nextWrite(dataDir, writes);
      writeMs.push(performance.now() - started);
      await pool?.churn(w);
      if (w % SAMPLE_EVERY === 0) samples.push(memoryOf(caddyPid).rssMb);
    }
    await traffic.stop();
    const memory = memoryOf(caddyPid);
    const openAtEnd = pool?.openCount() ?? 0;
    const cut = pool?.cut ?? 0;
    pool?.closeAll();
    await sleep(3000);
    return {
      rssStartMb,
      rssEndMb: memory.rssMb,
      rssMaxMb: Math.max(...samples, memory.rssMb),
      peakMb: memory.peakRssMb,
      rssAfterCloseMb: memoryOf(caddyPid).rssMb,
      writes: writes - before,
      cut,
      openAtEnd,
      requests: traffic.requests,
      failures: traffic.failures,
      connectRetries: pool?.connectRetries ?? 0,
      writeMs,
    };
  } finally {
    pool?.closeAll();
    await ingressd.stop();
    await stopDaemons(dataDir);
    stopCaddy();
  }
}

const manifest = (file: string, value: unknown): ManifestFile => ({ file, text: JSON.stringify(value) });

/** Caddy's write count once it has grown past `previous` (one file change = one write). */
async function nextWrite(dataDir: string, previous: number): Promise<number> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const now = await caddyWrites(dataDir);
    if (now > previous) return now;
    if (performance.now() > deadline) throw new Error(`scenario 10: no Caddy write within 15 s after change (${previous} so far)`);
    await sleep(5);
  }
}
