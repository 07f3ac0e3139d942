/**
 * The benchmark's side of the load worker (load-worker.ts, a separate process so the load does
 * not share an event loop with the measurements). One plan at a time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';
import { isFromWorker, type FromWorker, type LoadPlan, type LoadReport, type ToWorker } from './load-protocol.js';
import { terminate } from './proc.js';

export interface RunningLoad {
  /** Ends the run; resolves with what was measured since the warm-up ended. */
  stop(): Promise<LoadReport>;
}

export class LoadGenerator {
  readonly #child: ChildProcess;
  readonly #unregister: () => void;
  #busy = false;

  private constructor(child: ChildProcess, unregister: () => void) {
    this.#child = child;
    this.#unregister = unregister;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  static start(cleanup: Cleanup): LoadGenerator {
    const child = fork(fileURLToPath(new URL('./load-worker.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not fork the load worker');
    return new LoadGenerator(child, cleanup.add(`load worker (pid ${pid})`, () => terminate(pid)));
  }

  /** Runs a plan with `durationMs > 0` to its end. */
  async run(plan: LoadPlan): Promise<LoadReport> {
    if (plan.durationMs <= 0) throw new Error('run() needs durationMs > 0; use begin() for open-ended load');
    const running = await this.begin(plan);
    return running.stop();
  }

  /**
   * Starts a plan and resolves once its warm-up is over (measurement running). With
   * `durationMs: 0` the load runs until `stop()`; otherwise `stop()` waits for its end.
   */
  async begin(plan: LoadPlan): Promise<RunningLoad> {
    if (this.#busy) throw new Error('the load worker is already running a plan');
    this.#busy = true;
    const result = this.#next('result');
    const started = this.#next('started');
    result.catch(() => undefined); // observed in stop(); an error also rejects `started`
    started.catch(() => undefined);
    this.#send({ kind: 'run', plan });
    try {
      await Promise.race([started, result]);
    } catch (err) {
      this.#busy = false;
      throw err;
    }
    return {
      stop: async () => {
        if (plan.durationMs === 0) this.#send({ kind: 'stop' });
        const message = await result;
        this.#busy = false;
        if (message.kind !== 'result') throw new Error('load worker: unexpected message');
        return message.result;
      },
    };
  }

  async stop(): Promise<void> {
    if (this.#child.pid !== undefined) await terminate(this.#child.pid);
    this.#unregister();
  }

  #send(message: ToWorker): void {
    this.#child.send(message);
  }

  #next(kind: FromWorker['kind']): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (!isFromWorker(message)) return;
        if (message.kind === 'error') {
          this.#child.off('message', onMessage);
          reject(new Error(`load worker: ${message.message}`));
        } else if (message.kind === kind) {
          this.#child.off('message', onMessage);
          resolve(message);
        }
      };
      this.#child.on('message', onMessage);
    });
  }
}
