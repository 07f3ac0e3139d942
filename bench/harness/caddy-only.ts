/**
 * The Caddy-only instance: a plain `caddy run` with no ingressd around it, admin on
 * CADDY_ONLY_ADMIN_PORT, for Caddy's own figures (floor loads, raw reloads, routing, throughput).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JsonObject } from '../../src/model/json.js';
import { adminAnswers, timedConditionalPost, timedLoad } from './admin-client.js';
import type { Cleanup } from './cleanup.js';
import { forCaddyOnly } from './configs.js';
import { CADDY_ONLY_ADMIN_PORT, LOOPBACK } from './ports.js';
import { memoryOf, terminate } from './proc.js';

export class CaddyOnly {
  readonly #child: ChildProcess;
  readonly #pid: number;
  readonly #unregister: () => void;

  private constructor(child: ChildProcess, pid: number, unregister: () => void) {
    this.#child = child;
    this.#pid = pid;
    this.#unregister = unregister;
  }

  /** Starts `caddy run` (the Caddy of `benchCaddy`) with only an admin listener; files (log, XDG dirs) go under `dir`. */
  static async start(dir: string, cleanup: Cleanup): Promise<CaddyOnly> {
    await mkdir(join(dir, 'xdg-data'), { recursive: true });
    await mkdir(join(dir, 'xdg-config'), { recursive: true });
    const configFile = join(dir, 'initial.json');
    await writeFile(configFile, JSON.stringify({ admin: { listen: `${LOOPBACK}:${CADDY_ONLY_ADMIN_PORT}` } }));
    const log = openSync(join(dir, 'caddy.log'), 'a');
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, XDG_DATA_HOME: join(dir, 'xdg-data'), XDG_CONFIG_HOME: join(dir, 'xdg-config') };
    const child = spawn(benchCaddy(), ['run', '--config', configFile], { stdio: ['ignore', log, log], env });
    closeSync(log);
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not start caddy (is it installed?)');
    const unregister = cleanup.add(`caddy-only (pid ${pid})`, () => terminate(pid));
    const deadline = Date.now() + 10_000;
    while (!(await adminAnswers(CADDY_ONLY_ADMIN_PORT))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`caddy-only did not start; see ${join(dir, 'caddy.log')}`);
      await sleep(50);
    }
    return new CaddyOnly(child, pid, unregister);
  }

  get pid(): number {
    return this.#pid;
  }

  /** `POST /load` of a serialised full config (see `serialize`); wall time in ms. */
  load(body: string): Promise<number> {
    return timedLoad(CADDY_ONLY_ADMIN_PORT, body);
  }

  /** `POST /config/<path>` with If-Match (ingressd writes the whole config at `''`); wall time in ms. */
  post(path: string, body: string): Promise<number> {
    return timedConditionalPost(CADDY_ONLY_ADMIN_PORT, path, body);
  }

  rssMb(): number {
    return memoryOf(this.#pid).rssMb;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) await terminate(this.#pid);
    this.#unregister();
  }
}

/** An ingressd-owned slice as the full body the Caddy-only instance loads. */
export function serialize(config: JsonObject): string {
  return JSON.stringify(forCaddyOnly(config));
}

/**
 * The Caddy both sides of the benchmark run: `CADDY_BINARY` when set (a build from
 * `npm run build:caddy`, say), else `caddy` on PATH. ingressd is given the same one.
 */
export function benchCaddy(): string {
  return process.env['CADDY_BINARY'] ?? 'caddy';
}
