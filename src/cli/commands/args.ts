/** Command-line parsing shared by every command: node's parseArgs plus one usage error type. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Flags } from '../../controller/options.js';
import { OPTION_SPECS } from '../../controller/options.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CommandIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTty: boolean;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The flags that override environment variables, valid on every command that reads configuration. */
export const CONFIG_FLAGS: OptionsConfig = Object.fromEntries(
  OPTION_SPECS.filter((s) => s.flag !== undefined).map((s) => [s.flag!, { type: 'string' as const }]),
);

export function parse(io: CommandIo, options: OptionsConfig, allowPositionals: boolean): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...io.argv],
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals,
      strict: true,
    });
    return { flags: values as Flags, positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

export function configFlagsHelp(): string {
  return OPTION_SPECS.filter((s) => s.flag !== undefined)
    .map((s) => `  --${s.flag!.padEnd(18)} ${s.description} (env ${s.env}, default ${s.defaultText})`)
    .join('\n');
}
