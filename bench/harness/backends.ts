/** Starts the backends process (backend-server.js), asks it for its connection count, stops it. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './cleanup.js';
import { terminate } from './proc.js';

export interface Backends {
  readonly pid: number;
  /** TCP connections the backends accepted since they started (= upstream connections Caddy opened). */
  acceptedConnections(): Promise<number>;
  stop(): Promise<void>;
}

function isCount(message: unknown): message is { kind: 'count'; accepted: number } {
  return typeof message === 'object' && message !== null && 'kind' in message && message.kind === 'count' && 'accepted' in message && typeof message.accepted === 'number';
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
    acceptedConnections: () =>
      new Promise((resolve) => {
        const onMessage = (message: unknown): void => {
          if (!isCount(message)) return;
          child.off('message', onMessage);
          resolve(message.accepted);
        };
        child.on('message', onMessage);
        child.send({ kind: 'count' });
      }),
    async stop() {
      await terminate(pid);
      unregister();
    },
  };
}
