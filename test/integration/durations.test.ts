import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { removeDir, runCli, tempDir } from '../helpers/cli.ts';
import { awsEnv, freePort } from '../helpers/moto.ts';

// Every duration the CLI reads (flags, environment, config; render, watch, check), through the shipped bundle:
// one a Node.js timer cannot hold (2^31-1 ms, about 24.8 days) or one that is not a finite duration is a usage
// error (exit 2) naming where it came from, before any AWS call. A timer given more fires after 1 ms: `watch
// --interval 720h` used to pass hundreds of times a second, and `--pass-timeout 1200h` ended in exit 1.

let proxy: AwsProxy;
let work: string;

before(async () => {
  // The counting proxy in front of a closed port: any AWS call at all shows up in its counts.
  proxy = await startAwsProxy(`http://127.0.0.1:${await freePort()}`);
  work = tempDir('secrets-init-durations-');
});
after(async () => {
  await proxy?.close();
  if (work) removeDir(work);
});

function config(name: string, spec: string): string {
  const path = join(work, `${name}.yaml`);
  writeFileSync(path, `apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n${spec}`);
  return path;
}

const renderEnv = (extra: Record<string, string> = {}) => ({
  ...awsEnv(proxy.endpoint),
  APP_ENV: 'production',
  SECRET_NAME: 'app',
  SECRETS_DIR: join(work, 'out'),
  ...extra,
});
const watchEnv = (extra: Record<string, string> = {}) => ({ ...awsEnv(proxy.endpoint), ...extra });
const watchSpec = (extra = '') =>
  `  watch:\n    clusters:\n      - name: c\n        services:\n          - { name: api, secrets: [app] }\n${extra}`;

interface Case {
  readonly name: string;
  readonly args: () => string[];
  readonly env: () => Record<string, string>;
  /** What the one stderr line names: the flag, the variable or the config path. */
  readonly names: string;
  readonly problem?: RegExp;
}

const TOO_LONG = /is longer than the maximum of/;
const NOT_A_DURATION = /is not a duration such as/;

const cases: Case[] = [
  { name: 'render --timeout 720h', args: () => ['render', '--timeout', '720h'], env: renderEnv, names: '--timeout' },
  {
    name: 'render SECRETS_TIMEOUT=720h',
    args: () => ['render'],
    env: () => renderEnv({ SECRETS_TIMEOUT: '720h' }),
    names: 'SECRETS_TIMEOUT',
  },
  {
    name: 'render SECRETS_TIMEOUT of a thousand digits',
    args: () => ['render'],
    env: () => renderEnv({ SECRETS_TIMEOUT: '9'.repeat(1000) }),
    names: 'SECRETS_TIMEOUT',
  },
  {
    name: 'render SECRETS_TIMEOUT=Infinity',
    args: () => ['render'],
    env: () => renderEnv({ SECRETS_TIMEOUT: 'Infinity' }),
    names: 'SECRETS_TIMEOUT',
    problem: NOT_A_DURATION,
  },
  {
    name: 'render spec.timeout: 720h',
    args: () => ['render', '--config', config('render-timeout', '  timeout: 720h\n')],
    env: renderEnv,
    names: 'spec.timeout',
  },
  {
    name: 'watch --interval 720h',
    args: () => ['watch', '--cluster', 'c', '--interval', '720h'],
    env: watchEnv,
    names: '--interval',
  },
  {
    name: 'watch --interval 1e400',
    args: () => ['watch', '--cluster', 'c', '--interval', '1e400'],
    env: watchEnv,
    names: '--interval',
    problem: NOT_A_DURATION,
  },
  {
    name: 'watch WATCH_INTERVAL=720h',
    args: () => ['watch', '--cluster', 'c'],
    env: () => watchEnv({ WATCH_INTERVAL: '720h' }),
    names: 'WATCH_INTERVAL',
  },
  {
    name: 'watch spec.watch.interval: 720h',
    args: () => ['watch', '--config', config('watch-interval', watchSpec('    interval: 720h\n'))],
    env: watchEnv,
    names: 'spec.watch.interval',
  },
  {
    name: 'watch --once --pass-timeout 1200h',
    args: () => ['watch', '--cluster', 'c', '--once', '--pass-timeout', '1200h'],
    env: watchEnv,
    names: '--pass-timeout',
  },
  {
    name: 'check --remote with SECRETS_TIMEOUT=720h',
    args: () => ['check', '--remote', '--secret-name', 'app'],
    env: () => watchEnv({ SECRETS_TIMEOUT: '720h' }),
    names: 'SECRETS_TIMEOUT',
  },
  {
    name: 'check --config with spec.watch.interval: 720h',
    args: () => ['check', '--config', config('check-interval', watchSpec('    interval: 720h\n'))],
    env: watchEnv,
    names: 'spec.watch.interval',
  },
];

describe('a duration no timer can hold is a usage error (exit 2) naming its source, before any AWS call', () => {
  for (const c of cases) {
    test(c.name, async () => {
      proxy.resetCounts();
      const command = c.args()[0]!;
      // The old watch loop never ended by itself: killed after 20 s, it has no exit code and fails here.
      const res = await runCli(c.args(), c.env(), { cwd: work, timeoutMs: 20_000 });
      assert.equal(res.code, 2, `exit code (signal ${res.signal}); stderr: ${res.stderr.slice(0, 500)}`);
      const lines = res.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line on stderr, got: ${res.stderr.slice(0, 500)}`);
      const at = lines[0]!.indexOf(`${c.names}: `);
      assert.ok(at >= 0, `names ${c.names}: ${lines[0]}`);
      assert.ok(lines[0]!.startsWith(`secrets-init ${command}: `), lines[0]);
      assert.match(lines[0]!.slice(at), c.problem ?? TOO_LONG);
      assert.deepEqual(proxy.counts(), {}, 'no AWS call');
    });
  }
});
