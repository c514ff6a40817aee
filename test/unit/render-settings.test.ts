import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_TIMEOUT_MS,
  type RenderFlags,
  type RenderSettings,
  resolveRenderSettings,
} from '../../init/render-settings.ts';
import { type ConfigFile, type SourceSpec, validateConfig } from '../../shared/config.ts';
import { FILE_MODE as DEFAULT_FILE_MODE, SECRETS_DIR as DEFAULT_SECRETS_DIR } from '../../shared/contract.ts';
import { ExitCode, UsageError } from '../../shared/errors.ts';

const CWD = '/srv/app';
const secretIdOf = (s: SourceSpec) => (s.type === 'secretsmanager' ? s.secretId : s.type);
// One valid production environment; each case tweaks it.
const prodEnv = (): Record<string, string | undefined> => ({
  APP_ENV: 'production',
  AWS_REGION: 'eu-west-1',
  SECRET_NAME: 'short-cut/prod/app',
});

function config(spec: Record<string, unknown>): ConfigFile {
  const r = validateConfig({ apiVersion: 'secrets-init/v1', kind: 'SecretsInit', spec });
  if ('problems' in r) assert.fail(r.problems.join('; '));
  return r.config;
}
// A config that sets everything env and flags can also set, to see who wins.
const fullConfig = () =>
  config({
    sources: ['from-config'],
    dotenv: { path: 'config.env' },
    required: ['FROM_CONFIG'],
    allowKeys: ['NODE_EXTRA_CA_CERTS'],
    files: [{ fromKey: 'TLS_KEY', path: 'tls.key' }],
    output: { dir: 'config-out', mode: '0400', owner: '1:1' },
    timeout: '1m',
  });

