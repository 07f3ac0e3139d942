/**
 * `ingressd dns`: the instance DNS process. Started detached by `ingressd run` (and adopted by the
 * next run), it answers from the registry file the controller writes, so it keeps answering while
 * the controller restarts or upgrades.
 */
import { runDnsProcess } from '../../dns/process.js';
import { parse, UsageError, type CommandIo } from './args.js';

export const DNS_HELP = `Usage: ingressd dns --registry FILE --state-file FILE [--address 127.0.0.1] [--port 5353] [--zone ingressd.internal]

Serves A/AAAA records for <instance>.<zone> from FILE over UDP and TCP, reloading FILE when it
changes. Normally started by 'ingressd run'; you do not need to start it yourself.`;

export async function dnsCommand(io: CommandIo): Promise<number> {
  const { flags } = parse(
    io,
    {
      registry: { type: 'string' },
      'state-file': { type: 'string' },
      address: { type: 'string' },
      port: { type: 'string' },
      zone: { type: 'string' },
    },
    false,
  );
  if (flags['help']) {
    io.stdout(`${DNS_HELP}\n`);
    return 0;
  }
  const registryPath = flags['registry'];
  const stateFile = flags['state-file'];
  if (typeof registryPath !== 'string' || typeof stateFile !== 'string') throw new UsageError('dns needs --registry FILE and --state-file FILE');
  const port = Number(flags['port'] ?? 5353);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${String(flags['port'])}`);
  await runDnsProcess({
    registryPath,
    stateFile,
    address: typeof flags['address'] === 'string' ? flags['address'] : '127.0.0.1',
    port,
    zone: typeof flags['zone'] === 'string' ? flags['zone'] : 'ingressd.internal',
  });
  return 0;
}
