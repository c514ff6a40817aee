import { type RenderDeps, render } from '../init/render.ts';
import { type RenderFlags, type RenderSettings, resolveRenderSettings } from '../init/render-settings.ts';
import { logEvent } from '../shared/log-events.ts';
import { createLogger } from '../shared/logger.ts';
import { readRegularFile } from '../shared/read-regular-file.ts';
import { CONFIG_COMMAND_OPTIONS, configCommand, type FlagValues } from './command-line.ts';
import type { CliIo, Command } from './io.ts';
import { wireSources } from './sources.ts';

export const RENDER_USAGE = `Usage: secrets-init render [OPTIONS]

Renders secrets into SECRETS_DIR (app.env, gcp-credentials.json, mapped files, render.json) and exits.
Flags override environment variables, which override the config file.

Options (environment variable in brackets):
  --app-env local|production   [APP_ENV]            required; local reads only the dotenv file, no AWS call
  --secret-name IDS            [SECRET_NAME]        secret names/ARNs, comma-separated, merged in order, later wins
  --dotenv PATH                [DOTENV_PATH]        dotenv file (default .env; optional in production)
  --output-dir DIR             [SECRETS_DIR]        output directory (default /run/secrets)
  --required KEYS              [SECRETS_REQUIRED]   comma-separated keys that must be present and non-empty
  --mode MODE                  [SECRETS_FILE_MODE]  file mode, never world-accessible (default 0440)
  --owner UID:GID              [SECRETS_FILE_OWNER] chown the files (numeric ids)
  --timeout DURATION           [SECRETS_TIMEOUT]    deadline for reading the sources (default 30s, at most 1h)
  --config FILE                [SECRETS_CONFIG]     YAML config (sources, pins, renames, file mappings)
  --log-level LEVEL            [LOG_LEVEL]          pino level (default info)
  --watch                                           local development: re-render when the dotenv file changes
  -h, --help

Also read: AWS_REGION (required in production; AWS_DEFAULT_REGION is the fallback), AWS_ENDPOINT_URL[_SECRETS_MANAGER|_SSM], the SDK's credential chain.
Exit codes: 0 rendered, 2 usage/config, 3 source, 4 secret contents, 5 output.
`;

const OPTIONS = {
  ...CONFIG_COMMAND_OPTIONS,
  'app-env': { type: 'string' },
  'secret-name': { type: 'string' },
  dotenv: { type: 'string' },
  'output-dir': { type: 'string' },
  required: { type: 'string' },
  mode: { type: 'string' },
  owner: { type: 'string' },
  timeout: { type: 'string' },
  'log-level': { type: 'string' },
  watch: { type: 'boolean' },
} as const;

/** The flags as the settings take them (flags over environment over config). */
function renderFlags(values: FlagValues<typeof OPTIONS>): RenderFlags {
  return {
    appEnv: values['app-env'],
    secretName: values['secret-name'],
    dotenv: values.dotenv,
    outputDir: values['output-dir'],
    required: values.required,
    mode: values.mode,
    owner: values.owner,
    timeout: values.timeout,
    logLevel: values['log-level'],
  };
}

/** `secrets-init render`: the sources into the output directory once, or again on each dotenv edit (`--watch`). */
export const renderCommand: Command = configCommand(
  { name: 'render', usage: RENDER_USAGE, options: OPTIONS },
  async ({ values, config }, io) => {
    const settings = resolveRenderSettings(renderFlags(values), io.env, config, io.cwd);
    const deps = await renderDeps(settings, io);
    io.captureConsole?.((line) => logEvent(deps.logger, 'warn', 'library.console', {}, line));
    if (values.watch) {
      const { watchDotenv } = await import('../init/dotenv-watch.ts');
      return watchDotenv(settings, deps, io.shutdown);
    }
    await render(settings, deps, io.shutdown);
    return 0;
  },
);

/** The real adapters: a JSON logger on stdout, the clock, and the sources the settings name, wired. */
export async function renderDeps(settings: RenderSettings, io: CliIo): Promise<RenderDeps> {
  const logger = createLogger(settings.logLevel, io.stdout);
  const sources = await wireSources(settings, { logger, readFile: readRegularFile, dotenv: true });
  return { logger, now: () => new Date(), sources };
}
