/**
 * Everything one N needs, set up fresh: its manifests in a temp directory, a cold-started
 * `ingressd run` (which starts its own Caddy and DNS process), a Caddy-only instance, and the
 * renderer that produces the Caddy-only configs. Scenarios share it, in order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonObject } from '../../src/model/json.js';
import { getConfig } from './admin-client.js';
import type { Backends } from './backends.js';
import { CaddyOnly, serialize } from './caddy-only.js';
import type { Cleanup } from './cleanup.js';
import type { CaddyInfo } from '../../src/model/caddy-version.js';
import { ConfigRenderer, flatten, renderSettingsFor, sameOwned } from './configs.js';
import { waitUntilAnswered, type Target } from './http-client.js';
import { caddyWrites, daemonPids, Ingressd, ingressdEnv, stopDaemons } from './ingressd.js';
import type { LoadGenerator } from './load-generator.js';
import { exactIngress, generateWorkload, workloadIngress, writeManifests, type ManifestFile, type Workload } from './manifests.js';
import type { MoveResult } from './instance-move.js';
import { MachineMonitor, type OwnProcesses } from './machine.js';
import type { Plan } from './plan.js';
import { INGRESSD_ADMIN_PORT, MAIN_PORT } from './ports.js';
import { summarize, type Summary } from './stats.js';

export interface Shared {
  /** The frozen ingressd build every `ingressd run` executes. */
  readonly cli: string;
  readonly cleanup: Cleanup;
  readonly backends: Backends;
  readonly load: LoadGenerator;
  readonly plan: Plan;
  /** Where this N registers the pids it starts, so the machine monitor can tell them from others'. */
  readonly own: OwnProcesses;
  readonly monitor: MachineMonitor;
  /** The Caddy both sides run (`benchCaddy`): configs are rendered for it, as ingressd renders for its own. */
  readonly caddy: CaddyInfo;
}

/** Share of the machine other processes may use during a measurement before it is taken again. */
const MAX_OTHERS_SHARE = 0.15;

/** The one change scenarios 1, 2 and 8 make: ingress h1 moves between inst1 (A) and inst2 (B). */
export interface Toggle {
  readonly manifests: readonly [ManifestFile, ManifestFile];
  readonly targets: readonly [Target, Target];
  /** Caddy-only bodies of the whole rendered config in state A and B. */
  readonly bodies: readonly [string, string];
  readonly flatBodies: readonly [string, string];
}

export interface ColdStart {
  readonly startupMs: number;
  /** Spawn → the last workload host answering through ingressd's Caddy (before statuses are written). */
  readonly servingMs: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
  /** First sync → a status file written for every manifest. */
  readonly statusFilesMs: number;
  /** ingressd's live config (GET /config/) holds exactly what the benchmark renders for Caddy-only. */
  readonly configMatches: boolean;
}

export class SizeContext {
  readonly n: number;
  readonly shared: Shared;
  readonly workload: Workload;
  readonly root: string;
  readonly manifestDir: string;
  readonly dataDir: string;
  readonly renderer: ConfigRenderer;
  #caddyOnly: CaddyOnly;
  #caddyOnlyStarts = 1;
  readonly cold: ColdStart;
  #ingressd: Ingressd;
  #restarts = 0;
  #toggle: Toggle | undefined;
  #floor: Promise<Summary> | undefined;
  #noOp: Promise<Summary> | undefined;
  #sameRequest: Promise<Summary> | undefined;
  /** Instance-move results by upstream mode, so scenario 9 can reuse scenario 5's dns-mode run. */
  readonly moves = new Map<'dns' | 'static', MoveResult>();
  /** Measurements that other processes disturbed (> 15% of the machine) on every attempt. */
  readonly contaminated: { readonly label: string; readonly othersCpuShare: number }[] = [];

  private constructor(init: { n: number; shared: Shared; workload: Workload; root: string; renderer: ConfigRenderer; caddyOnly: CaddyOnly; ingressd: Ingressd; cold: ColdStart }) {
    this.n = init.n;
    this.shared = init.shared;
    this.workload = init.workload;
    this.root = init.root;
    this.manifestDir = join(init.root, 'manifests');
    this.dataDir = join(init.root, 'data');
    this.renderer = init.renderer;
    this.#caddyOnly = init.caddyOnly;
    this.#ingressd = init.ingressd;
    this.cold = init.cold;
  }

