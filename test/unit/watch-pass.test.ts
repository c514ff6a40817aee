import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DescribeServicesCommand,
  ListServicesCommand,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { EcsPort, SecretsPort } from '../../shared/aws-ports.ts';
import { createLogger } from '../../shared/logger.ts';
import { failureMessage, type PassOptions, passExitCode, runPass } from '../../watcher/run-pass.ts';

/**
 * A small in-memory AWS: ECS services with tags, secrets with an AWSCURRENT version. It answers the five calls
 * the watcher makes (anything else throws), records every call, and can fail or slow chosen calls.
 */
class FakeAws {
  readonly services = new Map<
    string,
    { cluster: string; name: string; arn: string; status: string; tags: Map<string, string>; deployedAt: number }
  >();
  /** Deployment times: each service created and each UpdateService takes the next tick. */
  private clock = 0;
  readonly secrets = new Map<string, { arn: string; current: string }>();
  readonly calls: { action: string; input: Record<string, unknown> }[] = [];
  fail: (action: string, input: Record<string, unknown>) => string | undefined = () => undefined;
  latencyMs = 0;
  /** Per-call latency; the default is `latencyMs`. The call is aborted by its abortSignal, as the SDK's would be. */
  delay: (action: string) => number = () => this.latencyMs;
  inFlight = 0;
  maxInFlight = 0;

