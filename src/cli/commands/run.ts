/**
 * `ingressd run --dir DIR`: the live loop. Runs until SIGINT/SIGTERM, then finishes the reconcile in
 * flight and exits; Caddy and the instance DNS keep serving unless CADDY_STOP_ON_SHUTDOWN=true.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTail, withAcmeErrors } from '../../controller/acme-errors.js';
import { createCertificateProbe } from '../../controller/certificate-probe.js';
import { Controller } from '../../controller/controller.js';
import { createMetrics } from '../../controller/metrics.js';
import { providerSecret } from '../../model/settings.js';
import { discardLastValid } from '../../reconciler/last-valid-file.js';
import { startApiServer, type ApiServer } from '../../api/server.js';
import { createLogger } from '../../controller/logger.js';
import { OPTION_SPECS, resolveOptions } from '../../controller/options.js';
import { checkOptionFiles, checkStartup } from '../../controller/startup-checks.js';
import { storageSecrets } from '../../controller/storage-options.js';
import { CONFIG_FLAGS, configFlagsHelp, parse, UsageError, type CommandIo } from './args.js';

export const RUN_HELP = `Usage: ingressd run --dir DIR [options]

Watches DIR for manifests and keeps Caddy serving them. Starts (or adopts) Caddy and the instance
DNS process, which both keep running when ingressd stops, so restarts never drop a request.

Options:
${configFlagsHelp()}

Every option can also be set by environment variable; see README.md for the full table.`;

export async function runCommand(io: CommandIo): Promise<number> {
  const { flags } = parse(io, CONFIG_FLAGS, false);
  if (flags['help']) {
    io.stdout(`${RUN_HELP}\n`);
    return 0;
  }
  const options = resolveOptions(io.env, flags, { cwd: io.cwd, isTty: io.isTty });
  if (options.manifestDir === '') throw new UsageError('run needs --dir DIR (or MANIFEST_DIR): the directory of manifests to watch');
  await checkOptionFiles(options);
  const secrets = [
    ...OPTION_SPECS.filter((s) => s.secret).map((s) => io.env[s.env] ?? ''),
    ...storageSecrets(options.render.storage, io.env['CADDY_STORAGE']),
  ].filter((s) => s.length > 0);
  const logger = createLogger({ level: options.log.level, format: options.log.format, secrets });
  if (options.fallback === 'none') discardLastValid(options.dataDir, logger);
  const cli = fileURLToPath(new URL('../main.js', import.meta.url));
  const metrics = createMetrics(options.node);
  let api: ApiServer | undefined;
  const controller = new Controller(options, {
    logger,
    dnsCommand: [process.execPath, cli, 'dns'],
    // A pending certificate's message gains Caddy's last ACME error, from the log of the Caddy ingressd starts.
    probeCertificates: withAcmeErrors(
      createCertificateProbe({ listenAddress: options.render.listenAddress }),
      () => readTail(join(options.dataDir, 'caddy', 'caddy.log')),
      providerSecret(options.render.tls.acme?.dnsProvider),
    ),
  });
  metrics.observe(controller);

  let stopping: Promise<void> | undefined;
  const stop = (signal: string): void => {
    logger.info('stopping', { signal });
    stopping ??= Promise.resolve(api?.close()).then(() => controller.stop()).then(
      () => logger.info('stopped'),
      (err: unknown) => logger.error('error while stopping', { error: String(err) }),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  // The API starts first so /healthz and /readyz (503) answer while Caddy and the DNS process start.
  if (options.api.enabled) api = await startApiServer({ ...options.api, controller, metrics, logger });
  await controller.start().catch(async (err: unknown) => {
    await api?.close();
    throw err;
  });
  checkStartup(options, controller.reconciler.files().flatMap((file) => controller.reconciler.manifest(file) ?? []), logger);
  await Promise.race([controller.whenReady(), waitFor(() => stopping !== undefined)]);
  if (stopping === undefined) logger.info('ready: the first sync with Caddy succeeded', { dir: options.manifestDir });
  await waitFor(() => stopping !== undefined);
  await stopping;
  return 0;
}

function waitFor(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
  });
}
