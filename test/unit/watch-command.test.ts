import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../cli/main.ts';
import { createWatchCommand, type WatchCommandDeps } from '../../cli/watch-command.ts';
import type { EcsPort } from '../../shared/aws-ports.ts';
import { FINGERPRINT_TAG, SECRETS_TAG } from '../../shared/contract.ts';
import { UsageError } from '../../shared/errors.ts';
import { FakeAws } from '../fakes/aws.ts';
import { fakeCliIo } from '../fakes/cli-io.ts';

const io = (env: Record<string, string>, shutdown?: AbortSignal) => fakeCliIo({ env, ...(shutdown && { shutdown }) });

/** One cluster "prod" with one tagged service "api" bound to "db" (the shared fake AWS); `denied`: DescribeSecret fails. */
function fakeDeps(opts: { denied?: boolean; onSleep?: (n: number) => void; recorded?: boolean } = {}) {
  const aws = new FakeAws();
  aws.addSecret('db');
  aws.addService('prod', 'api', { [SECRETS_TAG]: 'db' });
  if (opts.denied)
    aws.fault = (action) => (action === 'DescribeSecret' ? { refuse: 'AccessDeniedException' } : undefined);
  const created: { region: string; requestTimeoutMs: number }[] = [];
  const sent: { via: 'ecs' | 'deploy'; action: string }[] = [];
  const via = (name: 'ecs' | 'deploy') =>
    ({
      send: (cmd: unknown, o?: object) => {
        sent.push({ via: name, action: (cmd as object).constructor.name.replace(/Command$/, '') });
        return (aws.ecs.send as (c: unknown, o?: object) => Promise<unknown>)(cmd, o);
      },
    }) as unknown as EcsPort;
  let sleeps = 0;
  const deps: WatchCommandDeps = {
    createClients: (region, requestTimeoutMs) => {
      created.push({ region, requestTimeoutMs });
      return { ecs: via('ecs'), deploy: via('deploy'), secrets: aws.sm };
    },
    sleep: async () => {
      opts.onSleep?.(++sleeps);
    },
    now: () => aws.clock,
    monotonic: () => performance.now(),
    random: () => 0.5,
  };
  return { deps, created, sent, aws };
}

