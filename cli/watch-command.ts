import type { DestinationStream } from 'pino';
import { parseCommandArgs } from '../shared/args.ts';
import { createEcsClient, createSecretsManagerClient } from '../shared/aws-clients.ts';
import type { EcsPort, SecretsPort, SsmPort } from '../shared/aws-ports.ts';
import { requestTimeoutFor } from '../shared/client-settings.ts';
import { SourceError } from '../shared/errors.ts';
import { logEvent } from '../shared/log-events.ts';
import { createLogger } from '../shared/logger.ts';
import { sleep } from '../shared/sleep.ts';
import { createSsmClient } from '../shared/ssm-client.ts';
import { runLoop } from '../watcher/loop.ts';
import type { MutableImage } from '../watcher/read-task-definitions.ts';
import { createRedeployClient } from '../watcher/redeploy-client.ts';
import { failureMessage, runPass } from '../watcher/run-pass.ts';
import { resolveWatchSettings, splitList, WATCH_DEFAULTS, type WatchFlags } from '../watcher/watch-settings.ts';
import { CONFIG_COMMAND_OPTIONS, configCommand, type FlagValues } from './command-line.ts';
import type { Command } from './io.ts';

export const WATCH_USAGE = `Usage: secrets-init watch [OPTIONS]

Redeploys ECS services whose secrets rotated (a new AWSCURRENT version): one UpdateService(forceNewDeployment) per
service however many of its secrets changed, never while a deployment is in flight, at most --max-redeploys per
--cap-window across every run. Its state is kept on each service as the tag secrets-init/fingerprint, signed with
the key in --state-key. A discovered service is bound by its tag secrets-init/secrets: secret ids separated by
spaces (ECS tag values allow no comma), continued in secrets-init/secrets-2, -3, ... past 256 characters.

Options:
  --config FILE          YAML config with spec.watch.clusters[].services[].secrets   (env SECRETS_CONFIG)
  --cluster NAME         discover services tagged secrets-init/secrets in NAME; repeatable, overrides the
                         config's clusters                                           (env WATCH_CLUSTER, comma-separated)
  --once                 one pass, then exit (for a scheduled task)
  --interval DURATION    time between passes, with +-10% jitter (default 5m)        (env WATCH_INTERVAL)
  --max-redeploys N      redeploys started at most per cap window, by every run together; the services
                         deployed longest ago go first, the rest wait (default 10)  (env WATCH_MAX_REDEPLOYS)
  --cap-window DURATION  the window the cap counts over (default: the interval)     (env WATCH_CAP_WINDOW)
  --state-key SECRET     the secret whose value signs the state tags (only the watcher's role may read it);
                         without it, the tags are taken as written                  (env WATCH_STATE_KEY)
  --dry-run              decide and log, change nothing                             (env WATCH_DRY_RUN=true)
  --pass-timeout DURATION  deadline of one pass (default 60s): no call starts after it; a write already
                         started runs to its end (each has 10s of its own)
  --concurrency N        AWS calls in flight at once (default 10)
  --claim-settle DURATION  how long claims settle before they are read back (default 2s)
  --metrics-namespace NS CloudWatch namespace of the pass metrics (default SecretsInit/Watcher)
                                                                                     (env WATCH_METRICS_NAMESPACE)
  -h, --help             this text

Environment: AWS_REGION (required; AWS_DEFAULT_REGION is the fallback), LOG_LEVEL (default info), AWS_ENDPOINT_URL[_ECS|_SECRETS_MANAGER|_SSM].
Flags override environment variables, which override the config file.
SIGTERM/SIGINT: the pass in flight finishes, then exit 0; a second signal exits at once (143/130).
Exit codes: 0 ok, 2 usage/config, 3 a service, a secret or a state could not be read or updated (the others were handled).
`;

const OPTIONS = {
  ...CONFIG_COMMAND_OPTIONS,
  cluster: { type: 'string', multiple: true },
  once: { type: 'boolean' },
  interval: { type: 'string' },
  'max-redeploys': { type: 'string' },
  'cap-window': { type: 'string' },
  'state-key': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'pass-timeout': { type: 'string' },
  concurrency: { type: 'string' },
  'claim-settle': { type: 'string' },
  'metrics-namespace': { type: 'string' },
} as const;

/** The command line of `watch`, parsed strictly (a bad flag is exit 2 in one line), as its settings take it. */
export function parseWatchFlags(args: readonly string[]): WatchFlags {
  return watchFlags(parseCommandArgs('watch', args, OPTIONS).values);
}

function watchFlags(v: FlagValues<typeof OPTIONS>): WatchFlags {
  return {
    clusters: (v.cluster ?? []).flatMap(splitList),
    once: v.once === true,
    interval: v.interval,
    maxRedeploys: v['max-redeploys'],
    capWindow: v['cap-window'],
    stateKey: v['state-key'],
    dryRun: v['dry-run'] === true,
    passTimeout: v['pass-timeout'],
    concurrency: v.concurrency,
    claimSettle: v['claim-settle'],
    metricsNamespace: v['metrics-namespace'],
  };
}

