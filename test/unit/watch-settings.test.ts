import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWatchFlags } from '../../cli/watch-command.ts';
import { type ConfigFile, validateConfig } from '../../shared/config.ts';
import { UsageError } from '../../shared/errors.ts';
import { resolveWatchSettings } from '../../watcher/watch-settings.ts';

const env = { AWS_REGION: 'eu-west-1' };
function config(watch: unknown): ConfigFile {
  const r = validateConfig({ apiVersion: 'secrets-init/v1', kind: 'SecretsInit', spec: { watch } });
  if ('problems' in r) throw new Error(r.problems.join('; '));
  return r.config;
}
const withWatch = config({
  clusters: [
    { name: 'blue', services: [{ name: 'api', secrets: ['db'] }] },
    { name: 'green', services: [{ name: 'api', secrets: ['db', 'openai'] }] },
  ],
  interval: '2m',
  maxRedeploys: 4,
});
const resolve = (args: string[], e: Record<string, string> = env, c?: ConfigFile) =>
  resolveWatchSettings(parseWatchFlags(args), e, c);

describe('watch settings', () => {
  it('defaults: 5m interval, 10 redeploys per window (the interval), 60s pass deadline, 10 calls in flight, +-10% jitter, unsigned', () => {
    const s = resolve(['--cluster', 'prod']);
    assert.deepEqual(s.source, { kind: 'discover', clusters: ['prod'] });
    assert.equal(s.intervalMs, 300_000);
    assert.equal(s.maxRedeploys, 10);
    assert.equal(s.passTimeoutMs, 60_000);
    assert.equal(s.concurrency, 10);
    assert.equal(s.jitter, 0.1);
    assert.equal(s.once, false);
    assert.equal(s.dryRun, false);
    assert.equal(s.region, 'eu-west-1');
    assert.equal(s.logLevel, 'info');
    assert.equal(s.capWindowMs, 300_000);
    assert.equal(s.stateKey, undefined);
    assert.equal(s.claimSettleMs, 2000);
    assert.equal(s.metricsNamespace, 'SecretsInit/Watcher');
  });

  it('reads the state key, the cap window, the claim settle time and the metrics namespace from flags, environment and config', () => {
    const c = config({
      clusters: [{ name: 'b', services: [{ name: 'a', secrets: ['db'] }] }],
      stateKey: 'cfg/key',
      capWindow: '15m',
    });
    const fromConfig = resolve([], env, c);
    assert.deepEqual([fromConfig.stateKey, fromConfig.capWindowMs], ['cfg/key', 900_000]);
    const e = { ...env, WATCH_STATE_KEY: 'env/key', WATCH_CAP_WINDOW: '10m', WATCH_METRICS_NAMESPACE: 'Acme/Watcher' };
    const fromEnv = resolve([], e, c);
    assert.deepEqual(
      [fromEnv.stateKey, fromEnv.capWindowMs, fromEnv.metricsNamespace],
      ['env/key', 600_000, 'Acme/Watcher'],
    );
    const fromFlags = resolve(
      ['--state-key', 'flag/key', '--cap-window', '1h', '--claim-settle', '500ms', '--metrics-namespace', 'X'],
      e,
      c,
    );
    assert.deepEqual(
      [fromFlags.stateKey, fromFlags.capWindowMs, fromFlags.claimSettleMs, fromFlags.metricsNamespace],
      ['flag/key', 3_600_000, 500, 'X'],
    );
  });

  it('reports every problem at once, each naming its source', () => {
    assert.throws(
      () => resolve(['--interval', 'soon', '--max-redeploys', '0'], { LOG_LEVEL: 'loud' }),
      (err: unknown) =>
        err instanceof UsageError &&
        ['AWS_REGION', 'LOG_LEVEL', 'nothing to watch', '--interval', '--max-redeploys'].every((w) =>
          err.message.includes(w),
        ),
    );
  });

  it('takes the region from AWS_DEFAULT_REGION when AWS_REGION is not set, and AWS_REGION over it', () => {
    assert.equal(resolve(['--cluster', 'p'], { AWS_DEFAULT_REGION: 'eu-north-1' }).region, 'eu-north-1');
    assert.equal(resolve(['--cluster', 'p'], { ...env, AWS_DEFAULT_REGION: 'eu-north-1' }).region, 'eu-west-1');
  });

  it('takes bindings from the config (several clusters) when no cluster is named', () => {
    const s = resolve([], env, withWatch);
    assert.equal(s.source.kind, 'config');
    assert.deepEqual(s.source.kind === 'config' && s.source.clusters.map((c) => c.name), ['blue', 'green']);
    assert.equal(s.intervalMs, 120_000);
    assert.equal(s.maxRedeploys, 4);
  });

  it('flags override the environment, which overrides the config', () => {
    const e = {
      ...env,
      WATCH_CLUSTER: 'from-env, other',
      WATCH_INTERVAL: '90s',
      WATCH_MAX_REDEPLOYS: '3',
      WATCH_DRY_RUN: 'true',
    };
    const fromEnv = resolve([], e, withWatch);
    assert.deepEqual(fromEnv.source, { kind: 'discover', clusters: ['from-env', 'other'] });
    assert.equal(fromEnv.intervalMs, 90_000);
    assert.equal(fromEnv.maxRedeploys, 3);
    assert.equal(fromEnv.dryRun, true);
    const fromFlags = resolve(
      ['--cluster', 'a', '--cluster', 'b', '--interval', '30s', '--max-redeploys', '2'],
      e,
      withWatch,
    );
    assert.deepEqual(fromFlags.source, { kind: 'discover', clusters: ['a', 'b'] });
    assert.equal(fromFlags.intervalMs, 30_000);
    assert.equal(fromFlags.maxRedeploys, 2);
  });

  it('names each cluster once, whether given by name or by ARN (first spelling kept)', () => {
    const arn = 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod';
    assert.deepEqual(resolve(['--cluster', 'prod', '--cluster', arn, '--cluster', 'prod']).source, {
      kind: 'discover',
      clusters: ['prod'],
    });
    assert.deepEqual(resolve([], { ...env, WATCH_CLUSTER: `${arn},prod,other` }).source, {
      kind: 'discover',
      clusters: [arn, 'other'],
    });
  });

  it('reads --once, --dry-run, --pass-timeout and --concurrency', () => {
    const s = resolve(['--cluster', 'p', '--once', '--dry-run', '--pass-timeout', '20s', '--concurrency', '16']);
    assert.equal(s.once, true);
    assert.equal(s.dryRun, true);
    assert.equal(s.passTimeoutMs, 20_000);
    assert.equal(s.concurrency, 16);
  });

  const usage: [string, () => unknown, RegExp][] = [
    ['AWS_REGION missing', () => resolve(['--cluster', 'p'], {}), /AWS_REGION \(or AWS_DEFAULT_REGION\) is required/],
    ['nothing to watch', () => resolve([]), /nothing to watch/],
    ['a config without spec.watch', () => resolve([], env, config(undefined)), /no spec.watch.clusters/],
    ['an unknown flag', () => resolve(['--clustr', 'p']), /Unknown option '--clustr'/],
    ['a positional argument', () => resolve(['prod']), /positional/i],
    [
      'a bad interval',
      () => resolve(['--cluster', 'p', '--interval', 'soon']),
      /^--interval: "soon" is not a duration/,
    ],
    [
      'an interval under 1s',
      () => resolve(['--cluster', 'p', '--interval', '500ms']),
      /^--interval: .* minimum of 1s$/,
    ],
    [
      'an interval longer than a timer holds',
      () => resolve(['--cluster', 'p', '--interval', '720h']),
      /^--interval: "720h" is longer than the maximum of 2147483647ms \(about 24.8 days/,
    ],
    [
      'a WATCH_INTERVAL longer than a timer holds',
      () => resolve([], { ...env, WATCH_CLUSTER: 'p', WATCH_INTERVAL: '597h' }),
      /^WATCH_INTERVAL: "597h" is longer than the maximum/,
    ],
    [
      'a pass deadline longer than a timer holds',
      () => resolve(['--cluster', 'p', '--pass-timeout', '1200h']),
      /^--pass-timeout: "1200h" is longer than the maximum/,
    ],
    [
      'a negative pass deadline',
      () => resolve(['--cluster', 'p', '--pass-timeout=-5s']),
      /^--pass-timeout: "-5s" is not a duration/,
    ],
    ['a bad WATCH_INTERVAL', () => resolve([], { ...env, WATCH_CLUSTER: 'p', WATCH_INTERVAL: 'x' }), /WATCH_INTERVAL/],
    [
      'a zero cap',
      () => resolve(['--cluster', 'p', '--max-redeploys', '0']),
      /--max-redeploys must be a whole number from 1/,
    ],
    ['a fractional cap', () => resolve(['--cluster', 'p', '--max-redeploys', '1.5']), /--max-redeploys/],
    [
      'a bad WATCH_DRY_RUN',
      () => resolve([], { ...env, WATCH_CLUSTER: 'p', WATCH_DRY_RUN: 'maybe' }),
      /WATCH_DRY_RUN must be true or false/,
    ],
    ['a bad LOG_LEVEL', () => resolve(['--cluster', 'p'], { ...env, LOG_LEVEL: 'loud' }), /LOG_LEVEL must be one of/],
    [
      'too much concurrency',
      () => resolve(['--cluster', 'p', '--concurrency', '500']),
      /--concurrency must be a whole number from 1 to 64/,
    ],
    [
      'a cap window longer than a timer holds',
      () => resolve(['--cluster', 'p', '--cap-window', '720h']),
      /^--cap-window: "720h" is longer than the maximum/,
    ],
    [
      'a claim settle as long as the pass deadline (every claim would be taken back)',
      () => resolve(['--cluster', 'p', '--claim-settle', '60s', '--pass-timeout', '60s']),
      /--claim-settle \(60000 ms\) must be shorter than --pass-timeout \(60000 ms\)/,
    ],
    [
      'a metrics namespace CloudWatch refuses',
      () => resolve(['--cluster', 'p', '--metrics-namespace', 'bad namespace!']),
      /is not a CloudWatch namespace/,
    ],
  ];
  for (const [name, run, message] of usage) {
    it(`rejects ${name} with a usage error (exit 2)`, () => {
      assert.throws(
        run,
        (err: unknown) => err instanceof UsageError && err.exitCode === 2 && message.test(err.message),
      );
    });
  }
});
