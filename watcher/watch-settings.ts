import { parseCommandArgs } from '../shared/args.ts';
import type { ConfigFile } from '../shared/config.ts';
import { type DurationRange, MAX_TIMER_MS, parseDuration } from '../shared/duration.ts';
import { UsageError } from '../shared/errors.ts';
import { LOG_LEVELS } from '../shared/logger.ts';
import { REGION_REQUIRED, regionFromEnv } from '../shared/region.ts';
import { distinctClusters } from './ecs-identity.ts';
import type { BindingSource } from './run-pass.ts';

export const WATCH_USAGE = `Usage: secrets-init watch [OPTIONS]

Redeploys ECS services whose secrets rotated (a new AWSCURRENT version): one UpdateService(forceNewDeployment)
per service however many of its secrets changed. The fingerprint of the versions is kept as the service tag
secrets-init/fingerprint; the first sight of a service only records it. A discovered service is bound by its tag
secrets-init/secrets: secret ids separated by spaces (ECS tag values allow no comma), continued in
secrets-init/secrets-2, -3, ... when they need more than 256 characters.

Options:
  --config FILE          YAML config with spec.watch.clusters[].services[].secrets   (env SECRETS_CONFIG)
  --cluster NAME         discover services tagged secrets-init/secrets in NAME; repeatable, overrides the
                         config's clusters                                           (env WATCH_CLUSTER, comma-separated)
  --once                 one pass, then exit (for a scheduled task)
  --interval DURATION    time between passes, with +-10% jitter (default 5m)        (env WATCH_INTERVAL)
  --max-redeploys N      successful redeploys per pass at most (a failed one frees its slot); the services
                         deployed longest ago go first, the rest wait for the next pass (default 10)
                                                                                     (env WATCH_MAX_REDEPLOYS)
  --dry-run              decide and log, change nothing                             (env WATCH_DRY_RUN=true)
  --pass-timeout DURATION  deadline of one pass (default 60s): no call starts after it; a redeploy already
                         started still gets its tag (each write has 10s of its own)
  --concurrency N        AWS calls in flight at once (default 10)
  -h, --help             this text

Environment: AWS_REGION (required; AWS_DEFAULT_REGION is the fallback), LOG_LEVEL (default info), AWS_ENDPOINT_URL[_ECS|_SECRETS_MANAGER].
Flags override environment variables, which override the config file.
SIGTERM/SIGINT: the pass in flight finishes, then exit 0.
Exit codes: 0 ok, 2 usage/config, 3 a service or secret could not be read or updated (the others were handled).
`;

export const WATCH_DEFAULTS = Object.freeze({
  intervalMs: 5 * 60_000,
  maxRedeploys: 10,
  passTimeoutMs: 60_000,
  concurrency: 10,
  /** Each wait is the interval +-10%, so several watchers (or a restarted one) do not hit the APIs in step. */
  jitter: 0.1,
});

/** What the command line said, before environment and config are consulted. */
export interface WatchFlags {
  readonly help: boolean;
  readonly configPath?: string;
  readonly clusters: readonly string[];
  readonly once: boolean;
  readonly interval?: string;
  readonly maxRedeploys?: string;
  readonly dryRun: boolean;
  readonly passTimeout?: string;
  readonly concurrency?: string;
}

/** Everything a watch run needs, fully defaulted. */
export interface WatchSettings {
  readonly region: string;
  readonly logLevel: string;
  readonly source: BindingSource;
  readonly once: boolean;
  readonly intervalMs: number;
  readonly jitter: number;
  readonly maxRedeploys: number;
  readonly dryRun: boolean;
  readonly passTimeoutMs: number;
  readonly concurrency: number;
}

export function parseWatchFlags(args: readonly string[]): WatchFlags {
  const parsed = parse(args);
  const v = parsed.values;
  return {
    help: v.help === true,
    ...(v.config !== undefined && { configPath: v.config }),
    clusters: (v.cluster ?? []).flatMap(splitList),
    once: v.once === true,
    ...(v.interval !== undefined && { interval: v.interval }),
    ...(v['max-redeploys'] !== undefined && { maxRedeploys: v['max-redeploys'] }),
    dryRun: v['dry-run'] === true,
    ...(v['pass-timeout'] !== undefined && { passTimeout: v['pass-timeout'] }),
    ...(v.concurrency !== undefined && { concurrency: v.concurrency }),
  };
}