/** The world the watch command touches besides CliIo; tests pass their own to count or fake it. */
export interface WatchCommandDeps {
  /** `deploy` sends UpdateService only, and never resends one that may have been applied (createRedeployClient). */
  readonly createClients: (
    region: string,
    requestTimeoutMs: number,
  ) => { ecs: EcsPort; deploy: EcsPort; secrets: SecretsPort; ssm?: SsmPort };
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Wall clock (ms since the epoch): compared with the times AWS and the state tags give. */
  readonly now: () => number;
  /** Monotonic clock (ms): the loop's interval. */
  readonly monotonic: () => number;
  readonly random: () => number;
}

const realDeps: WatchCommandDeps = {
  createClients: (region, requestTimeoutMs) => ({
    ecs: createEcsClient({ region, requestTimeoutMs }),
    deploy: createRedeployClient({ region, requestTimeoutMs }),
    secrets: createSecretsManagerClient({ region, requestTimeoutMs }),
    ssm: createSsmClient({ region, requestTimeoutMs }),
  }),
  sleep,
  now: () => Date.now(),
  monotonic: () => performance.now(),
  random: Math.random,
};

/** `secrets-init watch`: argv/env/config in, one pass (`--once`) or the loop, exit code out. */
export function createWatchCommand(deps: WatchCommandDeps = realDeps): Command {
  return configCommand({ name: 'watch', usage: WATCH_USAGE, options: OPTIONS }, async ({ values, config }, io) => {
    const settings = resolveWatchSettings(watchFlags(values), io.env, config);

    const log = createLogger(settings.logLevel, io.stdout as unknown as DestinationStream).child({ cmd: 'watch' });
    io.captureConsole?.((line) => logEvent(log, 'warn', 'library.console', {}, line));
    // A single slow request must not eat the whole pass: a third of the deadline, between 1 s and 10 s.
    const requestTimeoutMs = requestTimeoutFor(settings.passTimeoutMs);
    const { ecs, deploy, secrets, ssm } = deps.createClients(settings.region, requestTimeoutMs);
    const passOptions = {
      source: settings.source,
      maxRedeploys: settings.maxRedeploys,
      capWindowMs: settings.capWindowMs,
      dryRun: settings.dryRun,
      concurrency: settings.concurrency,
      timeoutMs: settings.passTimeoutMs,
      ...(settings.stateKey !== undefined && { stateKey: settings.stateKey }),
      claimSettleMs: settings.claimSettleMs,
      claimTtlMs: settings.claimTtlMs,
      metricsNamespace: settings.metricsNamespace,
      // Task definition revisions never change: a long-running watcher asks about each once.
      imageCache: new Map<string, readonly MutableImage[]>(),
    };
    const passDeps = { ecs, deploy, secrets, ...(ssm && { ssm }), log, now: deps.now, sleep: deps.sleep };
    logEvent(
      log,
      'info',
      'watch.start',
      {
        mode: settings.once ? 'once' : 'loop',
        bindings: settings.source.kind,
        clusters:
          settings.source.kind === 'discover' ? settings.source.clusters : settings.source.clusters.map((c) => c.name),
        intervalMs: settings.once ? undefined : settings.intervalMs,
        maxRedeploys: settings.maxRedeploys,
        capWindowMs: settings.capWindowMs,
        signed: settings.stateKey !== undefined,
        dryRun: settings.dryRun,
      },
      'watch started',
    );
    if (settings.stateKey === undefined) {
      logEvent(
        log,
        'warn',
        'watch.unsigned',
        {},
        'state tags are not signed (no --state-key): anyone who may tag the watched services can forge the ' +
          "watcher's state; deploy the key the watcher stack makes, or reserve the secrets-init/ tag keys with an SCP",
      );
    }

    if (settings.once) {
      const { failures } = await runPass(passDeps, { ...passOptions, pass: 1 });
      // Every failure is a log line; stderr gets one line, as for any failing command (exit 3).
      const more = failures.length > 1 ? ` (and ${failures.length - 1} more; see the watch log lines)` : '';
      if (failures.length > 0) throw new SourceError(`pass failed: ${failureMessage(failures[0]!)}${more}`);
      return 0;
    }

    const passes = await runLoop(
      {
        runPass: (n) => runPass(passDeps, { ...passOptions, pass: n }),
        sleep: deps.sleep,
        monotonic: deps.monotonic,
        random: deps.random,
        shutdown: io.shutdown,
      },
      { intervalMs: settings.intervalMs, jitter: WATCH_DEFAULTS.jitter },
    );
    // Stopping on request is a clean exit even if the last pass had failures: those were logged, and the next
    // watcher (or the next scheduled run) retries them; ECS should not count a requested stop as a crash.
    const signal = String(io.shutdown.reason ?? '');
    logEvent(log, 'info', 'watch.stop', { passes, signal }, 'watch stopped');
    return 0;
  });
}

export const watchCommand: Command = createWatchCommand();
