import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

/**
 * parseArgs for a subcommand: strict, and a bad flag is a UsageError (exit 2) in one line pointing at --help.
 * parseArgs' messages name the flag only ("Unknown option '--x'"), never a value worth hiding.
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  command: string,
  args: readonly string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; see "secrets-init ${command} --help"`, { cause: err });
  }
}
