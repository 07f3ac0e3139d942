/**
 * `ingressd run --dir DIR`: the live loop. Runs until SIGINT/SIGTERM, then finishes the reconcile in
 * flight and exits; Caddy and the instance DNS keep serving unless CADDY_STOP_ON_SHUTDOWN=true.
 */
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { IngressdError } from '../../model/errors.js';
import { Controller } from '../controller.js';
import { createLogger } from '../logger.js';
import { OPTION_SPECS, resolveOptions, type Options } from '../options.js';
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
  await checkFiles(options);
  const secrets = OPTION_SPECS.filter((s) => s.secret).map((s) => io.env[s.env] ?? '').filter((s) => s.length > 0);
  const logger = createLogger({ level: options.log.level, format: options.log.format, secrets });
  const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
  const controller = new Controller(options, { logger, dnsCommand: [process.execPath, cli, 'dns'] });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string): void => {
    logger.info('stopping', { signal });
    stopping ??= controller.stop().then(
      () => logger.info('stopped'),
      (err: unknown) => logger.error('error while stopping', { error: String(err) }),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  await controller.start();
  await Promise.race([controller.whenReady(), waitFor(() => stopping !== undefined)]);
  if (stopping === undefined) logger.info('ready: the first sync with Caddy succeeded', { dir: options.manifestDir });
  await waitFor(() => stopping !== undefined);
  await stopping;
  return 0;
}

async function checkFiles(options: Options): Promise<void> {
  const root = options.render.tls.acme?.caRootPemFile;
  if (root !== undefined) {
    await access(root).catch((err: unknown) => {
      throw new IngressdError('invalid_option', `ACME_CA_ROOT "${root}" cannot be read: ${String(err)}`);
    });
  }
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
