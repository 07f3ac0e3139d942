/**
 * The processes and files ingressd drives, started or adopted at start-up: the instance DNS
 * process (and its registry file), Caddy (and the file that keeps its last applied config).
 * Both processes are detached and outlive ingressd. The controller takes a `Runtime` as a
 * dependency, so its tests can run it against an in-memory Caddy.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stableStringify } from '../model/canonical.js';
import type { JsonObject } from '../model/json.js';
import type { Logger } from '../model/logger.js';
import type { Instance } from '../model/resource.js';
import { waitUntilAnswered } from '../dns/answered.js';
import { readRegistry, writeRegistry } from '../dns/registry-file.js';
import { ensureDnsProcess, type DnsProcessHandle } from '../dns/supervisor.js';
import { writeFileAtomic } from '../platform/atomic-file.js';
import { createCaddyClient, type CaddyClient } from '../reconciler/caddy-client.js';
import { ensureCaddy, type CaddyDaemon } from './caddy-daemon.js';
import { CaddyIdentity, type LearntCaddy } from './caddy-info.js';
import { withDnsPort, type Options } from './options.js';
import { checkStorageModule, storageWarning } from './startup-checks.js';

export interface Runtime {
  /** The options with the DNS process's real port (INTERNAL_DNS_PORT may be 0). */
  readonly options: Options;
  readonly caddyClient: CaddyClient;
  readonly caddy: Pick<CaddyDaemon, 'managed' | 'isProcessAlive' | 'restart' | 'stop'>;
  /** The DNS process as it is now (replaced by `restartDns`). */
  dns(): Pick<DnsProcessHandle, 'isAlive' | 'stop'> | undefined;
  /** Starts the DNS process again (after it exited) on the same port. */
  restartDns(): Promise<void>;
  /**
   * Writes the accepted instances to the DNS registry (atomically) and, in dns upstream mode,
   * resolves once the DNS process answers a new or changed one (at most DNS_ANSWER_WAIT_MS), so
   * the Caddy config that follows never names an instance the DNS does not know yet.
   */
  publishInstances(instances: readonly Instance[]): Promise<void>;
  /** Keeps the config Caddy holds on disk, so a restarted Caddy starts from it. */
  saveAppliedConfig(config: JsonObject): Promise<void>;
  /** Which Caddy runs (version, modules), and whether it changed since it was last learnt. */
  readonly caddyIdentity: { learn(): Promise<LearntCaddy>; changed(): Promise<boolean> };
}

/** Longest a publish waits for the DNS process to load the registry (its fallback poll runs every second). */
const DNS_ANSWER_WAIT_MS = 1_500;

/**
 * Starts (or adopts) the instance DNS, then Caddy; rejects with `dns_start_failed` /
 * `caddy_start_failed`, or `caddy_module_missing` when that Caddy cannot hold CADDY_STORAGE
 * (then a Caddy and a DNS process this call started are stopped again).
 */
export async function startRuntime(input: Options, dnsCommand: readonly string[], logger: Logger): Promise<Runtime> {
  await mkdir(join(input.dataDir, 'caddy'), { recursive: true, mode: 0o700 });
  const dnsOptions = { dataDir: input.dataDir, address: input.dns.address, port: input.dns.port, zone: input.dns.zone, command: dnsCommand };
  let dns = await ensureDnsProcess(dnsOptions);
  logger.info(dns.adopted ? 'adopted the running instance DNS' : 'started the instance DNS', { pid: dns.pid, port: dns.port });
  const options = withDnsPort(input, dns.port);

  const caddyClient = createCaddyClient({ adminAddress: options.caddy.adminAddress, adminPort: options.caddy.adminPort });
  const caddy = await ensureCaddy(
    { binary: options.caddy.binary, adminAddress: options.caddy.adminAddress, adminPort: options.caddy.adminPort, dataDir: options.dataDir, logger },
    caddyClient,
  );
  logger.info(caddy.origin === 'started' ? 'started Caddy' : 'adopted the running Caddy', { origin: caddy.origin, pid: caddy.pid, admin: caddyClient.adminUrl });

  const caddyIdentity = new CaddyIdentity({ binary: options.caddy.binary, pid: () => caddy.pid, adminPort: options.caddy.adminPort });
  try {
    const identity = await caddyIdentity.learn();
    checkStorageModule(options, identity);
    const caveat = storageWarning(options, identity);
    if (caveat !== undefined) logger.warn(caveat);
  } catch (err) {
    // Refused before the first write: take down what this start brought up, keep what it adopted.
    if (caddy.origin === 'started') await caddy.stop();
    if (!dns.adopted) await dns.stop();
    throw err;
  }
  const configFile = join(options.dataDir, 'caddy', 'config.json');
  /** name → address as the registry holds them (from the file an earlier run left, at first). */
  const published = new Map<string, string>();
  for (const r of (await readRegistry(dns.registryPath).catch(() => undefined))?.records ?? []) published.set(r.name, r.address);
  return {
    options,
    caddyClient,
    caddy,
    caddyIdentity,
    dns: () => dns,
    async restartDns() {
      try {
        dns = await ensureDnsProcess({ ...dnsOptions, port: options.dns.port });
        logger.warn('the instance DNS process had exited; started it again', { pid: dns.pid });
      } catch (err) {
        logger.error('could not restart the instance DNS', { error: String(err) });
      }
    },
    async publishInstances(instances) {
      const wrote = await writeRegistry(dns.registryPath, options.dns.zone, instances.map((i) => ({ name: i.name, id: i.id, address: i.address })));
      const fresh = instances.find((i) => published.get(i.name) !== i.address);
      published.clear();
      for (const i of instances) published.set(i.name, i.address);
      if (!wrote || fresh === undefined || options.render.upstreamMode !== 'dns') return;
      const fqdn = `${fresh.name}.${options.dns.zone}`;
      if (!(await waitUntilAnswered(options.dns.address, dns.port, fqdn, fresh.address, DNS_ANSWER_WAIT_MS))) {
        logger.warn('the instance DNS did not answer a new instance in time; Caddy is updated anyway (requests to it may fail until the DNS loads its registry)', { instance: fresh.name, waitedMs: DNS_ANSWER_WAIT_MS });
      }
    },
    saveAppliedConfig: (config) => writeFileAtomic(configFile, stableStringify(config), { mode: 0o600 }),
  };
}
