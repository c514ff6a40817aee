import { planLayers } from '../init/render.ts';
import { resolveRenderSettings } from '../init/render-settings.ts';
import { type Layer, shownKey } from '../init/secret-value.ts';
import { createEcsClient } from '../shared/aws-clients.ts';
import { requestTimeoutFor } from '../shared/client-settings.ts';
import { withDeadline } from '../shared/deadline.ts';
import { ExitCode, errorLine, exitCodeOf, SecretsInitError, UsageError } from '../shared/errors.ts';
import { createLogger } from '../shared/logger.ts';
import { readRegularFile } from '../shared/read-regular-file.ts';
import { REGION_REQUIRED, regionFromEnv } from '../shared/region.ts';
import { type ClusterFailure, checkClusters } from './check-cluster.ts';
import { CONFIG_COMMAND_OPTIONS, configCommand } from './command-line.ts';
import type { Command } from './io.ts';
import { wireSources } from './sources.ts';

export const CHECK_USAGE = `Usage: secrets-init check [--config FILE] [--remote] [--cluster NAME]...

Validates a config (every problem with its path; exit 2). With --remote it also reads every source exactly as
render would (Secrets Manager secrets, SSM parameters and parameter paths) and reports, per source, whether it
exists and is readable and which keys it holds, then whether the merged keys pass render's validation (required
keys, names, deny list, GCP key). It reads no dotenv file. It prints key names only, never a value, and writes
nothing.
With --cluster it reads the cluster's services as watch discovers them and prints each binding (the secret ids of
the secrets-init/secrets tags) and what is wrong with it (a comma, more than 256 characters, ...).

Options:
  --config FILE       the YAML config                        (env SECRETS_CONFIG)
  --remote            read the sources (needs AWS_REGION or AWS_DEFAULT_REGION and read access, like render)
  --secret-name IDS   check these secrets instead of spec.sources  (env SECRET_NAME)
  --required KEYS     comma-separated keys that must be present    (env SECRETS_REQUIRED)
  --cluster NAME      print the tag bindings of the cluster's services; repeatable (needs AWS_REGION or
                      AWS_DEFAULT_REGION and ecs:ListServices, ecs:DescribeServices, like watch)
  -h, --help

Exit codes: 0 all good, 2 config or a binding watch would skip, 3 a source or a cluster is missing or unreadable,
4 secret contents would fail render.
`;

const OPTIONS = {
  ...CONFIG_COMMAND_OPTIONS,
  remote: { type: 'boolean' },
  'secret-name': { type: 'string' },
  required: { type: 'string' },
  cluster: { type: 'string', multiple: true },
} as const;

const CLUSTER_CHECK = { timeoutMs: 30_000, concurrency: 10 };

/** `secrets-init check`: the config alone, or with --remote the secrets it names (key names only). */
export const checkCommand: Command = configCommand(
  { name: 'check', usage: CHECK_USAGE, options: OPTIONS },
  async ({ values, configPath, config }, io) => {
    const out = (line: string) => io.stdout.write(`${line}\n`);
    if (config) {
      const clusters = config.watch?.clusters ?? [];
      out(
        `config "${configPath}": valid (${config.sources.length} sources, ${config.files.length} file mappings, ` +
          `${config.required.length} required keys, ${clusters.length} clusters to watch)`,
      );
    }
    const clusters = values.cluster ?? [];
    let worst: number = ExitCode.ok;
    const failed: string[] = [];
    const fail = (code: number, what: string) => {
      worst = Math.max(worst, code);
      failed.push(what);
    };
    if (clusters.length > 0) {
      for (const f of await clusterBindings(clusters, io.env, out)) fail(f.code, f.line);
    }
    if (!values.remote) {
      if (!config && clusters.length === 0) {
        throw new UsageError(
          'nothing to check: give --config FILE (and --remote to read the secrets) or --cluster NAME',
        );
      }
      return verdict(worst, failed, out);
    }

    const settings = resolveRenderSettings(
      {
        appEnv: 'production',
        secretName: values['secret-name'],
        required: values.required,
      },
      io.env,
      config,
      io.cwd,
    );
    const logger = createLogger('silent', io.stdout);
    io.captureConsole?.((line) => out(`warning (printed by a library): ${line}`));
    // The config's sources exactly as render wires and reads them (one batch for all), one verdict each.
    const sources = await wireSources(settings, { logger, readFile: readRegularFile, dotenv: false });
    const verdicts = await withDeadline(
      { timeoutMs: settings.timeoutMs, what: 'check', stopNote: 'before the check was done', stop: io.shutdown },
      async (signal) => (await Promise.all(sources.map((s) => s.read(signal)))).flat(),
    );
    const layers: Layer[] = [];
    for (const v of verdicts) {
      if (!v.read.ok) {
        const line = `${v.subject}: ${v.read.error}`;
        out(line);
        fail(ExitCode.source, line);
        continue;
      }
      const { layer, version } = v.read.value;
      layers.push(layer);
      const keys = [...layer.entries.keys()].sort().map(shownKey).join(', ') || '(none)';
      // A path has no version of its own (render.json records each of its parameters').
      out(`${v.subject}: readable, ${version ? `version ${version}, ` : ''}keys: ${keys}`);
      for (const p of v.problems) {
        out(`  problem: ${p}`);
        fail(ExitCode.validation, p);
      }
    }
    if (layers.length === verdicts.length) {
      try {
        const plan = planLayers(settings, layers);
        out(`render would write: ${plan.files.map((f) => f.name).join(', ')}, render.json`);
        out(`app.env variables: ${[...plan.vars.keys()].sort().join(', ')}`);
      } catch (err) {
        out(errorLine(err));
        fail(exitCodeOf(err), errorLine(err));
      }
    }
    return verdict(worst, failed, out);
  },
);

/** `check passed` on stdout, or (the report above has every line) the verdict and the first failure as the error. */
function verdict(worst: number, failed: readonly string[], out: (line: string) => void): number {
  if (worst === ExitCode.ok) {
    out('check passed');
    return worst;
  }
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more above)` : '';
  throw new SecretsInitError(`check failed (exit ${worst}): ${failed[0]}${more}`, worst);
}

/** The tag bindings of the clusters' services (check-cluster.ts), with a client of its own. */
async function clusterBindings(
  clusters: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: (line: string) => void,
): Promise<ClusterFailure[]> {
  const region = regionFromEnv(env)?.region;
  if (!region) throw new UsageError(`check --cluster: ${REGION_REQUIRED}`);
  const ecs = createEcsClient({ region, requestTimeoutMs: requestTimeoutFor(CLUSTER_CHECK.timeoutMs) });
  try {
    return await checkClusters(ecs, clusters, out, CLUSTER_CHECK);
  } finally {
    ecs.destroy();
  }
}