  addService(cluster: string, name: string, tags: Record<string, string> = {}, status = 'ACTIVE'): void {
    const arn = `arn:aws:ecs:us-east-1:123456789012:service/${cluster}/${name}`;
    this.services.set(arn, {
      cluster,
      name,
      arn,
      status,
      tags: new Map(Object.entries(tags)),
      deployedAt: ++this.clock,
    });
  }
  addSecret(name: string, current = `${name}-v1`): void {
    this.secrets.set(name, { arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`, current });
  }
  rotate(name: string, current: string): void {
    this.secrets.get(name)!.current = current;
  }
  tag(cluster: string, name: string, key: string): string | undefined {
    return [...this.services.values()].find((s) => s.cluster === cluster && s.name === name)?.tags.get(key);
  }
  count(action: string): number {
    return this.calls.filter((c) => c.action === action).length;
  }
  updated(): string[] {
    return this.calls.filter((c) => c.action === 'UpdateService').map((c) => String(c.input.service));
  }

  readonly ecs = {
    send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => this.answer(cmd, opts),
  } as unknown as EcsPort;
  readonly sm = {
    send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => this.answer(cmd, opts),
  } as unknown as SecretsPort;

  private async answer(cmd: unknown, opts?: { abortSignal?: AbortSignal }): Promise<unknown> {
    const action = (cmd as object).constructor.name.replace(/Command$/, '');
    const input = (cmd as { input: Record<string, unknown> }).input;
    this.calls.push({ action, input });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      const ms = this.delay(action);
      if (ms > 0) await abortable(ms, opts?.abortSignal);
      const error = this.fail(action, input);
      if (error)
        throw Object.assign(new Error(`${error} for request 1234`), {
          name: error,
          $metadata: { httpStatusCode: 400 },
        });
      return this.handle(cmd);
    } finally {
      this.inFlight--;
    }
  }

  private handle(cmd: unknown): unknown {
    if (cmd instanceof ListServicesCommand) {
      const all = [...this.services.values()].filter(
        (s) => s.cluster === clusterOf(cmd.input.cluster) && s.status !== 'INACTIVE',
      );
      const start = Number(cmd.input.nextToken ?? 0);
      const end = start + (cmd.input.maxResults ?? 10);
      return {
        serviceArns: all.slice(start, end).map((s) => s.arn),
        nextToken: end < all.length ? String(end) : undefined,
      };
    }
    if (cmd instanceof DescribeServicesCommand) {
      const ids = cmd.input.services ?? [];
      if (ids.length > 10) throw Object.assign(new Error('too many'), { name: 'InvalidParameterException' });
      const found = ids.map((id) =>
        [...this.services.values()].find(
          (s) => s.cluster === clusterOf(cmd.input.cluster) && (s.arn === id || s.name === id),
        ),
      );
      return {
        services: found
          .filter((s) => s !== undefined)
          .map((s) => ({
            serviceName: s.name,
            serviceArn: s.arn,
            status: s.status,
            tags: cmd.input.include?.includes('TAGS') ? [...s.tags].map(([key, value]) => ({ key, value })) : undefined,
            deployments: [{ status: 'PRIMARY', createdAt: new Date(s.deployedAt) }],
          })),
        failures: ids.filter((_, i) => !found[i]).map((id) => ({ arn: id, reason: 'MISSING' })),
      };
    }
    if (cmd instanceof UpdateServiceCommand) {
      const s = [...this.services.values()].find(
        (x) =>
          x.cluster === clusterOf(cmd.input.cluster) && (x.arn === cmd.input.service || x.name === cmd.input.service),
      )!;
      s.deployedAt = ++this.clock;
      return { service: {} };
    }
    if (cmd instanceof TagResourceCommand) {
      const s = this.services.get(cmd.input.resourceArn!)!;
      for (const t of cmd.input.tags ?? []) s.tags.set(t.key!, t.value!);
      return {};
    }
    if (cmd instanceof DescribeSecretCommand) {
      const id = cmd.input.SecretId!;
      const s =
        this.secrets.get(id) ?? [...this.secrets.values()].find((x) => x.arn === id || x.arn.slice(0, -7) === id);
      if (!s) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
      return { ARN: s.arn, VersionIdsToStages: { [s.current]: ['AWSCURRENT'], pending: ['AWSPENDING'] } };
    }
    throw new Error(`the watcher must not send ${(cmd as object).constructor.name}`);
  }
}

/** ECS takes a cluster's name or its ARN. */
const clusterOf = (id: string | undefined) => id?.replace(/^arn:aws:ecs:[^:]*:[^:]*:cluster\//, '');

function abortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
  });
}

function logs() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines, events: (event: string) => lines.filter((l) => l.event === event) };
}

const base: PassOptions = {
  source: { kind: 'discover', clusters: ['prod'] },
  maxRedeploys: 10,
  dryRun: false,
  concurrency: 8,
  timeoutMs: 5000,
};

/** prod: api (db, openai), worker (db), web (no tag: not ours). */
function seeded() {
  const aws = new FakeAws();
  aws.addSecret('db');
  aws.addSecret('openai');
  aws.addService('prod', 'api', { 'secrets-init/secrets': 'db openai' });
  aws.addService('prod', 'worker', { 'secrets-init/secrets': 'db' });
  aws.addService('prod', 'web');
  const l = logs();
  const pass = (o: Partial<PassOptions> = {}) =>
    runPass({ ecs: aws.ecs, secrets: aws.sm, log: l.log, now: Date.now }, { ...base, ...o });
  return { aws, pass, ...l };
}

describe('runPass', () => {
  it('first pass records a fingerprint on each tagged service and redeploys nothing', async () => {
    const { aws, pass, events } = seeded();
    const result = await pass();
    assert.equal(aws.count('UpdateService'), 0);
    assert.equal(aws.count('TagResource'), 2);
    assert.match(aws.tag('prod', 'api', 'secrets-init/fingerprint') ?? '', /^v1:[0-9a-f]{64}$/);
    assert.equal(aws.tag('prod', 'web', 'secrets-init/fingerprint'), undefined, 'untagged services are not ours');
    assert.deepEqual(
      events('watch.decision').map((e) => [e.service, e.decision, e.reason]),
      [
        ['api', 'record', 'no-fingerprint'],
        ['worker', 'record', 'no-fingerprint'],
      ],
    );
    assert.equal(passExitCode(result), 0);
  });

  it('redeploys once, however many of its secrets rotated, then tags; the next pass does nothing', async () => {
    const { aws, pass } = seeded();
    await pass();
    aws.rotate('db', 'db-v2');
    aws.rotate('openai', 'oa-v2');
    aws.calls.length = 0;
    await pass();
    assert.deepEqual(aws.updated().sort(), ['api', 'worker']);
    for (const service of ['api', 'worker']) {
      const order = aws.calls
        .filter((c) => c.input.service === service || String(c.input.resourceArn).endsWith(`/${service}`))
        .map((c) => c.action);
      assert.deepEqual(order, ['UpdateService', 'TagResource'], `${service}: redeploy, then tag`);
    }
    aws.calls.length = 0;
    await pass();
    assert.equal(aws.count('UpdateService'), 0);
    assert.equal(aws.count('TagResource'), 0);
  });

  it('a redeploy that failed leaves the service due; the others are done, and the next pass redeploys it once', async () => {
    const { aws, pass } = seeded();
    await pass();
    aws.rotate('db', 'db-v2');
    aws.fail = (action, input) =>
      action === 'UpdateService' && input.service === 'api' ? 'ServiceNotActiveException' : undefined;
    const failed = await pass();
    assert.equal(passExitCode(failed), 3);
    assert.deepEqual(
      failed.failures.map((f) => [f.service, f.stage, f.error]),
      [['api', 'redeploy', 'ServiceNotActiveException']],
    );
    aws.fail = () => undefined;
    aws.calls.length = 0;
    await pass();
    assert.deepEqual(aws.updated(), ['api']);
  });

  it('a tag that failed after a redeploy converges: one extra redeploy, then quiet (at least once, at most one extra)', async () => {
    const { aws, pass } = seeded();
    await pass();
    aws.rotate('openai', 'oa-v2');
    aws.fail = (action) => (action === 'TagResource' ? 'ThrottlingException' : undefined);
    const failed = await pass();
    assert.deepEqual(aws.updated(), ['api']);
    assert.equal(failed.failures[0]?.stage, 'tag');
    aws.fail = () => undefined;
    await pass();
    await pass();
    await pass();
    assert.deepEqual(aws.updated(), ['api', 'api']);
  });

  it('a service bound by name and by ARN, in its cluster by name and by ARN, gets one decision a pass and converges', async () => {
    const aws = new FakeAws();
    aws.addSecret('db');
    aws.addSecret('openai');
    aws.addService('prod', 'api');
    const clusterArn = 'arn:aws:ecs:us-east-1:123456789012:cluster/prod';
    const source = {
      kind: 'config' as const,
      clusters: [
        { name: 'prod', services: [{ name: 'api', secrets: ['db'] }] },
        {
          name: clusterArn,
          services: [{ name: `${clusterArn.replace('cluster', 'service')}/api`, secrets: ['openai'] }],
        },
      ],
    };
    const { log } = logs();
    const pass = () => runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, { ...base, source });
    const first = await pass();
    assert.deepEqual(
      first.decisions.map((d) => [d.service, d.decision, d.secretIds]),
      [['api', 'record', ['db', 'openai']]],
    );
    await pass();
    await pass();
    assert.deepEqual(aws.updated(), [], 'no redeploy without a rotation');
    aws.rotate('openai', 'oa-v2');
    await pass();
    await pass();
    assert.deepEqual(aws.updated(), ['api'], 'one redeploy for one rotation');
  });

  it('discovering a cluster named by name and by ARN decides and redeploys each service once', async () => {
    const { aws, pass } = seeded();
    const clusters = ['prod', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod'];
    const first = await pass({ source: { kind: 'discover', clusters } });
    assert.deepEqual(
      first.decisions.map((d) => d.service),
      ['api', 'worker'],
    );
    aws.rotate('db', 'db-v2');
    await pass({ source: { kind: 'discover', clusters } });
    assert.deepEqual(aws.updated().sort(), ['api', 'worker']);
    assert.equal(aws.count('ListServices'), 2, 'the cluster is listed once a pass');
  });

  it('a pass deadline that falls during a redeploy does not cost a second deploy: the redeploy is tagged in the same pass', async () => {
    const { aws, pass } = seeded();
    await pass();
    aws.rotate('db', 'db-v2');
    aws.delay = (action) => (action === 'UpdateService' ? 300 : 0);
    const result = await pass({ timeoutMs: 150 });
    assert.deepEqual(result.failures, []);
    assert.deepEqual(aws.updated().sort(), ['api', 'worker']);
    aws.delay = () => 0;
    await pass();
    await pass();
    assert.deepEqual(aws.updated().sort(), ['api', 'worker'], 'no second deploy');
  });

  it('no redeploy starts after the pass deadline: the services not started stay due (exit 3) and go next pass, once', async () => {
    const { aws, pass } = seeded();
    await pass();
    aws.rotate('db', 'db-v2');
    aws.delay = (action) => (action === 'UpdateService' ? 300 : 0);
    const result = await pass({ timeoutMs: 150, concurrency: 1 });
    assert.deepEqual(aws.updated(), ['api']);
    assert.equal(passExitCode(result), 3);
    assert.deepEqual(
      result.failures.map((f) => [f.service, f.stage, f.error]),
      [['worker', 'redeploy', 'deadline exceeded before it started']],
    );
    const api = result.decisions.find((d) => d.service === 'api')!;
    assert.equal(aws.tag('prod', 'api', 'secrets-init/fingerprint'), api.newFingerprint, 'api: redeployed and tagged');
    aws.delay = () => 0;
    await pass();
    await pass();
    assert.deepEqual(aws.updated(), ['api', 'worker']);
  });

  it('--dry-run decides and logs but sends no UpdateService and no TagResource', async () => {
    const { aws, pass, events } = seeded();
    await pass({ dryRun: true });
    aws.addService('prod', 'api2', { 'secrets-init/secrets': 'db', 'secrets-init/fingerprint': 'v1:old' });
    await pass({ dryRun: true });
    assert.equal(aws.count('UpdateService'), 0);
    assert.equal(aws.count('TagResource'), 0);
    const last = events('watch.decision').slice(-3);
    assert.deepEqual(
      last.map((e) => [e.service, e.decision, e.dryRun]),
      [
        ['api', 'record', true],
        ['api2', 'redeploy', true],
        ['worker', 'record', true],
      ],
    );
  });

  it('caps redeploys per pass: with the cap at 2 and 5 due, 2 now and 3 the pass after', async () => {
    const aws = new FakeAws();
    aws.addSecret('db');
    for (const n of ['s1', 's2', 's3', 's4', 's5']) aws.addService('prod', n, { 'secrets-init/secrets': 'db' });
    const { log, events } = logs();
    const pass = () => runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, { ...base, maxRedeploys: 2 });
    await pass();
    aws.rotate('db', 'db-v2');
    await pass();
    assert.deepEqual(aws.updated(), ['s1', 's2']);
    assert.deepEqual(events('watch.pass').at(-1)?.deferred, 3);
    await pass();
    assert.deepEqual(aws.updated().length, 4);
    await pass();
    assert.deepEqual(aws.updated().sort(), ['s1', 's2', 's3', 's4', 's5']);
    await pass();
    assert.equal(aws.updated().length, 5);
  });

  it('a failed redeploy frees its slot under the cap: with the cap at 1 and UpdateService always failing for a, b goes in the same pass', async () => {
    const aws = new FakeAws();
    aws.addSecret('db');
    for (const n of ['a', 'b', 'c']) aws.addService('prod', n, { 'secrets-init/secrets': 'db' });
    const { log, events } = logs();
    const pass = () => runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, { ...base, maxRedeploys: 1 });
    await pass();
    aws.rotate('db', 'db-v2');
    aws.fail = (action, input) =>
      action === 'UpdateService' && input.service === 'a' ? 'InvalidParameterException' : undefined;
    const second = await pass();
    assert.deepEqual(aws.updated(), ['a', 'b']);
    assert.equal(passExitCode(second), 3);
    assert.deepEqual(
      second.failures.map((f) => [f.service, f.stage]),
      [['a', 'redeploy']],
    );
    assert.deepEqual(
      second.decisions.map((d) => `${d.service}:${d.decision}:${d.reason}`),
      ['a:redeploy:fingerprint-changed', 'b:redeploy:fingerprint-changed', 'c:redeploy:fingerprint-changed'],
      'what is due is decided once and never changes',
    );
    assert.deepEqual(
      events('watch.outcome')
        .slice(3)
        .map((e) => [e.service, e.outcome, e.reason ?? e.stage]),
      [
        ['a', 'failed', 'redeploy'],
        ['b', 'redeployed', undefined],
        ['c', 'deferred', 'cap'],
      ],
      'then one outcome per due service: the slot of the failed one went to b',
    );
    const summary = events('watch.pass').at(-1)!;
    assert.deepEqual([summary.due, summary.redeployed, summary.deferred, summary.failures], [3, 1, 1, 1]);
    await pass();
    assert.deepEqual(aws.updated(), ['a', 'b', 'a', 'c'], 'next pass: a fails again, c takes the slot');
  });

  it('the cap is fair across passes: with the cap at 1 and a rotation every pass, each due service gets its turn', async () => {
    const aws = new FakeAws();
    aws.addSecret('db');
    for (const n of ['s1', 's2', 's3']) aws.addService('prod', n, { 'secrets-init/secrets': 'db' });
    const { log } = logs();
    const pass = () => runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, { ...base, maxRedeploys: 1 });
    await pass();
    for (let n = 2; n <= 5; n++) {
      aws.rotate('db', `db-v${n}`);
      await pass();
    }
    // The oldest PRIMARY deployment goes first; a redeployed service goes to the back of the queue.
    assert.deepEqual(aws.updated(), ['s1', 's2', 's3', 's1']);
  });

  it('logs one event per decision, one outcome per applied decision, and one summary per pass', async () => {
    const { aws, pass, lines, events } = seeded();
    await pass();
    aws.rotate('openai', 'oa-v2');
    lines.length = 0;
    await pass({ pass: 7 });
    const decisions = events('watch.decision');
    assert.equal(decisions.length, 2);
    assert.deepEqual(
      events('watch.outcome').map((e) => [e.service, e.outcome]),
      [['api', 'redeployed']],
    );
    for (const d of decisions) {
      for (const field of ['service', 'cluster', 'decision', 'reason', 'oldFingerprint', 'newFingerprint']) {
        assert.ok(field in d, `decision event has ${field}`);
      }
    }
    const summary = events('watch.pass');
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!.pass, 7);
    assert.equal(summary[0]!.due, 1);
    assert.equal(summary[0]!.redeployed, 1);
    assert.equal(summary[0]!.unchanged, 1);
    assert.equal(summary[0]!.failures, 0);
    assert.deepEqual(summary[0]!.apiCalls, {
      ListServices: 1,
      DescribeServices: 1,
      DescribeSecret: 2,
      UpdateService: 1,
      TagResource: 1,
    });
    assert.equal(typeof summary[0]!.durationMs, 'number');
  });

  it('a missing service, a deleted secret and an access error are logged, the rest completes, exit 3', async () => {
    const aws = new FakeAws();
    for (const s of ['db', 'denied']) aws.addSecret(s);
    const { log, events } = logs();
    const source = {
      kind: 'config' as const,
      clusters: [
        {
          name: 'prod',
          services: [
            { name: 'ghost', secrets: ['db'] },
            { name: 'api', secrets: ['db', 'deleted'] },
            { name: 'billing', secrets: ['denied'] },
            { name: 'worker', secrets: ['db'] },
          ],
        },
      ],
    };
    for (const s of ['api', 'billing', 'worker']) aws.addService('prod', s);
    aws.fail = (action, input) =>
      action === 'DescribeSecret' && input.SecretId === 'denied' ? 'AccessDeniedException' : undefined;
    const result = await runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, { ...base, source });
    assert.equal(passExitCode(result), 3);
    assert.deepEqual(
      events('watch.failure').map((e) => [e.service, e.secretId, e.error]),
      [
        ['ghost', null, 'service not found (MISSING)'],
        ['api', 'deleted', 'ResourceNotFoundException'],
        ['billing', 'denied', 'AccessDeniedException'],
      ].sort(),
    );
    assert.deepEqual(
      events('watch.decision').map((e) => e.service),
      ['worker'],
    );
    assert.equal(aws.tag('prod', 'worker', 'secrets-init/fingerprint')?.startsWith('v1:'), true);
  });

  it('reports a service whose binding tags ECS would refuse, skips it, handles the others, exit 3', async () => {
    const { aws, pass, events } = seeded();
    aws.addService('prod', 'billing', { 'secrets-init/secrets': 'db,openai' });
    aws.addService('prod', 'search', {
      'secrets-init/secrets': 'db',
      'secrets-init/secrets-2': `openai ${'x'.repeat(260)}`,
    });
    const result = await pass();
    assert.equal(passExitCode(result), 3);
    assert.deepEqual(
      events('watch.failure').map((e) => [e.service, e.stage, e.error]),
      [
        [
          'billing',
          'binding',
          'secrets-init/secrets: commas are not allowed in ECS tag values; separate ids with spaces',
        ],
        [
          'search',
          'binding',
          'secrets-init/secrets-2: 267 characters, an ECS tag value holds at most 256 (continue the ids in the next key)',
        ],
      ],
    );
    assert.equal(
      failureMessage(result.failures[0]!),
      'reading the binding tags of service billing in prod: secrets-init/secrets: commas are not allowed in ECS tag values; separate ids with spaces',
    );
    assert.deepEqual(
      events('watch.decision').map((e) => e.service),
      ['api', 'worker'],
      'the others are decided and applied',
    );
    assert.equal(aws.tag('prod', 'billing', 'secrets-init/fingerprint'), undefined, 'nothing written on a bad binding');
    assert.equal(aws.count('UpdateService'), 0);
  });

  it('sends a write that stays throttled (ECS quota exhausted) again with back-off, in the same pass', async () => {
    const { aws, pass } = seeded();
    let throttles = 2;
    aws.fail = (action, input) =>
      action === 'TagResource' && String(input.resourceArn).endsWith('/api') && throttles-- > 0
        ? 'ThrottlingException'
        : undefined;
    const result = await pass();
    assert.equal(result.failures.length, 0);
    assert.match(aws.tag('prod', 'api', 'secrets-init/fingerprint') ?? '', /^v1:/);
    assert.equal(
      aws.calls.filter((c) => c.action === 'TagResource' && String(c.input.resourceArn).endsWith('/api')).length,
      3,
    );
  });

  it('binds a service through its continuation tags, read in order', async () => {
    const { aws, pass } = seeded();
    aws.addSecret('stripe');
    aws.addService('prod', 'billing', { 'secrets-init/secrets': 'db', 'secrets-init/secrets-2': 'stripe openai' });
    const result = await pass();
    assert.equal(result.failures.length, 0);
    const billing = result.decisions.find((d) => d.service === 'billing');
    assert.deepEqual(billing?.secretIds, ['db', 'openai', 'stripe']);
    aws.rotate('stripe', 'stripe-v2');
    await pass();
    assert.deepEqual(aws.updated(), ['billing'], 'a rotation of a secret from the second tag redeploys it');
  });

  it('reads each distinct secret once and services ten at a time: S + ceil(V/10) + pages', async () => {
    const aws = new FakeAws();
    for (let i = 0; i < 40; i++) aws.addSecret(`sec${i}`);
    for (let i = 0; i < 120; i++) {
      const ids = [`sec${i % 40}`, `sec${(i * 7) % 40}`, `sec${(i + 13) % 40}`];
      aws.addService('prod', `svc${String(i).padStart(3, '0')}`, { 'secrets-init/secrets': ids.join(' ') });
    }
    for (let i = 0; i < 15; i++) aws.addService('prod', `other${i}`);
    const { log } = logs();
    const result = await runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, base);
    assert.equal(aws.count('DescribeSecret'), 40);
    assert.equal(aws.count('DescribeServices'), Math.ceil(135 / 10));
    assert.equal(aws.count('ListServices'), Math.ceil(135 / 100));
    assert.equal(result.decisions.length, 120);
  });

  it('reads a secret named by name in one binding and by its full ARN in another once', async () => {
    const aws = new FakeAws();
    aws.addSecret('db');
    aws.addSecret('openai');
    const dbArn = aws.secrets.get('db')!.arn;
    for (const s of ['api', 'worker', 'batch']) aws.addService('prod', s);
    const source = {
      kind: 'config' as const,
      clusters: [
        {
          name: 'prod',
          services: [
            { name: 'api', secrets: ['db', 'openai'] },
            { name: 'worker', secrets: [dbArn] },
            { name: 'batch', secrets: [`${dbArn.slice(0, -7)}`] }, // a partial ARN: read on its own
          ],
        },
      ],
    };
    const { log } = logs();
    const result = await runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, { ...base, source });
    assert.deepEqual(
      aws.calls.filter((c) => c.action === 'DescribeSecret').map((c) => c.input.SecretId),
      ['db', 'openai', `${dbArn.slice(0, -7)}`],
    );
    const fp = Object.fromEntries(result.decisions.map((d) => [d.service, d.newFingerprint]));
    assert.equal(fp.worker, fp.batch, 'the same secret, the same fingerprint');
  });

  it('keeps AWS calls in flight within the concurrency bound across 1000 secrets and 200 services', async () => {
    const aws = new FakeAws();
    aws.latencyMs = 1;
    for (let i = 0; i < 1000; i++) aws.addSecret(`sec${i}`);
    for (let i = 0; i < 200; i++) {
      const ids = Array.from({ length: 5 }, (_, k) => `sec${i * 5 + k}`);
      aws.addService('prod', `svc${i}`, { 'secrets-init/secrets': ids.join(' ') });
    }
    const { log } = logs();
    const result = await runPass({ ecs: aws.ecs, secrets: aws.sm, log, now: Date.now }, { ...base, concurrency: 12 });
    assert.equal(result.failures.length, 0);
    assert.equal(aws.maxInFlight, 12);
  });

  it('ends a pass at its deadline: calls are aborted, the rest fail fast, exit 3', async () => {
    const { aws, pass } = seeded();
    aws.latencyMs = 10_000;
    const started = Date.now();
    const result = await pass({ timeoutMs: 200 });
    assert.ok(Date.now() - started < 2000, `pass took ${Date.now() - started} ms`);
    assert.equal(passExitCode(result), 3);
    assert.deepEqual(
      result.failures.map((f) => [f.stage, f.error]),
      [['discover', 'deadline exceeded']],
    );
  });

  it('discovers bindings across several clusters and reports one that cannot be listed', async () => {
    const aws = new FakeAws();
    aws.addSecret('db');
    aws.addService('blue', 'api', { 'secrets-init/secrets': 'db' });
    aws.addService('green', 'api', { 'secrets-init/secrets': 'db' });
    aws.addService('green', 'old', { 'secrets-init/secrets': 'db' }, 'DRAINING');
    aws.fail = (action, input) =>
      action === 'ListServices' && input.cluster === 'red' ? 'ClusterNotFoundException' : undefined;
    const { log } = logs();
    const result = await runPass(
      { ecs: aws.ecs, secrets: aws.sm, log, now: Date.now },
      { ...base, source: { kind: 'discover', clusters: ['blue', 'green', 'red'] } },
    );
    assert.deepEqual(
      result.decisions.map((d) => `${d.cluster}/${d.service}:${d.decision}`),
      ['blue/api:record', 'green/api:record'],
    );
    assert.deepEqual(
      result.failures.map((f) => [f.cluster, f.stage, f.error]),
      [['red', 'discover', 'ClusterNotFoundException']],
    );
    assert.equal(aws.count('DescribeSecret'), 1, 'a secret shared across clusters is read once');
  });
});

describe('failureMessage', () => {
  const f = { cluster: 'prod', service: 'api', secretId: null, error: 'AccessDeniedException' };
  for (const [stage, secretId, expected] of [
    ['discover', null, 'listing services of cluster prod: AccessDeniedException'],
    ['service', null, 'describing service api in prod: AccessDeniedException'],
    ['secret', 'db', 'reading secret "db" for service api: AccessDeniedException'],
    ['redeploy', null, 'redeploying service api in prod: AccessDeniedException'],
    ['tag', null, 'tagging service api in prod with its fingerprint: AccessDeniedException'],
  ] as const) {
    it(`names what failed and where (${stage})`, () => {
      assert.equal(failureMessage({ ...f, stage, secretId }), expected);
    });
  }
});
