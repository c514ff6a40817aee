import { errorLine, exitCodeOf } from '../shared/errors.ts';
import type { CliIo, Command } from './io.ts';
import { renderCommand } from './render-command.ts';

/**
 * Subcommands. `render`, the init container's start-up path and the default, is imported with this module (in the
 * bundle: the same chunk, one file fewer to load at a task start); the others are loaded on first use (one chunk,
 * cli/other-commands.ts), so `render` never parses the watcher, the ECS client, `inject`, `policy` or `check`.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  render: {
    summary: 'render secrets into the output directory and exit (the init job; default)',
    load: async () => renderCommand,
  },
  watch: {
    summary: 'redeploy ECS services whose secrets rotated (--once for a scheduled task)',
    load: async () => (await import('./other-commands.ts')).watchCommand,
  },
  inject: {
    summary: 'wire the init container into an ECS task definition JSON',
    load: async () => (await import('./other-commands.ts')).injectCommand,
  },
  policy: {
    summary: 'print least-privilege IAM policies for a config',
    load: async () => (await import('./other-commands.ts')).policyCommand,
  },
  check: {
    summary: 'validate a config; --remote also checks the secrets (key names only)',
    load: async () => (await import('./other-commands.ts')).checkCommand,
  },
};

export const USAGE = `Usage: secrets-init [COMMAND] [OPTIONS]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
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
  let name = 'render';
  let args = argv;
  if (first !== undefined && !first.startsWith('-')) {
    if (!(first in COMMANDS)) {
      io.stderr.write(`secrets-init: unknown command "${first}"; see "secrets-init --help"\n`);
      return 2;
    }
    name = first;
    args = rest;
  }
  try {
    const command = await COMMANDS[name]!.load();
    return await command(args, io);
  } catch (err) {
    io.stderr.write(`secrets-init ${name}: ${errorLine(err)}\n`);
    return exitCodeOf(err);
  }
}