  static async create(n: number, shared: Shared): Promise<SizeContext> {
    const root = await mkdtemp(join(tmpdir(), `ingressd-bench-${n}-`));
    const dataDir = join(root, 'data');
    shared.cleanup.add(`Caddy and DNS of ingressd (${dataDir})`, () => stopDaemons(dataDir));
    const workload = generateWorkload(n);
    await writeManifests(join(root, 'manifests'), workload.files);
    const renderer = new ConfigRenderer(renderSettingsFor(ingressdEnv(dataDir), shared.caddy), workload.files);
    const caddyOnly = await CaddyOnly.start(join(root, 'caddy-only'), shared.cleanup);
    shared.own.add(caddyOnly.pid);
    const spawned = performance.now();
    const lastHost = workload.targets[workload.targets.length - 1]!;
    const giveUp = new AbortController();
    const serving = waitUntilAnswered(lastHost, 900_000, 20, giveUp.signal).then((at) => at - spawned, () => Number.NaN);
    const ingressd = await Ingressd.start({ cli: shared.cli, dir: join(root, 'manifests'), env: ingressdEnv(dataDir), logFile: join(root, 'ingressd-0.log'), cleanup: shared.cleanup }).catch((err: unknown) => {
      giveUp.abort();
      throw err;
    });
    setTimeout(() => giveUp.abort(), 10_000).unref(); // ready but not serving the last host: stop asking
    shared.own.add(ingressd.pid);
    const servingMs = await serving;
    const statusFilesMs = (await ingressd.statusFilesWritten(workload.files.length)) - ingressd.readyAt;
    const daemons = await daemonPids(dataDir);
    shared.own.add(daemons.caddy);
    shared.own.add(daemons.dns);
    await sleep(500);
    const memory = ingressd.memory();
    const configMatches = sameOwned(await getConfig(INGRESSD_ADMIN_PORT), renderer.render());
    const cold = { startupMs: ingressd.startupMs, servingMs, statusFilesMs, rssMb: memory.rssMb, peakRssMb: memory.peakRssMb, configMatches };
    return new SizeContext({ n, shared, workload, root, renderer, caddyOnly, ingressd, cold });
  }

  get caddyOnly(): CaddyOnly {
    return this.#caddyOnly;
  }

