import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DescribeServicesCommand,
  ListServicesCommand,
  type TagResourceCommand,
  type UntagResourceCommand,
  type UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { EcsPort, SecretsPort } from '../../shared/aws-ports.ts';
import { createCallContext } from '../../watcher/call-context.ts';
import { describeServices } from '../../watcher/describe-services.ts';
import { listServiceArns } from '../../watcher/list-services.ts';
import { readSecretVersion } from '../../watcher/read-secret-version.ts';
import { throttlingOnlyRetry } from '../../watcher/redeploy-client.ts';
import { forceNewDeployment, restoreState, writeState } from '../../watcher/service-update.ts';
import type { ServiceStateTag } from '../../watcher/state-tag.ts';

// Fakes are one `send` function each; `sent` records the command objects in order.
type Send = (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => Promise<unknown>;
function port<T extends EcsPort | SecretsPort>(send: Send): { port: T; sent: unknown[]; signals: unknown[] } {
  const sent: unknown[] = [];
  const signals: unknown[] = [];
  const p = {
    send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => {
      sent.push(cmd);
      signals.push(opts?.abortSignal);
      return send(cmd, opts);
    },
  } as unknown as T;
  return { port: p, sent, signals };
}
const ctx = () => createCallContext({ signal: new AbortController().signal, concurrency: 4 });
const awsError = (name: string, status = 400) =>
  Object.assign(new Error(`${name}: request id abc-123 (LEAK)`), { name, $metadata: { httpStatusCode: status } });

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';

describe('readSecretVersion', () => {
  it('returns the ARN and the AWSCURRENT version, ignoring AWSPENDING and AWSPREVIOUS', async () => {
    const fake = port<SecretsPort>(async () => ({
      ARN,
      VersionIdsToStages: { old: ['AWSPREVIOUS'], cur: ['AWSCURRENT', 'custom'], next: ['AWSPENDING'] },
    }));
    const c = ctx();
    assert.deepEqual(await readSecretVersion(fake.port, 'db', c), {
      ok: true,
      value: { arn: ARN, currentVersionId: 'cur' },
    });
    assert.ok(fake.sent[0] instanceof DescribeSecretCommand, 'metadata only: DescribeSecret, never GetSecretValue');
    assert.deepEqual((fake.sent[0] as DescribeSecretCommand).input, { SecretId: 'db' });
    assert.equal(fake.signals[0], c.signal, 'the pass deadline reaches the SDK call');
    assert.deepEqual(c.counts(), { DescribeSecret: 1 });
  });

  const failures: [string, () => Promise<unknown>, string][] = [
    [
      'a secret scheduled for deletion',
      async () => ({ ARN, DeletedDate: new Date(), VersionIdsToStages: { v: ['AWSCURRENT'] } }),
      'secret is scheduled for deletion',
    ],
    [
      'a secret that does not exist',
      async () => Promise.reject(awsError('ResourceNotFoundException')),
      'ResourceNotFoundException',
    ],
    ['an access error', async () => Promise.reject(awsError('AccessDeniedException')), 'AccessDeniedException'],
    [
      'a secret with only a pending version',
      async () => ({ ARN, VersionIdsToStages: { next: ['AWSPENDING'] } }),
      'secret has no AWSCURRENT version',
    ],
  ];
  for (const [name, answer, error] of failures) {
    it(`reports ${name} as "${error}" (no request id, no SDK message)`, async () => {
      assert.deepEqual(await readSecretVersion(port<SecretsPort>(answer).port, 'db', ctx()), { ok: false, error });
    });
  }
});

describe('describeServices', () => {
  const svc = (name: string) => ({
    serviceName: name,
    serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/prod/${name}`,
    status: 'ACTIVE',
    tags: [{ key: 'secrets-init/secrets', value: 'db' }],
    taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:3',
    deploymentController: { type: 'ECS' },
    deployments: [
      { id: 'ecs-svc/1', status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: new Date(1_000) },
      { id: 'ecs-svc/2', status: 'PRIMARY', rolloutState: 'IN_PROGRESS', createdAt: new Date(2_000) },
    ],
  });

  it('asks for at most ten services a call, with their tags; maps deployments (PRIMARY first) and the controller', async () => {
    const fake = port<EcsPort>(async (cmd) => ({
      services: ((cmd as DescribeServicesCommand).input.services ?? []).map(svc),
      failures: [],
    }));
    const ids = Array.from({ length: 25 }, (_, i) => `s${i}`);
    const c = ctx();
    const out = await describeServices(fake.port, 'prod', ids, c);
    const inputs = fake.sent.map((cmd) => (cmd as DescribeServicesCommand).input);
    assert.deepEqual(
      inputs.map((i) => i.services?.length),
      [10, 10, 5],
    );
    for (const i of inputs) {
      assert.equal(i.cluster, 'prod');
      assert.deepEqual(i.include, ['TAGS']);
    }
    assert.equal(out.size, 25);
    assert.deepEqual(out.get('s7'), {
      ok: true,
      value: {
        cluster: 'prod',
        name: 's7',
        arn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/s7',
        status: 'ACTIVE',
        tags: { 'secrets-init/secrets': 'db' },
        deployedAt: 2_000,
        deployments: [
          { id: 'ecs-svc/2', status: 'PRIMARY', rolloutState: 'IN_PROGRESS', createdAt: 2_000 },
          { id: 'ecs-svc/1', status: 'ACTIVE', rolloutState: 'COMPLETED', createdAt: 1_000 },
        ],
        controller: 'ECS',
        taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:3',
      },
    });
    assert.deepEqual(c.counts(), { DescribeServices: 3 });
  });

  it('matches services asked for by ARN and reports MISSING ones by the id asked for', async () => {
    const fake = port<EcsPort>(async () => ({
      services: [svc('api')],
      failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/gone', reason: 'MISSING' }],
    }));
    const out = await describeServices(
      fake.port,
      'prod',
      ['arn:aws:ecs:us-east-1:123456789012:service/prod/api', 'gone', 'nowhere'],
      ctx(),
    );
    assert.equal(out.get('arn:aws:ecs:us-east-1:123456789012:service/prod/api')?.ok, true);
    assert.deepEqual(out.get('gone'), { ok: false, error: 'service not found (MISSING)' });
    assert.deepEqual(out.get('nowhere'), { ok: false, error: 'service not found (MISSING)' });
  });

  it('fails every service of a batch whose call failed, and only those', async () => {
    let n = 0;
    const fake = port<EcsPort>(async (cmd) => {
      if (n++ === 0) throw awsError('ClusterNotFoundException');
      return { services: ((cmd as DescribeServicesCommand).input.services ?? []).map(svc) };
    });
    const ids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    const out = await describeServices(
      fake.port,
      'prod',
      ids,
      createCallContext({ signal: new AbortController().signal, concurrency: 1 }),
    );
    assert.deepEqual(
      ids.map((id) => out.get(id)?.ok),
      [...Array(10).fill(false), true, true],
    );
    assert.deepEqual(out.get('s0'), { ok: false, error: 'ClusterNotFoundException' });
  });
});

describe('listServiceArns', () => {
  it('follows nextToken, 100 a page', async () => {
    const pages: Record<string, { serviceArns: string[]; nextToken?: string }> = {
      start: { serviceArns: ['a', 'b'], nextToken: 't1' },
      t1: { serviceArns: ['c'], nextToken: 't2' },
      t2: { serviceArns: ['d'] },
    };
    const fake = port<EcsPort>(async (cmd) => pages[(cmd as ListServicesCommand).input.nextToken ?? 'start']);
    const c = ctx();
    assert.deepEqual(await listServiceArns(fake.port, 'prod', c), { ok: true, value: ['a', 'b', 'c', 'd'] });
    for (const cmd of fake.sent) {
      assert.ok(cmd instanceof ListServicesCommand);
      assert.equal(cmd.input.maxResults, 100);
      assert.equal(cmd.input.cluster, 'prod');
    }
    assert.deepEqual(c.counts(), { ListServices: 3 });
  });

  it('reports a cluster that cannot be listed', async () => {
    const fake = port<EcsPort>(async () => Promise.reject(awsError('ClusterNotFoundException')));
    assert.deepEqual(await listServiceArns(fake.port, 'nope', ctx()), { ok: false, error: 'ClusterNotFoundException' });
  });
});

describe('service writes', () => {
  const decision = {
    cluster: 'prod',
    service: 'api',
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
  };
  const state: ServiceStateTag = {
    state: 'ok',
    fingerprint: '0'.repeat(32),
    binding: '0'.repeat(8),
    deployment: null,
    writtenAt: 1,
    redeployedAt: null,
    run: 'run1',
    flips: 0,
  };
  const fake = (send: Send) => {
    const p = port<EcsPort>(send);
    return { ports: { ecs: p.port, deploy: p.port }, sent: p.sent, signals: p.signals };
  };

  it('forceNewDeployment sends UpdateService(forceNewDeployment) and returns the new PRIMARY deployment', async () => {
    const f = fake(async () => ({ service: { deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY' }] } }));
    const r = await forceNewDeployment(f.ports, ctx(), decision);
    assert.deepEqual(r, {
      ok: true,
      output: { service: { deployments: [{ id: 'ecs-svc/9', status: 'PRIMARY' }] } },
      deployment: 'ecs-svc/9',
    });
    assert.deepEqual((f.sent[0] as UpdateServiceCommand).input, {
      cluster: 'prod',
      service: 'api',
      forceNewDeployment: true,
    });
  });

  const answers: [string, () => Error, boolean][] = [
    ['a 4xx (refused: nothing started)', () => awsError('ServiceNotActiveException', 400), true],
    ['throttling past retries (refused)', () => awsError('ThrottlingException', 400), true],
    ['a 5xx (the answer is lost: it may have started)', () => awsError('ServerException', 500), false],
    [
      'a reset (lost)',
      () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }),
      false,
    ],
  ];
  for (const [what, err, definite] of answers) {
    it(`tells ${what}`, async () => {
      const r = await forceNewDeployment(fake(async () => Promise.reject(err())).ports, ctx(), decision);
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.definite, definite);
      assert.ok(!r.ok && !r.error.includes('LEAK'));
    });
  }

  it('writes a state tag (the watcher may write no other), and puts back a state or removes the tag', async () => {
    const f = fake(async () => ({}));
    await writeState(f.ports, ctx(), decision, state, undefined);
    await restoreState(f.ports, ctx(), { ...decision, previous: state }, undefined);
    await restoreState(f.ports, ctx(), decision, undefined);
    assert.deepEqual(
      f.sent.map((c) => (c as object).constructor.name),
      ['TagResourceCommand', 'TagResourceCommand', 'UntagResourceCommand'],
    );
    assert.deepEqual(
      (f.sent[0] as TagResourceCommand).input.tags?.map((t) => t.key),
      ['secrets-init/fingerprint'],
    );
    assert.deepEqual((f.sent[2] as UntagResourceCommand).input.tagKeys, ['secrets-init/fingerprint']);
  });

  it('writes with a timeout of their own, not the pass deadline (a started redeploy gets its state)', async () => {
    const ac = new AbortController();
    ac.abort();
    const f = fake(async () => ({}));
    const r = await writeState(
      f.ports,
      createCallContext({ signal: ac.signal, concurrency: 1 }),
      decision,
      state,
      undefined,
    );
    assert.equal(r.ok, true);
    assert.notEqual(f.signals[0], ac.signal);
  });
});

describe('createCallContext', () => {
  it('keeps at most `concurrency` calls in flight', async () => {
    const c = createCallContext({ signal: new AbortController().signal, concurrency: 3 });
    let inFlight = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        c.call('X', async () => {
          max = Math.max(max, ++inFlight);
          await new Promise((r) => setTimeout(r, 2));
          inFlight--;
        }),
      ),
    );
    assert.equal(max, 3);
    assert.deepEqual(c.counts(), { X: 20 });
  });

  it('fails queued calls at once after the deadline, without starting them', async () => {
    const ac = new AbortController();
    const c = createCallContext({ signal: ac.signal, concurrency: 1 });
    let started = 0;
    const first = c.call('X', async () => {
      started++;
      ac.abort();
    });
    const second = c.call('X', async () => {
      started++;
    });
    await first;
    await assert.rejects(second, { name: 'AbortError' });
    assert.equal(started, 1);
  });
});

describe('throttlingOnlyRetry (UpdateService)', () => {
  type Info = Parameters<ReturnType<typeof throttlingOnlyRetry>['refreshRetryTokenForRetry']>[1];
  const error = awsError('X') as Info['error'];
  const info = (errorType: Info['errorType']): Info => ({ error, errorType });

  it('retries throttling, with full-jitter backoff of 1 s, 2 s, 4 s, up to the attempt limit', async () => {
    const retry = throttlingOnlyRetry(4, () => 0.5);
    let token = await retry.acquireInitialRetryToken('');
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      token = await retry.refreshRetryTokenForRetry(token, info('THROTTLING'));
      delays.push(token.getRetryDelay());
    }
    assert.deepEqual(delays, [500, 1000, 2000]);
    await assert.rejects(retry.refreshRetryTokenForRetry(token, info('THROTTLING')), (e) => e === error);
  });

  for (const kind of ['TRANSIENT', 'SERVER_ERROR', 'CLIENT_ERROR'] as const) {
    it(`never retries ${kind} (a timeout, a reset or a 5xx may hide an applied update)`, async () => {
      const retry = throttlingOnlyRetry();
      const token = await retry.acquireInitialRetryToken('');
      await assert.rejects(retry.refreshRetryTokenForRetry(token, info(kind)), (e) => e === error);
    });
  }
});
