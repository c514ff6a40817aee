import { isAbsolute, resolve } from 'node:path';
import {
  type ConfigFile,
  type FileMapping,
  type OwnerSpec,
  parseMode,
  parseOwner,
  type SourceSpec,
} from '../shared/config.ts';
import { FILE_MODE, SECRETS_DIR, VARIABLE_NAME } from '../shared/contract.ts';
import { type DurationRange, parseDuration, showMs } from '../shared/duration.ts';
import { UsageError } from '../shared/errors.ts';
import { LOG_LEVELS } from '../shared/logger.ts';
import { REGION_REQUIRED, regionFromEnv } from '../shared/region.ts';

export const DEFAULT_DOTENV = '.env';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 3_600_000;
const TIMEOUT_RANGE: DurationRange = { min: 1, max: MAX_TIMEOUT_MS };
/** `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-7`... */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** Flags of `render`, already parsed; each overrides its environment variable. */
export interface RenderFlags {
  readonly appEnv?: string;
  readonly secretName?: string;
  readonly dotenv?: string;
  readonly outputDir?: string;
  readonly required?: string;
  readonly mode?: string;
  readonly owner?: string;
  readonly timeout?: string;
  readonly logLevel?: string;
}

/** Everything render needs, resolved once (flags > environment > config > defaults) and frozen. */
export interface RenderSettings {
  readonly appEnv: 'local' | 'production';
  readonly region?: string;
  readonly sources: readonly SourceSpec[];
  readonly dotenvPath: string;
  /** A dotenv path named explicitly must exist; the default `.env` is optional in production. */
  readonly dotenvExplicit: boolean;
  readonly outputDir: string;
  readonly fileMode: number;
  readonly owner?: OwnerSpec;
  readonly files: readonly FileMapping[];
  readonly required: readonly string[];
  readonly allowKeys: readonly string[];
  readonly timeoutMs: number;
  readonly logLevel: string;
  /** render --watch: poll the dotenv file instead of relying on change events (SECRETS_WATCH_POLL=true). */
  readonly watchPolling: boolean;
}

const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** Pure: no file system, no process.env. Every problem found is reported in one UsageError. */
export function resolveRenderSettings(
  flags: RenderFlags,
  env: Readonly<Record<string, string | undefined>>,
  config: ConfigFile | undefined,
  cwd: string,
): RenderSettings {
  const problems: string[] = [];
  const pick = (flag: string | undefined, envName: string) => {
    const v = flag ?? env[envName];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const appEnv = pick(flags.appEnv, 'APP_ENV');
  if (appEnv === undefined) problems.push('APP_ENV is required: "local" (dotenv only) or "production"');
  else if (appEnv !== 'local' && appEnv !== 'production') {
    problems.push(`APP_ENV must be "local" or "production", not "${appEnv}"`);
  }
  const envRegion = regionFromEnv(env);
  const region = envRegion?.region;

  const secretName = pick(flags.secretName, 'SECRET_NAME');
  const sources: SourceSpec[] = secretName
    ? list(secretName).map((secretId): SourceSpec => ({ type: 'secretsmanager', secretId }))
    : [...(config?.sources ?? [])];
  if (appEnv === 'production') {
    if (!envRegion) problems.push(`${REGION_REQUIRED} when APP_ENV=production`);
    else if (!REGION.test(envRegion.region)) {
      problems.push(`${envRegion.variable} "${envRegion.region}" is not a region name such as "us-east-1"`);
    }
    if (sources.length === 0)
      problems.push('SECRET_NAME (or spec.sources in the config) is required when APP_ENV=production');
  }

  const dotenvFlag = pick(flags.dotenv, 'DOTENV_PATH');
  const dotenv = dotenvFlag ?? config?.dotenvPath ?? DEFAULT_DOTENV;

  const dir = pick(flags.outputDir, 'SECRETS_DIR') ?? config?.outputDir ?? SECRETS_DIR;
  const outputDir = isAbsolute(dir) ? resolve(dir) : resolve(cwd, dir);

  let fileMode = config?.fileMode ?? FILE_MODE;
  const modeText = pick(flags.mode, 'SECRETS_FILE_MODE');
  if (modeText !== undefined) {
    const m = parseMode(modeText);
    if (typeof m === 'string') problems.push(`SECRETS_FILE_MODE: ${m}`);
    else fileMode = m;
  }
  let owner = config?.owner;
  const ownerText = pick(flags.owner, 'SECRETS_FILE_OWNER');
  if (ownerText !== undefined) {
    const o = parseOwner(ownerText);
    if (typeof o === 'string') problems.push(`SECRETS_FILE_OWNER: ${o}`);
    else owner = o;
  }

  const requiredText = pick(flags.required, 'SECRETS_REQUIRED');
  const required = requiredText !== undefined ? list(requiredText) : [...(config?.required ?? [])];
  for (const r of required)
    if (!VARIABLE_NAME.test(r)) problems.push(`SECRETS_REQUIRED: "${r}" is not a valid variable name`);

  let timeoutMs = config?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeoutText = pick(flags.timeout, 'SECRETS_TIMEOUT');
  if (timeoutText !== undefined) {
    const t = parseDuration(timeoutText, TIMEOUT_RANGE);
    if (typeof t === 'string') problems.push(`${flags.timeout?.trim() ? '--timeout' : 'SECRETS_TIMEOUT'}: ${t}`);
    else timeoutMs = t;
  } else if (timeoutMs > MAX_TIMEOUT_MS)
    problems.push(`spec.timeout: longer than the maximum of ${showMs(MAX_TIMEOUT_MS)}`);

  const logLevel = pick(flags.logLevel, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return Object.freeze({
    appEnv: appEnv as 'local' | 'production',
    ...(region && { region }),
    sources: Object.freeze(sources),
    dotenvPath: resolve(cwd, dotenv),
    dotenvExplicit: dotenvFlag !== undefined || config?.dotenvPath !== undefined,
    outputDir,
    fileMode,
    ...(owner && { owner }),
    files: config?.files ?? [],
    required: Object.freeze(required),
    allowKeys: config?.allowKeys ?? [],
    timeoutMs,
    logLevel,
    watchPolling: env.SECRETS_WATCH_POLL === 'true',
  });
}