describe('secrets-init watch (in process)', () => {
  it('prints usage for --help, exit 0, without creating a client', async () => {
    const f = fakeDeps();
    const t = io({});
    assert.equal(await createWatchCommand(f.deps)(['--help'], t.io), 0);
    assert.match(t.out(), /^Usage: secrets-init watch/);
    assert.match(t.out(), /--max-redeploys N/);
    assert.deepEqual(f.created, []);
  });

  it('fails with exit 2 before any client exists when AWS_REGION is missing', async () => {
    const f = fakeDeps();
    await assert.rejects(
      createWatchCommand(f.deps)(['--cluster', 'prod', '--once'], io({}).io),
      (e: unknown) => e instanceof UsageError,
    );
    assert.deepEqual(f.created, []);
    const t = io({ WATCH_CLUSTER: 'prod' });
    assert.equal(await main(['watch', '--once'], t.io), 2);
    assert.equal(t.err(), 'secrets-init watch: AWS_REGION (or AWS_DEFAULT_REGION) is required\n');
  });

  it('reports every problem of a bad config file with its path, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'watch-config-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(
        file,
        'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  watch:\n    clusters:\n      - name: prod\n        services:\n          - name: api\n',
      );
      const t = io({ AWS_REGION: 'us-east-1', SECRETS_CONFIG: file });
      assert.equal(await main(['watch', '--once'], t.io), 2);
      assert.match(t.err(), /spec\.watch\.clusters\[0\]\.services\[0\]\.secrets: must name at least one secret/);
      const broken = join(dir, 'broken.yaml');
      writeFileSync(broken, 'spec: [unclosed\n  password: hunter2-not-shown\n');
      const yaml = io({ AWS_REGION: 'us-east-1' });
      assert.equal(await main(['watch', '--config', broken], yaml.io), 2);
      assert.match(yaml.err(), /config ".*broken.yaml": invalid YAML/);
      assert.ok(!yaml.err().includes('hunter2'), 'the offending line is not echoed');
      const missing = io({ AWS_REGION: 'us-east-1' });
      assert.equal(await main(['watch', '--config', join(dir, 'nope.yaml')], missing.io), 2);
      assert.match(missing.err(), /config ".*nope.yaml": ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--once runs one pass, logs JSON on stdout and exits 0', async () => {
    const f = fakeDeps();
    const t = io({ AWS_REGION: 'eu-west-1', WATCH_CLUSTER: 'prod' });
    assert.equal(await createWatchCommand(f.deps)(['--once', '--pass-timeout', '6s'], t.io), 0);
    assert.deepEqual(f.created, [{ region: 'eu-west-1', requestTimeoutMs: 2000 }]);
    const events = t.lines().map((l) => l.event);
    assert.deepEqual(events, ['watch.start', 'watch.unsigned', 'watch.decision', 'watch.outcome', 'watch.pass']);
    assert.match(f.aws.tag('prod', 'api', FINGERPRINT_TAG) ?? '', /^v2 s=ok /);
  });

  it('sends UpdateService through the deploy client (never resent), everything else through the ECS client', async () => {
    const f = fakeDeps();
    const t = io({ AWS_REGION: 'eu-west-1', WATCH_CLUSTER: 'prod' });
    assert.equal(await createWatchCommand(f.deps)(['--once', '--claim-settle', '1ms'], t.io), 0);
    f.aws.rotate('db', 'db-v2');
    f.sent.length = 0;
    assert.equal(await createWatchCommand(f.deps)(['--once', '--claim-settle', '1ms'], t.io), 0);
    assert.deepEqual(f.sent, [
      { via: 'ecs', action: 'ListServices' },
      { via: 'ecs', action: 'DescribeServices' },
      { via: 'ecs', action: 'DescribeTaskDefinition' },
      { via: 'ecs', action: 'TagResource' },
      { via: 'ecs', action: 'DescribeServices' },
      { via: 'deploy', action: 'UpdateService' },
      { via: 'ecs', action: 'TagResource' },
    ]);
  });

  it('measures the interval on a monotonic clock: a wall clock stepped back an hour does not silence the loop', async () => {
    const ac = new AbortController();
    const f = fakeDeps({ onSleep: (n) => n === 3 && ac.abort('SIGTERM') });
    let wall = Date.UTC(2026, 10, 29, 12);
    const deps = { ...f.deps, now: () => (wall -= 3_600_000) };
    const t = io({ AWS_REGION: 'eu-west-1', WATCH_CLUSTER: 'prod' }, ac.signal);
    assert.equal(await createWatchCommand(deps)(['--interval', '1s'], t.io), 0);
    assert.equal(t.lines().filter((l) => l.event === 'watch.pass').length, 3, 'a pass each interval');
  });

  it('--once fails with exit 3 and one line naming the first failure when a binding failed', async () => {
    const f = fakeDeps({ denied: true });
    const t = io({ AWS_REGION: 'eu-west-1' });
    await assert.rejects(createWatchCommand(f.deps)(['--once', '--cluster', 'prod'], t.io), {
      name: 'SourceError',
      exitCode: 3,
      message: 'pass failed: reading secret "db" for service api: AccessDeniedException',
    });
    const failure = t.lines().find((l) => l.event === 'watch.failure');
    assert.equal(failure?.service, 'api');
    assert.equal(failure?.secretId, 'db');
    assert.equal(failure?.error, 'AccessDeniedException');
  });

  it('loops until shutdown, then exits 0 even if the last pass failed', async () => {
    const ac = new AbortController();
    const f = fakeDeps({ denied: true, onSleep: (n) => n === 2 && ac.abort('SIGTERM') });
    const t = io({ AWS_REGION: 'eu-west-1', WATCH_CLUSTER: 'prod' }, ac.signal);
    assert.equal(await createWatchCommand(f.deps)(['--interval', '1s'], t.io), 0);
    const lines = t.lines();
    assert.equal(lines.filter((l) => l.event === 'watch.pass').length, 2);
    assert.deepEqual(lines.at(-1)?.event, 'watch.stop');
    assert.equal(lines.at(-1)?.passes, 2);
  });
});
