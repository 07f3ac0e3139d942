#!/usr/bin/env node
/**
 * The `ingressd` command. Each subcommand lives in ./commands; errors are translated for a person
 * here, in one place: what failed, where, and what to do. Exit codes: 0 ok, 1 failure or problems
 * found, 2 usage or configuration error.
 */
import { isIngressdError } from '../model/errors.js';
import { UsageError, type CommandIo } from './commands/args.js';
import { diffCommand } from './commands/diff.js';
import { dnsCommand } from './commands/dns.js';
import { fleetCommand } from './commands/fleet.js';
import { getCommand } from './commands/get.js';
import { renderCommand } from './commands/render.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';

type Command = (io: CommandIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, { readonly run: Command; readonly summary: string }>> = {
  run: { run: runCommand, summary: 'watch a directory and keep Caddy serving its manifests' },
  validate: { run: validateCommand, summary: 'check manifest files without touching Caddy' },
  render: { run: renderCommand, summary: 'print the Caddy JSON for a directory of manifests' },
  diff: { run: diffCommand, summary: "show what run would change in Caddy's live config (changes nothing)" },
  get: { run: getCommand, summary: 'list ingresses and instances with their Ready status' },
  fleet: { run: fleetCommand, summary: "ask every node's API whether a fleet has converged (exit 1 until it has)" },
  dns: { run: dnsCommand, summary: 'run the instance DNS process (started by run)' },
};

export const MAIN_HELP = `Usage: ingressd <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run 'ingressd <command> --help' for a command's options.`;

export async function main(argv: readonly string[], io: Omit<CommandIo, 'argv'>): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${MAIN_HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(`ingressd: unknown command "${name}"\n\n${MAIN_HELP}\n`);
    return 2;
  }
  try {
    return await command.run({ ...io, argv: rest });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ingressd ${name}: ${err.message}\nRun 'ingressd ${name} --help' for usage.\n`);
      return 2;
    }
    if (isIngressdError(err, 'invalid_option')) {
      io.stderr(`ingressd ${name}: ${err.message}\n`);
      return 2;
    }
    if (isIngressdError(err)) {
      io.stderr(`ingressd ${name}: ${err.message}${err.file === undefined ? '' : ` (file: ${err.file})`}\n`);
      return 1;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      io.stderr(`ingressd ${name}: ${(err as Error).message}\nCheck that the path exists.\n`);
      return 2;
    }
    io.stderr(`ingressd ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  const code = await main(process.argv.slice(2), {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTty: process.stderr.isTTY === true,
  });
  process.exitCode = code;
}
