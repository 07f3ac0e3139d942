/**
 * One place that undoes everything the benchmark started: every registered action runs, newest
 * first, exactly once, on normal exit, on failure, and on SIGINT/SIGTERM. Actions must be safe to
 * run when their process is already gone.
 */

type Action = () => Promise<void> | void;

export class Cleanup {
  readonly #actions = new Map<number, { readonly name: string; readonly action: Action }>();
  #next = 0;
  #running: Promise<void> | undefined;

  /** Registers an action; the returned function unregisters it (when its owner cleaned up itself). */
  add(name: string, action: Action): () => void {
    const id = this.#next++;
    this.#actions.set(id, { name, action });
    return () => void this.#actions.delete(id);
  }

  /** Runs every action once, newest first; errors are reported and do not stop the others. */
  runAll(): Promise<void> {
    this.#running ??= (async () => {
      const entries = [...this.#actions.entries()].sort(([a], [b]) => b - a);
      this.#actions.clear();
      for (const [, { name, action }] of entries) {
        try {
          await action();
        } catch (err) {
          process.stderr.write(`cleanup: ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
    })();
    return this.#running;
  }

  /** On SIGINT/SIGTERM: clean up, then exit with 128 + signal number. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals, code: number): void => {
      process.stderr.write(`\nbench: ${signal}: stopping every process the benchmark started...\n`);
      void this.runAll().finally(() => process.exit(code));
    };
    process.once('SIGINT', () => onSignal('SIGINT', 130));
    process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  }
}

/** Sends `signal` to `pid`; false when it is already gone or not ours. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
