/**
 * Child process (forked by backends.ts): one HTTP server per BACKEND_ADDRESSES entry on
 * BACKEND_PORT, answering `ok` with `x-backend: <its address>`. Reports `ready` over IPC, answers
 * `count` with the number of TCP connections accepted so far (each one is an upstream connection
 * Caddy opened), and exits when the parent goes away.
 */
import { createServer, type Server } from 'node:http';
import { BACKEND_ADDRESSES, BACKEND_PORT } from './ports.js';

let accepted = 0;

function listen(address: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2', 'x-backend': address });
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => accepted++);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(BACKEND_PORT, address, () => resolve(server));
  });
}

process.on('disconnect', () => process.exit(0));
process.on('message', (message: unknown) => {
  if (typeof message === 'object' && message !== null && 'kind' in message && message.kind === 'count') process.send?.({ kind: 'count', accepted });
});
Promise.all(BACKEND_ADDRESSES.map(listen)).then(
  () => process.send?.({ kind: 'ready' }),
  (err: unknown) => {
    process.stderr.write(`backends: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
