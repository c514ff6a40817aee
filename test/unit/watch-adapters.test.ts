import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DescribeServicesCommand,
  ListServicesCommand,
  TagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { EcsPort, SecretsPort } from '../../shared/aws-ports.ts';
import { applyPlan } from '../../watcher/apply-plan.ts';
import { createCallContext } from '../../watcher/call-context.ts';
import { describeServices } from '../../watcher/describe-services.ts';
import { listServiceArns } from '../../watcher/list-services.ts';
import type { Decision } from '../../watcher/model.ts';
import { readSecretVersion } from '../../watcher/read-secret-version.ts';
import { throttlingOnlyRetry } from '../../watcher/redeploy-client.ts';
import { updateService } from '../../watcher/service-update.ts';

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
  Object.assign(new Error(`${name}: request id abc-123`), { name, $metadata: { httpStatusCode: status } });

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
    deployments: [
      { status: 'ACTIVE', createdAt: new Date(1_000) },
      { status: 'PRIMARY', createdAt: new Date(2_000) },
    ],
  });

  it('asks for at most ten services a call, with their tags', async () => {
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

describe('updateService', () => {
  const decision = (kind: Decision['decision']): Decision => ({
    cluster: 'prod',
    service: 'api',
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
    decision: kind,
    reason: kind === 'record' ? 'no-fingerprint' : kind === 'redeploy' ? 'fingerprint-changed' : 'unchanged',
    oldFingerprint: null,
    newFingerprint: 'v1:new',
    secretIds: ['db'],
    deployedAt: null,
  });
  const names = (sent: unknown[]) => sent.map((c) => (c as object).constructor.name);
  /** One fake answering both ports, so `sent` keeps the order across them; `via` tells which port was used. */
  function ports(send: Send = async () => ({})) {
    const ecs = port<EcsPort>(send);
    const deploy = port<EcsPort>(send);
    const all: unknown[] = [];
    const via = new Map<unknown, string>();
    const wrap = (p: EcsPort, name: string) =>
      ({
        send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => {
          all.push(cmd);
          via.set(cmd, name);
          return (p.send as Send)(cmd, opts);
        },
      }) as unknown as EcsPort;
    return { ports: { ecs: wrap(ecs.port, 'ecs'), deploy: wrap(deploy.port, 'deploy') }, sent: all, via, ecs, deploy };
  }

  it('redeploys with forceNewDeployment first (through the deploy client), then tags the new fingerprint', async () => {
    const fake = ports();
    assert.deepEqual(await updateService(fake.ports, decision('redeploy'), ctx()), { started: true, redeployed: true });
    assert.deepEqual(names(fake.sent), ['UpdateServiceCommand', 'TagResourceCommand']);
    assert.deepEqual(
      fake.sent.map((c) => fake.via.get(c)),
      ['deploy', 'ecs'],
    );
    assert.deepEqual((fake.sent[0] as UpdateServiceCommand).input, {
      cluster: 'prod',
      service: 'api',
      forceNewDeployment: true,
    });
    assert.deepEqual((fake.sent[1] as TagResourceCommand).input, {
      resourceArn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
      tags: [{ key: 'secrets-init/fingerprint', value: 'v1:new' }],
    });
  });

  it('records with a tag only', async () => {
    const fake = ports();
    assert.deepEqual(await updateService(fake.ports, decision('record'), ctx()), { started: true, redeployed: false });
    assert.deepEqual(names(fake.sent), ['TagResourceCommand']);
  });

  it('does not tag when the redeploy failed, so the service stays due', async () => {
    const fake = ports(async () => Promise.reject(awsError('ServiceNotActiveException')));
    const applied = await updateService(fake.ports, decision('redeploy'), ctx());
    assert.deepEqual(names(fake.sent), ['UpdateServiceCommand']);
    assert.deepEqual(applied, {
      started: true,
      redeployed: false,
      failure: {
        cluster: 'prod',
        service: 'api',
        secretId: null,
        stage: 'redeploy',
        error: 'ServiceNotActiveException',
      },
    });
  });

  it('reports a tag that failed after a redeploy that worked (the redeploy still counts)', async () => {
    const fake = ports(async (cmd) =>
      cmd instanceof TagResourceCommand ? Promise.reject(awsError('ThrottlingException')) : {},
    );
    const applied = await updateService(fake.ports, decision('redeploy'), ctx());
    assert.equal(applied.redeployed, true);
    assert.equal(applied.failure?.stage, 'tag');
  });

  it('starts nothing once the pass deadline has passed: the service stays due', async () => {
    const ac = new AbortController();
    ac.abort();
    const c = createCallContext({ signal: ac.signal, concurrency: 1 });
    const fake = ports();
    const applied = await updateService(fake.ports, decision('redeploy'), c);
    assert.deepEqual(fake.sent, []);
    assert.deepEqual(applied, { started: false, redeployed: false });
  });

  it('tags a redeploy during which the pass deadline passed: its writes have their own timeout', async () => {
    const ac = new AbortController();
    const c = createCallContext({ signal: ac.signal, concurrency: 1 });
    const fake = ports(async (cmd, opts) => {
      if (cmd instanceof TagResourceCommand) return {};
      ac.abort(); // the deadline passes while UpdateService is in flight; the call must not be cut
      await new Promise((r) => setTimeout(r, 20));
      if (opts?.abortSignal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      return {};
    });
    assert.deepEqual(await updateService(fake.ports, decision('redeploy'), c), { started: true, redeployed: true });
    assert.deepEqual(names(fake.sent), ['UpdateServiceCommand', 'TagResourceCommand']);
    for (const signal of [...fake.ecs.signals, ...fake.deploy.signals]) {
      assert.notEqual(signal, c.signal, 'writes are not aborted by the pass deadline');
      assert.ok(signal instanceof AbortSignal);
    }
    assert.deepEqual(c.counts(), { UpdateService: 1, TagResource: 1 });
  });
});

describe('applyPlan', () => {
  const arn = (name: string) => `arn:aws:ecs:us-east-1:123456789012:service/prod/${name}`;
  const decided = (name: string, decision: Decision['decision'], reason: Decision['reason']): Decision => ({
    cluster: 'prod',
    service: name,
    serviceArn: arn(name),
    decision,
    reason,
    oldFingerprint: 'v1:old',
    newFingerprint: 'v1:new',
    secretIds: ['db'],
    deployedAt: null,
  });
  /** Five due, in the order decide queues them, one record and one unchanged. */
  const due = ['e', 'b', 'd', 'a', 'c'].map((n) => decided(n, 'redeploy', 'fingerprint-changed'));
  const decisions = [...due, decided('r', 'record', 'no-fingerprint'), decided('u', 'skip', 'unchanged')];
  const plan = { decisions, due };
  const cap = { maxRedeploys: 2 };
  const outcomesOf = (out: Awaited<ReturnType<typeof applyPlan>>) =>
    out.map((o) => `${o.decision.service}:${o.outcome}${o.reason ? `:${o.reason}` : ''}`);
  function fakeEcs(updateFails: (service: string) => boolean) {
    const updated: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const send: Send = async (cmd) => {
      if (!(cmd instanceof UpdateServiceCommand)) return {};
      updated.push(cmd.input.service!);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (updateFails(cmd.input.service!)) throw awsError('ServerException', 500);
      return {};
    };
    const p = port<EcsPort>(send).port;
    return { ports: { ecs: p, deploy: p }, updated, maxInFlight: () => maxInFlight };
  }

  it('sends exactly the cap of UpdateService calls when they work, in queue order; one outcome per applied decision', async () => {
    const fake = fakeEcs(() => false);
    const out = await applyPlan(fake.ports, plan, ctx(), cap);
    assert.deepEqual(fake.updated, ['e', 'b']);
    assert.deepEqual(outcomesOf(out), [
      'e:redeployed',
      'b:redeployed',
      'd:deferred:cap',
      'a:deferred:cap',
      'c:deferred:cap',
      'r:recorded',
    ]);
  });

  it('gives the slot of a failed redeploy to the next due service, never more than the cap in flight', async () => {
    const fake = fakeEcs((s) => s !== 'a');
    const out = await applyPlan(
      fake.ports,
      plan,
      createCallContext({ signal: new AbortController().signal, concurrency: 10 }),
      cap,
    );
    assert.deepEqual(fake.updated, ['e', 'b', 'd', 'a', 'c']);
    assert.equal(fake.maxInFlight(), 2);
    assert.deepEqual(outcomesOf(out), ['e:failed', 'b:failed', 'd:failed', 'a:redeployed', 'c:failed', 'r:recorded']);
    assert.deepEqual(
      out.flatMap((o) => o.failure?.stage ?? []),
      ['redeploy', 'redeploy', 'redeploy', 'redeploy'],
    );
  });

  it('starts nothing more once the pass deadline has passed: what the lanes reach is deferred (deadline)', async () => {
    const ac = new AbortController();
    const fake = fakeEcs(() => {
      ac.abort();
      return true;
    });
    const out = await applyPlan(fake.ports, plan, createCallContext({ signal: ac.signal, concurrency: 10 }), cap);
    assert.deepEqual(fake.updated, ['e', 'b']);
    assert.deepEqual(outcomesOf(out).slice(0, 5), [
      'e:failed',
      'b:failed',
      'd:deferred:deadline',
      'a:deferred:deadline',
      'c:deferred:cap',
    ]);
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
