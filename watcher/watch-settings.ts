import type { ConfigFile } from '../shared/config.ts';
import { type DurationRange, MAX_TIMER_MS, parseDuration } from '../shared/duration.ts';
import { UsageError } from '../shared/errors.ts';
import { LOG_LEVELS } from '../shared/logger.ts';
import { REGION_REQUIRED, regionFromEnv } from '../shared/region.ts';
import { distinctClusters } from './ecs-identity.ts';
import { DEFAULT_METRICS_NAMESPACE } from './metrics.ts';
import type { BindingSource } from './run-pass.ts';

export const WATCH_DEFAULTS = Object.freeze({
  intervalMs: 5 * 60_000,
  maxRedeploys: 10,
  passTimeoutMs: 60_000,
  concurrency: 10,
  /** Each wait is the interval +-10%, so several watchers (or a restarted one) do not hit the APIs in step. */
  jitter: 0.1,
  /** Longer than a rival run takes to write its claim (a TagResource, a few hundred ms). */
  claimSettleMs: 2_000,
  /** Another run's claim older than this, with no deployment after it, is abandoned (its run died or was refused). */
  claimTtlMs: 120_000,
});

/** What the command line said (cli/watch-command.ts parses it), before environment and config are consulted. */
export interface WatchFlags {
  readonly clusters: readonly string[];
  readonly once: boolean;
  readonly interval?: string;
  readonly maxRedeploys?: string;
  readonly capWindow?: string;
  readonly dryRun: boolean;
  readonly passTimeout?: string;
  readonly concurrency?: string;
  readonly stateKey?: string;
  readonly claimSettle?: string;
  readonly metricsNamespace?: string;
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
  /** The cap counts the redeploys of every run within this window (default: the interval). */
  readonly capWindowMs: number;
  readonly dryRun: boolean;
  readonly passTimeoutMs: number;
  readonly concurrency: number;
  /** The secret holding the state tags' signing key; undefined: tags are unsigned (and warned about). */
  readonly stateKey?: string;
  readonly claimSettleMs: number;
  readonly claimTtlMs: number;
  readonly metricsNamespace: string;
}