  /**
   * Replaces the Caddy-only instance with a new one that has made `warmLoads` untimed loads of the
   * toggle's bodies. A Caddy that once held the flat layout (3 MB of JSON at N=10,000) reloads
   * differently afterwards (measured: 30-34 ms or 51-68 ms by turns, against 29-37 ms for a Caddy
   * that never held it), while ingressd's Caddy never holds a flat config: the floor must come
   * from a Caddy with a history like ingressd's.
   */
  async renewCaddyOnly(warmLoads = 4): Promise<void> {
    this.shared.own.delete(this.#caddyOnly.pid);
    await this.#caddyOnly.stop();
    this.#caddyOnly = await CaddyOnly.start(join(this.root, `caddy-only-${++this.#caddyOnlyStarts}`), this.shared.cleanup);
    this.shared.own.add(this.#caddyOnly.pid);
    const { bodies } = this.toggle();
    for (let r = 0; r < warmLoads; r++) await this.#caddyOnly.load(bodies[r % 2]!);
  }

  get plan(): Plan {
    return this.shared.plan;
  }

  get ingressd(): Ingressd {
    return this.#ingressd;
  }

  /** Stops ingressd (SIGTERM) and starts it again with `overrides` on top of the default env. */
  async restartIngressd(overrides: Readonly<Record<string, string>> = {}): Promise<Ingressd> {
    await this.#ingressd.stop();
    return this.startIngressd(overrides);
  }

  /** Starts ingressd after `ingressd.stop()` (for scenarios that time the gap themselves). */
  async startIngressd(overrides: Readonly<Record<string, string>> = {}): Promise<Ingressd> {
    this.#restarts++;
    this.shared.own.delete(this.#ingressd.pid);
    this.#ingressd = await Ingressd.start({
      cli: this.shared.cli,
      dir: this.manifestDir,
      env: ingressdEnv(this.dataDir, overrides),
      logFile: join(this.root, `ingressd-${this.#restarts}.log`),
      cleanup: this.shared.cleanup,
    });
    this.shared.own.add(this.#ingressd.pid);
    return this.#ingressd;
  }

  /** Config writes ingressd's Caddy has received so far (from Caddy's log). */
  writes(): Promise<number> {
    return caddyWrites(this.dataDir);
  }

  /** The h1 inst1 ↔ inst2 change, with its Caddy-only bodies (rendered once per N). */
  toggle(): Toggle {
    if (this.#toggle === undefined) {
      const a = workloadIngress(1);
      const b = exactIngress('h1', a.target.host, MAIN_PORT, 2);
      const configB = this.renderer.put([b.manifest]).render();
      const configA = this.renderer.put([a.manifest]).render();
      this.#toggle = {
        manifests: [a.manifest, b.manifest],
        targets: [a.target, b.target],
        bodies: [serialize(configA), serialize(configB)],
        flatBodies: [serialize(flatten(configA)), serialize(flatten(configB))],
      };
    }
    return this.#toggle;
  }

  /** Caddy's floor at this N: POST /load of the config ingressd renders, each load a real change. Measured once. */
  floor(): Promise<Summary> {
    this.#floor ??= this.quietly('floor loads', () => this.timeLoads(this.toggle().bodies));
    return this.#floor;
  }

  /**
   * Runs an idempotent measurement; when other processes used more than 15% of the machine
   * meanwhile, waits for a quiet machine and takes it again (at most `retries` times, the plan's
   * `remeasureRetries`), keeping the run the others disturbed least.
   */
  async quietly<T>(label: string, measure: () => Promise<T>, retries = this.plan.remeasureRetries): Promise<T> {
    const { monitor } = this.shared;
    const attempt = async (): Promise<{ value: T; share: number }> => {
      const before = monitor.snapshot();
      const value = await measure();
      return { value, share: MachineMonitor.foreignShare(before, monitor.snapshot()) };
    };
    let best = await attempt();
    // With the wait budget spent (--quick), measuring again at once on a busy machine would only cost time.
    for (let retry = 0; retry < retries && best.share > MAX_OTHERS_SHARE && monitor.canWait; retry++) {
      await monitor.waitForQuiet(0.1, 60_000);
      const next = await attempt();
      if (next.share < best.share) best = next;
    }
    if (best.share > MAX_OTHERS_SHARE) this.contaminated.push({ label, othersCpuShare: best.share });
    return best.value;
  }

  /**
   * Caddy's cost of the very request ingressd's apply sends for one change: the whole config as
   * `POST /config/` with If-Match (after an untimed GET), alternating the A and B bodies. Measured once.
   */
  sameRequestFloor(): Promise<Summary> {
    this.#sameRequest ??= this.quietly("ingressd's write request on Caddy-only", async () => {
      const toggle = this.toggle();
      await this.caddyOnly.load(toggle.bodies[0]);
      const times: number[] = [];
      for (let r = 0; r < this.plan.floorReps; r++) times.push(await this.caddyOnly.post('', toggle.bodies[(r + 1) % 2]!));
      return summarize(times);
    });
    return this.#sameRequest;
  }

  /** Caddy's cost of a no-op: POST /load of the body it already holds ("config is unchanged"). Measured once. */
  noOpFloor(): Promise<Summary> {
    this.#noOp ??= this.quietly('no-op loads', async () => {
      const body = this.toggle().bodies[0];
      await this.caddyOnly.load(body);
      const times: number[] = [];
      for (let r = 0; r < this.plan.floorReps; r++) times.push(await this.caddyOnly.load(body));
      return summarize(times);
    });
    return this.#noOp;
  }

  /** Loads bodies[0] untimed, then `floorReps` timed loads alternating bodies[1], bodies[0], ... */
  async timeLoads(bodies: readonly [string, string], reps = this.plan.floorReps): Promise<Summary> {
    await this.caddyOnly.load(bodies[0]);
    const times: number[] = [];
    for (let r = 0; r < reps; r++) times.push(await this.caddyOnly.load(bodies[(r + 1) % 2]!));
    return summarize(times);
  }

  /** The current rendered config (dns mode) for the manifests as generated. */
  rendered(): JsonObject {
    return this.renderer.render();
  }

  async dispose(keepFiles: boolean): Promise<void> {
    await this.#ingressd.stop();
    await stopDaemons(this.dataDir);
    await this.#caddyOnly.stop();
    if (!keepFiles) await rm(this.root, { recursive: true, force: true });
  }
}