const OPTIONS = {
  config: { type: 'string' },
  cluster: { type: 'string', multiple: true },
  once: { type: 'boolean' },
  interval: { type: 'string' },
  'max-redeploys': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'pass-timeout': { type: 'string' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(args: readonly string[]) {
  return parseCommandArgs('watch', args, OPTIONS);
}

/** The config file to read, if any: `--config` over `SECRETS_CONFIG`. */
export function configPathOf(flags: WatchFlags, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return flags.configPath ?? nonEmpty(env.SECRETS_CONFIG);
}

/** Flags over environment over config; every bad value is a UsageError (exit 2) before any network call. */
export function resolveWatchSettings(
  flags: WatchFlags,
  env: Readonly<Record<string, string | undefined>>,
  config?: ConfigFile,
): WatchSettings {
  const region = regionFromEnv(env)?.region;
  if (!region) throw new UsageError(REGION_REQUIRED);
  const logLevel = nonEmpty(env.LOG_LEVEL) ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const envClusters = splitList(env.WATCH_CLUSTER ?? '');
  const clusters = flags.clusters.length > 0 ? flags.clusters : envClusters;
  let source: BindingSource;
  if (clusters.length > 0) source = { kind: 'discover', clusters: distinctClusters(clusters) };
  else if (config?.watch && config.watch.clusters.length > 0)
    source = { kind: 'config', clusters: config.watch.clusters };
  else {
    throw new UsageError(
      config
        ? 'the config has no spec.watch.clusters; give --cluster NAME (or WATCH_CLUSTER) to discover tagged services'
        : 'nothing to watch: give --cluster NAME (or WATCH_CLUSTER) or --config FILE with spec.watch.clusters',
    );
  }

  const intervalMs =
    duration('--interval', flags.interval, INTERVAL_RANGE) ??
    duration('WATCH_INTERVAL', nonEmpty(env.WATCH_INTERVAL), INTERVAL_RANGE) ??
    config?.watch?.intervalMs ??
    WATCH_DEFAULTS.intervalMs;
  const maxRedeploys =
    count('--max-redeploys', flags.maxRedeploys, 1) ??
    count('WATCH_MAX_REDEPLOYS', nonEmpty(env.WATCH_MAX_REDEPLOYS), 1) ??
    config?.watch?.maxRedeploys ??
    WATCH_DEFAULTS.maxRedeploys;
  const dryRun = flags.dryRun || bool('WATCH_DRY_RUN', nonEmpty(env.WATCH_DRY_RUN));
  const passTimeoutMs = duration('--pass-timeout', flags.passTimeout) ?? WATCH_DEFAULTS.passTimeoutMs;
  const concurrency = count('--concurrency', flags.concurrency, 1, 64) ?? WATCH_DEFAULTS.concurrency;

  return Object.freeze({
    region,
    logLevel,
    source,
    once: flags.once,
    intervalMs,
    jitter: WATCH_DEFAULTS.jitter,
    maxRedeploys,
    dryRun,
    passTimeoutMs,
    concurrency,
  });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Passes at most once a second; a longer interval than a timer holds is refused (the sleep would not wait). */
const INTERVAL_RANGE: DurationRange = { min: 1000, max: MAX_TIMER_MS };

function duration(name: string, v: string | undefined, range?: DurationRange): number | undefined {
  if (v === undefined) return undefined;
  const ms = parseDuration(v, range);
  if (typeof ms === 'string') throw new UsageError(`${name}: ${ms}`);
  return ms;
}

function count(name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`,
    );
  }
  return n;
}

function bool(name: string, v: string | undefined): boolean {
  if (v === undefined) return false;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new UsageError(`${name} must be true or false`);
}
