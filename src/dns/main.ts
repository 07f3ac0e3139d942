/**
 * Standalone entry for the DNS process, with the flags the supervisor passes:
 * `node dist/src/dns/main.js --registry P --address A --port N --zone Z --state-file S [--log-file L]`.
 * The `ingressd dns` CLI command takes the same flags; this file lets the supervisor be
 * tested (and run) before and without the CLI. Exits 0 after SIGTERM/SIGINT, 1 on a start failure.
 */
import { parseArgs } from 'node:util';
import { runDnsProcess } from './process.js';

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      registry: { type: 'string' },
      address: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      zone: { type: 'string', default: 'ingressd.internal' },
      'state-file': { type: 'string' },
      'log-file': { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (values.registry === undefined || values['state-file'] === undefined) {
    throw new Error('--registry and --state-file are required');
  }
  if (!Number.isInteger(port)) throw new Error(`--port must be an integer, got ${JSON.stringify(values.port)}`);
  await runDnsProcess({
    registryPath: values.registry,
    address: values.address,
    port,
    zone: values.zone,
    stateFile: values['state-file'],
    ...(values['log-file'] === undefined ? {} : { logFile: values['log-file'] }),
  });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`ingressd dns: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
