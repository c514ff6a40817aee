import { resolve } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseCommandArgs } from '../shared/args.ts';
import type { ConfigFile } from '../shared/config.ts';
import { loadConfigFile } from '../shared/config-file.ts';
import type { CliIo, Command } from './io.ts';

/** The flags every command that reads a config has: `--config FILE` and `-h, --help`. */
export const CONFIG_COMMAND_OPTIONS = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The flags of a command, as parseArgs gives them for its options. */
export type FlagValues<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseCommandArgs<O>>['values'];

/** What a command that reads a config starts from. */
export interface ConfigCommandLine<O extends ParseArgsOptionsConfig> {
  readonly values: FlagValues<O>;
  /** As given (`--config` over SECRETS_CONFIG); undefined when neither names one. */
  readonly configPath?: string;
  /** Read and validated; undefined when no config is named. */
  readonly config?: ConfigFile;
}

/** The config file to read: `--config` over SECRETS_CONFIG, trimmed; blank is none (as for every setting). */
export function configPathOf(flag: string | undefined, env: CliIo['env']): string | undefined {
  return (flag ?? env.SECRETS_CONFIG)?.trim() || undefined;
}

/**
 * A command that reads a config, with the prelude they share: its flags parsed strictly (a bad one is exit 2),
 * `--help` printing `usage` (exit 0), and the config file, when one is named, read and validated before `run`
 * (every problem with its path, exit 2).
 */
export function configCommand<const O extends ParseArgsOptionsConfig & typeof CONFIG_COMMAND_OPTIONS>(
  spec: { readonly name: string; readonly usage: string; readonly options: O },
  run: (line: ConfigCommandLine<O>, io: CliIo) => Promise<number>,
): Command {
  return async (args, io) => {
    const { values } = parseCommandArgs(spec.name, args, spec.options);
    const { help, config: flag } = values as { help?: boolean; config?: string };
    if (help) {
      io.stdout.write(spec.usage);
      return 0;
    }
    const configPath = configPathOf(flag, io.env);
    if (configPath === undefined) return run({ values }, io);
    return run({ values, configPath, config: await loadConfigFile(resolve(io.cwd, configPath)) }, io);
  };
}