/** Passes at most once a second; a longer interval than a timer holds is refused (the sleep would not wait). */
const INTERVAL_RANGE: DurationRange = { min: 1000, max: MAX_TIMER_MS };
const NAMESPACE = /^[A-Za-z0-9._/#:-]{1,255}$/;

/**
 * Flags over environment over config, fully defaulted and frozen. Pure (no process.env, no file system). Every bad
 * value is reported at once, each naming its flag, variable or config path, in one UsageError (exit 2) before any
 * network call.
 */
export function resolveWatchSettings(
  flags: WatchFlags,
  env: Readonly<Record<string, string | undefined>>,
  config?: ConfigFile,
): WatchSettings {
  const problems: string[] = [];
  const pick = <T>(...candidates: (T | undefined)[]): T | undefined => candidates.find((c) => c !== undefined);
  const duration = (name: string, v: string | undefined, range?: DurationRange) => {
    if (v === undefined) return undefined;
    const ms = parseDuration(v, range);
    if (typeof ms === 'string') problems.push(`${name}: ${ms}`);
    return typeof ms === 'number' ? ms : undefined;
  };
  const count = (name: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (v === undefined) return undefined;
    const n = /^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    problems.push(`${name} must be a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`);
    return undefined;
  };

  const region = regionFromEnv(env)?.region;
  if (!region) problems.push(REGION_REQUIRED);
  const logLevel = nonEmpty(env.LOG_LEVEL) ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const clusters = flags.clusters.length > 0 ? flags.clusters : splitList(env.WATCH_CLUSTER ?? '');
  let source: BindingSource | undefined;
  if (clusters.length > 0) source = { kind: 'discover', clusters: distinctClusters(clusters) };
  else if (config?.watch && config.watch.clusters.length > 0)
    source = { kind: 'config', clusters: config.watch.clusters };
  else {
    problems.push(
      config
        ? 'the config has no spec.watch.clusters; give --cluster NAME (or WATCH_CLUSTER) to discover tagged services'
        : 'nothing to watch: give --cluster NAME (or WATCH_CLUSTER) or --config FILE with spec.watch.clusters',
    );
  }

  const intervalMs =
    pick(
      duration('--interval', flags.interval, INTERVAL_RANGE),
      duration('WATCH_INTERVAL', nonEmpty(env.WATCH_INTERVAL), INTERVAL_RANGE),
      config?.watch?.intervalMs,
    ) ?? WATCH_DEFAULTS.intervalMs;
  const maxRedeploys =
    pick(
      count('--max-redeploys', flags.maxRedeploys, 1),
      count('WATCH_MAX_REDEPLOYS', nonEmpty(env.WATCH_MAX_REDEPLOYS), 1),
      config?.watch?.maxRedeploys,
    ) ?? WATCH_DEFAULTS.maxRedeploys;
  const capWindowMs =
    pick(
      duration('--cap-window', flags.capWindow, INTERVAL_RANGE),
      duration('WATCH_CAP_WINDOW', nonEmpty(env.WATCH_CAP_WINDOW), INTERVAL_RANGE),
      config?.watch?.capWindowMs,
    ) ?? intervalMs;
  let dryRun = flags.dryRun;
  const dryRunText = nonEmpty(env.WATCH_DRY_RUN);
  if (!dryRun && dryRunText !== undefined) {
    if (/^(true|1|yes)$/i.test(dryRunText)) dryRun = true;
    else if (!/^(false|0|no)$/i.test(dryRunText)) problems.push('WATCH_DRY_RUN must be true or false');
  }
  const passTimeoutMs = duration('--pass-timeout', flags.passTimeout) ?? WATCH_DEFAULTS.passTimeoutMs;
  const concurrency = count('--concurrency', flags.concurrency, 1, 64) ?? WATCH_DEFAULTS.concurrency;
  const stateKey = pick(nonEmpty(flags.stateKey), nonEmpty(env.WATCH_STATE_KEY), config?.watch?.stateKey);
  const claimSettleMs = duration('--claim-settle', flags.claimSettle) ?? WATCH_DEFAULTS.claimSettleMs;
  if (claimSettleMs >= passTimeoutMs) {
    // The claims must settle within the pass: otherwise each is taken back at the deadline, and nothing redeploys.
    problems.push(`--claim-settle (${claimSettleMs} ms) must be shorter than --pass-timeout (${passTimeoutMs} ms)`);
  }
  const metricsNamespace =
    pick(nonEmpty(flags.metricsNamespace), nonEmpty(env.WATCH_METRICS_NAMESPACE)) ?? DEFAULT_METRICS_NAMESPACE;
  if (!NAMESPACE.test(metricsNamespace)) {
    problems.push(
      `the metrics namespace "${metricsNamespace}" is not a CloudWatch namespace (1-255 of A-Z a-z 0-9 . _ / # : -)`,
    );
  }

  if (problems.length > 0 || !region || !source) throw new UsageError(problems.join('; '));
  return Object.freeze({
    region,
    logLevel,
    source,
    once: flags.once,
    intervalMs,
    jitter: WATCH_DEFAULTS.jitter,
    maxRedeploys,
    capWindowMs,
    dryRun,
    passTimeoutMs,
    concurrency,
    ...(stateKey !== undefined && { stateKey }),
    claimSettleMs,
    // A claim must outlive the settle and both writes of a rival run's redeploy.
    claimTtlMs: Math.max(WATCH_DEFAULTS.claimTtlMs, claimSettleMs * 4),
    metricsNamespace,
  });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** `a,b` lists (WATCH_CLUSTER, repeated --cluster values). */
export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
