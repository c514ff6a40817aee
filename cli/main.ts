import { errorLine, exitCodeOf } from '../shared/errors.ts';
import type { CliIo, Command } from './io.ts';
import { renderCommand } from './render-command.ts';

/**
 * Subcommands. `render`, the init container's start-up path and the default, is imported with this module (in the
 * bundle: the same chunk, one file fewer to load at a task start); the others are loaded on first use (one chunk,
 * cli/other-commands.ts), so `render` never parses the watcher, the ECS client, `inject`, `policy` or `check`.
 */
const COMMANDS = {
  render: async () => renderCommand,
  watch: async () => (await import('./other-commands.ts')).watchCommand,
  inject: async () => (await import('./other-commands.ts')).injectCommand,
  policy: async () => (await import('./other-commands.ts')).policyCommand,
  check: async () => (await import('./other-commands.ts')).checkCommand,
} satisfies Record<string, () => Promise<Command>>;

type CommandName = keyof typeof COMMANDS;

/** What the usage text says of each command. */
const SUMMARIES: Record<CommandName, string> = {
  render: 'render secrets into the output directory and exit (the init job; default)',
  watch: 'redeploy ECS services whose secrets rotated (--once for a scheduled task)',
  inject: 'wire the init container into an ECS task definition JSON',
  policy: 'print least-privilege IAM policies for a config',
  check: 'validate a config; --remote also checks the secrets (key names only)',
};

export const USAGE = `Usage: secrets-init [COMMAND] [OPTIONS]

Commands:
${Object.entries(SUMMARIES)
  .map(([name, summary]) => `  ${name.padEnd(8)} ${summary}`)
  .join('\n')}

Run "secrets-init COMMAND --help" for the options of a command.
Exit codes: 0 ok, 2 usage/config, 3 source (AWS), 4 secret contents, 5 output.
`;

/** Dispatches argv to a subcommand and turns any error into one line on stderr plus its exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  let name: CommandName = 'render';
  let args = argv;
  if (first !== undefined && !first.startsWith('-')) {
    if (!isCommandName(first)) {
      io.stderr.write(`secrets-init: unknown command "${first}"; see "secrets-init --help"\n`);
      return 2;
    }
    name = first;
    args = rest;
  }
  try {
    const command = await COMMANDS[name]();
    return await command(args, io);
  } catch (err) {
    io.stderr.write(`secrets-init ${name}: ${errorLine(err)}\n`);
    return exitCodeOf(err);
  }
}

/** Own keys only: `toString` or `constructor` is no command. */
function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}
