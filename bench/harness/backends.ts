/** Starts the backends process (backend-server.js) and stops it. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';
import { terminate } from './proc.js';

export interface Backends {
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startBackends(cleanup: Cleanup): Promise<Backends> {
  const child = fork(fileURLToPath(new URL('./backend-server.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not fork the backends process');
  const unregister = cleanup.add(`backends (pid ${pid})`, () => terminate(pid));
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the backends process exited (code ${code}); are 127.0.0.2-5:28201 free?`)));
  });
  return {
    pid,
    async stop() {
      await terminate(pid);
      unregister();
    },
  };
}