const resolve = (flags: RenderFlags, env: Record<string, string | undefined>, cfg?: ConfigFile): RenderSettings =>
  resolveRenderSettings(flags, env, cfg, CWD);

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected UsageError, got ${String(err)}`);
    assert.equal(err.exitCode, ExitCode.usage);
    return err;
  }
  assert.fail('expected a UsageError');
}

describe('resolveRenderSettings', () => {
  it('resolves the zero-config production path with defaults', () => {
    assert.deepEqual(resolve({}, prodEnv()), {
      appEnv: 'production',
      region: 'eu-west-1',
      sources: [{ type: 'secretsmanager', secretId: 'short-cut/prod/app' }],
      dotenvPath: '/srv/app/.env',
      dotenvExplicit: false,
      outputDir: DEFAULT_SECRETS_DIR,
      fileMode: DEFAULT_FILE_MODE,
      files: [],
      required: [],
      allowKeys: [],
      timeoutMs: DEFAULT_TIMEOUT_MS,
      logLevel: 'info',
      watchPolling: false,
    });
  });

  it('returns frozen settings', () => {
    const s = resolve({}, prodEnv());
    assert.ok(Object.isFrozen(s));
    assert.ok(Object.isFrozen(s.sources));
    assert.ok(Object.isFrozen(s.required));
  });

  it('needs neither AWS_REGION nor a source in local mode', () => {
    const s = resolve({}, { APP_ENV: 'local' });
    assert.equal(s.appEnv, 'local');
    assert.equal(s.region, undefined);
    assert.deepEqual(s.sources, []);
  });

  it('splits SECRET_NAME on commas, keeps the order and drops blanks', () => {
    const s = resolve({}, { ...prodEnv(), SECRET_NAME: ' base , ,override,' });
    assert.deepEqual(s.sources, [
      { type: 'secretsmanager', secretId: 'base' },
      { type: 'secretsmanager', secretId: 'override' },
    ]);
  });

  it('takes config files and allowKeys as given', () => {
    const s = resolve({}, prodEnv(), fullConfig());
    assert.deepEqual(s.files, [{ fromKey: 'TLS_KEY', path: 'tls.key' }]);
    assert.deepEqual(s.allowKeys, ['NODE_EXTRA_CA_CERTS']);
  });

  it('polls the dotenv file only when SECRETS_WATCH_POLL is exactly "true"', () => {
    assert.equal(resolve({}, { APP_ENV: 'local', SECRETS_WATCH_POLL: 'true' }).watchPolling, true);
    assert.equal(resolve({}, { APP_ENV: 'local', SECRETS_WATCH_POLL: '1' }).watchPolling, false);
  });

  // Each setting at each level: flag > env > config > default.
  interface Precedence {
    readonly name: string;
    readonly flags: RenderFlags;
    readonly env: Record<string, string>;
    readonly read: (s: RenderSettings) => unknown;
    readonly flag: unknown;
    readonly fromEnv: unknown;
    readonly fromConfig: unknown;
    readonly fallback: unknown;
  }
  const precedence: Precedence[] = [
    {
      name: 'sources',
      flags: { secretName: 'from-flag' },
      env: { SECRET_NAME: 'from-env' },
      read: (s) => s.sources.map(secretIdOf),
      flag: ['from-flag'],
      fromEnv: ['from-env'],
      fromConfig: ['from-config'],
      fallback: [],
    },
    {
      name: 'dotenv path',
      flags: { dotenv: 'flag.env' },
      env: { DOTENV_PATH: 'env.env' },
      read: (s) => s.dotenvPath,
      flag: '/srv/app/flag.env',
      fromEnv: '/srv/app/env.env',
      fromConfig: '/srv/app/config.env',
      fallback: '/srv/app/.env',
    },
    {
      name: 'dotenv explicit',
      flags: { dotenv: 'flag.env' },
      env: { DOTENV_PATH: 'env.env' },
      read: (s) => s.dotenvExplicit,
      flag: true,
      fromEnv: true,
      fromConfig: true,
      fallback: false,
    },
    {
      name: 'output dir',
      flags: { outputDir: '/flag-out' },
      env: { SECRETS_DIR: 'env-out' },
      read: (s) => s.outputDir,
      flag: '/flag-out',
      fromEnv: '/srv/app/env-out',
      fromConfig: '/srv/app/config-out',
      fallback: '/run/secrets',
    },
    {
      name: 'file mode',
      flags: { mode: '0600' },
      env: { SECRETS_FILE_MODE: '0640' },
      read: (s) => s.fileMode,
      flag: 0o600,
      fromEnv: 0o640,
      fromConfig: 0o400,
      fallback: 0o440,
    },
    {
      name: 'owner',
      flags: { owner: '3:3' },
      env: { SECRETS_FILE_OWNER: '2:2' },
      read: (s) => s.owner,
      flag: { uid: 3, gid: 3 },
      fromEnv: { uid: 2, gid: 2 },
      fromConfig: { uid: 1, gid: 1 },
      fallback: undefined,
    },
    {
      name: 'required',
      flags: { required: 'FROM_FLAG' },
      env: { SECRETS_REQUIRED: 'FROM_ENV, OTHER' },
      read: (s) => s.required,
      flag: ['FROM_FLAG'],
      fromEnv: ['FROM_ENV', 'OTHER'],
      fromConfig: ['FROM_CONFIG'],
      fallback: [],
    },
    {
      name: 'timeout',
      flags: { timeout: '5s' },
      env: { SECRETS_TIMEOUT: '250ms' },
      read: (s) => s.timeoutMs,
      flag: 5000,
      fromEnv: 250,
      fromConfig: 60_000,
      fallback: 30_000,
    },
    {
      name: 'log level (no config key)',
      flags: { logLevel: 'debug' },
      env: { LOG_LEVEL: 'warn' },
      read: (s) => s.logLevel,
      flag: 'debug',
      fromEnv: 'warn',
      fromConfig: 'info',
      fallback: 'info',
    },
  ];
  for (const p of precedence) {
    it(`takes ${p.name} from the flag over env over config over the default`, () => {
      const base = prodEnv();
      // Sources must exist in production at every level but the default; check that level in local mode.
      const local = { APP_ENV: 'local' };
      assert.deepEqual(p.read(resolve(p.flags, { ...base, ...p.env }, fullConfig())), p.flag, 'flag');
      assert.deepEqual(p.read(resolve({}, { ...base, ...p.env }, fullConfig())), p.fromEnv, 'env');
      const { SECRET_NAME: _, ...noSecretName } = base;
      assert.deepEqual(p.read(resolve({}, noSecretName, fullConfig())), p.fromConfig, 'config');
      assert.deepEqual(p.read(resolve({}, local)), p.fallback, 'default');
    });
  }

  it('takes APP_ENV from the flag over the environment', () => {
    assert.equal(resolve({ appEnv: 'local' }, prodEnv()).appEnv, 'local');
  });

  it('ignores blank environment values as if unset', () => {
    const s = resolve({}, { ...prodEnv(), SECRETS_DIR: '  ', LOG_LEVEL: '', SECRETS_REQUIRED: ' ' }, fullConfig());
    assert.equal(s.outputDir, '/srv/app/config-out');
    assert.equal(s.logLevel, 'info');
    assert.deepEqual(s.required, ['FROM_CONFIG']);
  });

  it('takes the region from AWS_DEFAULT_REGION when AWS_REGION is not set, and AWS_REGION over it', () => {
    assert.equal(
      resolve({}, { ...prodEnv(), AWS_REGION: undefined, AWS_DEFAULT_REGION: 'eu-north-1' }).region,
      'eu-north-1',
    );
    assert.equal(resolve({}, { ...prodEnv(), AWS_DEFAULT_REGION: 'eu-north-1' }).region, 'eu-west-1');
  });

  it('resolves relative paths against cwd and normalises absolute ones', () => {
    const s = resolve({ dotenv: '../shared/.env', outputDir: '/run//secrets/./x/..' }, prodEnv());
    assert.equal(s.dotenvPath, '/srv/shared/.env');
    assert.equal(s.outputDir, '/run/secrets');
  });

  const bad: { name: string; flags?: RenderFlags; env: Record<string, string | undefined>; problem: string }[] = [
    // bad case: a region that is not a region name, a deadline past 1 h
    {
      name: 'AWS_REGION malformed',
      env: { ...prodEnv(), AWS_REGION: 'us east' },
      problem: 'AWS_REGION "us east" is not a region name such as "us-east-1"',
    },
    {
      name: 'AWS_DEFAULT_REGION malformed, named as the variable it came from',
      env: { ...prodEnv(), AWS_REGION: undefined, AWS_DEFAULT_REGION: 'eu_west_1' },
      problem: 'AWS_DEFAULT_REGION "eu_west_1" is not a region name such as "us-east-1"',
    },
    {
      name: 'SECRETS_TIMEOUT above 1h',
      env: { ...prodEnv(), SECRETS_TIMEOUT: '600h' },
      problem: 'SECRETS_TIMEOUT: "600h" is longer than the maximum of 1h',
    },
    {
      name: '--timeout above 1h (the flag is named, not the variable it overrides)',
      flags: { timeout: '2h' },
      env: { ...prodEnv(), SECRETS_TIMEOUT: '5s' },
      problem: '--timeout: "2h" is longer than the maximum of 1h',
    },
    {
      name: 'SECRETS_TIMEOUT of a thousand digits (not a finite number)',
      env: { ...prodEnv(), SECRETS_TIMEOUT: '9'.repeat(1000) },
      problem: `SECRETS_TIMEOUT: "${'9'.repeat(40)}..." is longer than the maximum of 1h`,
    },
    // bad case: APP_ENV missing, blank or unknown
    { name: 'APP_ENV missing', env: { ...prodEnv(), APP_ENV: undefined }, problem: 'APP_ENV is required' },
    { name: 'APP_ENV blank', env: { ...prodEnv(), APP_ENV: ' ' }, problem: 'APP_ENV is required' },
    {
      name: 'APP_ENV unknown',
      env: { ...prodEnv(), APP_ENV: 'staging' },
      problem: 'APP_ENV must be "local" or "production", not "staging"',
    },
    {
      name: 'APP_ENV in another case',
      env: { ...prodEnv(), APP_ENV: 'Production' },
      problem: 'APP_ENV must be "local" or "production", not "Production"',
    },
    // bad case: production without region or source
    {
      name: 'production without AWS_REGION',
      env: { ...prodEnv(), AWS_REGION: undefined },
      problem: 'AWS_REGION (or AWS_DEFAULT_REGION) is required when APP_ENV=production',
    },
    {
      name: 'production without SECRET_NAME or config sources',
      env: { ...prodEnv(), SECRET_NAME: undefined },
      problem: 'SECRET_NAME (or spec.sources in the config) is required when APP_ENV=production',
    },
    {
      name: 'production with only commas in SECRET_NAME',
      env: { ...prodEnv(), SECRET_NAME: ' , ' },
      problem: 'SECRET_NAME (or spec.sources in the config) is required when APP_ENV=production',
    },
    // bad case: malformed values
    {
      name: 'world-readable SECRETS_FILE_MODE',
      env: { ...prodEnv(), SECRETS_FILE_MODE: '0644' },
      problem: 'SECRETS_FILE_MODE: mode 0644 gives access to others; secrets are never world-accessible',
    },
    {
      name: 'SECRETS_FILE_OWNER by name',
      env: { ...prodEnv(), SECRETS_FILE_OWNER: 'app' },
      problem: 'SECRETS_FILE_OWNER: must be "uid:gid" with numeric ids',
    },
    {
      name: 'an invalid name in SECRETS_REQUIRED',
      env: { ...prodEnv(), SECRETS_REQUIRED: 'OK,NOT-OK' },
      problem: 'SECRETS_REQUIRED: "NOT-OK" is not a valid variable name',
    },
    {
      name: 'SECRETS_TIMEOUT not a duration',
      env: { ...prodEnv(), SECRETS_TIMEOUT: 'soon' },
      problem: 'SECRETS_TIMEOUT: "soon" is not a duration such as "30s", "5m" or "1h"',
    },
    {
      name: 'SECRETS_TIMEOUT zero',
      env: { ...prodEnv(), SECRETS_TIMEOUT: '0' },
      problem: 'SECRETS_TIMEOUT: "0" is shorter than the minimum of 1ms',
    },
    {
      name: 'unknown LOG_LEVEL',
      env: { ...prodEnv(), LOG_LEVEL: 'verbose' },
      problem: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    },
    {
      name: 'a bad flag even when the env is good',
      flags: { mode: '0777' },
      env: { ...prodEnv(), SECRETS_FILE_MODE: '0440' },
      problem: 'SECRETS_FILE_MODE: mode 0777 gives access to others; secrets are never world-accessible',
    },
  ];
  for (const c of bad) {
    it(`refuses with exit 2: ${c.name}`, () => {
      const err = usageError(() => resolve(c.flags ?? {}, c.env));
      assert.ok(err.message.includes(c.problem), `message: ${err.message}`);
    });
  }

  it('takes production sources from the config when SECRET_NAME is unset', () => {
    const s = resolve({}, { APP_ENV: 'production', AWS_REGION: 'eu-west-1' }, config({ sources: ['a', 'b'] }));
    assert.deepEqual(s.sources.map(secretIdOf), ['a', 'b']);
  });

  it('reports every problem in one UsageError', () => {
    const err = usageError(() =>
      resolve(
        {},
        {
          APP_ENV: 'production',
          SECRETS_FILE_MODE: '0666',
          SECRETS_FILE_OWNER: 'root',
          SECRETS_REQUIRED: '1BAD',
          SECRETS_TIMEOUT: 'x',
          LOG_LEVEL: 'loud',
        },
      ),
    );
    assert.equal(
      err.message,
      [
        'AWS_REGION (or AWS_DEFAULT_REGION) is required when APP_ENV=production',
        'SECRET_NAME (or spec.sources in the config) is required when APP_ENV=production',
        'SECRETS_FILE_MODE: mode 0666 gives access to others; secrets are never world-accessible',
        'SECRETS_FILE_OWNER: must be "uid:gid" with numeric ids',
        'SECRETS_REQUIRED: "1BAD" is not a valid variable name',
        'SECRETS_TIMEOUT: "x" is not a duration such as "30s", "5m" or "1h"',
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      ].join('; '),
    );
  });
});
