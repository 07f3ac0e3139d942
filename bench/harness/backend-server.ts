/**
 * Child process (forked by backends.ts): one HTTP server per BACKEND_ADDRESSES entry on
 * BACKEND_PORT, answering `ok` with `x-backend: <its address>`. Reports `ready` over IPC and
 * exits when the parent goes away.
 */
import { createServer, type Server } from 'node:http';
import { BACKEND_ADDRESSES, BACKEND_PORT } from './ports.js';

function listen(address: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2', 'x-backend': address });
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(BACKEND_PORT, address, () => resolve(server));
  });
}

process.on('disconnect', () => process.exit(0));
Promise.all(BACKEND_ADDRESSES.map(listen)).then(
  () => process.send?.({ kind: 'ready' }),
  (err: unknown) => {
    process.stderr.write(`backends: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
