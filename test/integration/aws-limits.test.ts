import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
  type Tag,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { BatchGetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AWS_QUOTAS, SSM_READS } from '../helpers/aws-limits.ts';
import { cluster, secrets, services } from '../helpers/ecs-fleet.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// The limits proxy every moto of the suite sits behind (startMoto): it refuses what AWS refuses and moto takes,
// with AWS's error name and status, so the SDK classifies the refusal as it would on AWS.

let moto: Moto;
let ecs: ECSClient;
let sm: SecretsManagerClient;
let ssm: SSMClient;
const ARN = 'arn:aws:ecs:us-east-1:123456789012:service/prod/api';

before(async () => {
  moto = await startMoto();
  // Two attempts: a refusal AWS would not have retried shows one attempt, a throttled call two.
  ecs = new ECSClient({ ...clientOptions(moto.endpoint), maxAttempts: 2 });
  sm = new SecretsManagerClient({ ...clientOptions(moto.endpoint), maxAttempts: 2 });
  ssm = new SSMClient({ ...clientOptions(moto.endpoint), maxAttempts: 2 });
});
after(async () => {
  ecs?.destroy();
  sm?.destroy();
  ssm?.destroy();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  await cluster(ecs, 'prod');
  await services(ecs, 'prod', { api: undefined });
});

/** The error a call fails with: its name, HTTP status, and how many attempts the SDK made (2: it retried). */
async function refusal(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; attempts: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts ?? 0 };
  }
  assert.fail('the call was accepted');
}
const invalid = { name: 'InvalidParameterException', status: 400, attempts: 1 };
const tag = (tags: Tag[]) => ecs.send(new TagResourceCommand({ resourceArn: ARN, tags }));

describe('ECS tags (key 1-128, value 0-256, letters, numbers, spaces and _ . : / = + - @, no aws: prefix)', () => {
  const accepted: [string, Tag][] = [
    ['every allowed character', { key: 'a-Z 0_.:/=+@', value: 'x Y 9 _ . : / = + - @' }],
    ['a Unicode letter and space', { key: 'équipe', value: 'café\u00a0crème' }],
    ['an empty value', { key: 'k', value: '' }],
    ['a 128-character key and a 256-character value', { key: 'k'.repeat(128), value: 'v'.repeat(256) }],
  ];
  for (const [what, t] of accepted) {
    it(`accepts ${what}`, async () => {
      await tag([t]);
      const got = await ecs.send(new ListTagsForResourceCommand({ resourceArn: ARN }));
      assert.deepEqual(got.tags, [t]);
    });
  }

  const refused: [string, Tag][] = [
    ['a comma in a value', { key: 'secrets-init/secrets', value: 'a,b' }],
    ['a 257-character value', { key: 'k', value: 'v'.repeat(257) }],
    ['a 129-character key', { key: 'k'.repeat(129), value: 'v' }],
    ['an empty key', { key: '', value: 'v' }],
    ['a semicolon in a key', { key: 'a;b', value: 'v' }],
    ['the reserved aws: prefix', { key: 'AWS:team', value: 'v' }],
  ];
  for (const [what, t] of refused) {
    it(`refuses ${what} with InvalidParameterException (400), in TagResource, CreateService and RegisterTaskDefinition`, async () => {
      assert.deepEqual(await refusal(tag([t])), invalid);
      const create = new CreateServiceCommand({ cluster: 'prod', serviceName: 'x', taskDefinition: 'app', tags: [t] });
      assert.deepEqual(await refusal(ecs.send(create)), invalid);
      const register = new RegisterTaskDefinitionCommand({
        family: 'x',
        containerDefinitions: [{ name: 'x', image: 'busybox', memory: 64 }],
        tags: [t],
      });
      assert.deepEqual(await refusal(ecs.send(register)), invalid);
    });
  }

  it('holds a resource to 50 tags: 50 are fine, a 51st key is refused, rewriting a key at 50 is fine', async () => {
    const many = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: 'v' }));
    await tag(many(0, 45));
    await tag(many(45, 5));
    assert.deepEqual(await refusal(tag(many(50, 1))), invalid);
    await tag([{ key: 'k0', value: 'changed' }]);
    assert.equal((await ecs.send(new ListTagsForResourceCommand({ resourceArn: ARN }))).tags?.length, 50);
    const create = new CreateServiceCommand({
      cluster: 'prod',
      serviceName: 'y',
      taskDefinition: 'app',
      tags: many(0, 51),
    });
    assert.deepEqual(await refusal(ecs.send(create)), invalid);
  });
});

describe('counts per call', () => {
  it('DescribeServices takes at most 10 services (InvalidParameterException, as ECS answers)', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `svc${i}`);
    const ok = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: names.slice(0, 10) }));
    assert.equal(ok.failures?.length, 10, 'ten are described (missing ones as failures)');
    assert.deepEqual(
      await refusal(ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: names }))),
      invalid,
    );
  });

  it('BatchGetSecretValue takes at most 20 ids (ValidationException, 400)', async () => {
    const ids = Array.from({ length: 21 }, (_, i) => `s${i}`);
    await secrets(sm, ids);
    const ok = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ids.slice(0, 20) }));
    assert.equal(ok.SecretValues?.length, 20);
    assert.deepEqual(await refusal(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ids }))), {
      name: 'ValidationException',
      status: 400,
      attempts: 1,
    });
  });
});

describe('SSM Parameter Store counts (ValidationException, 400, as SSM answers; moto lets the last through)', () => {
  const validation = { name: 'ValidationException', status: 400, attempts: 1 };
  const names = Array.from({ length: 11 }, (_, i) => `/limits/P${i}`);
  beforeEach(async () => {
    for (const Name of names) await ssm.send(new PutParameterCommand({ Name, Value: 'v', Type: 'String' }));
  });

  it('GetParameters takes at most 10 names', async () => {
    const ok = await ssm.send(new GetParametersCommand({ Names: names.slice(0, 10) }));
    assert.equal(ok.Parameters?.length, 10);
    assert.deepEqual(await refusal(ssm.send(new GetParametersCommand({ Names: names }))), validation);
  });

  it('GetParametersByPath answers at most 10 a page (MaxResults 1-10)', async () => {
    const ok = await ssm.send(new GetParametersByPathCommand({ Path: '/limits', MaxResults: 10 }));
    assert.equal(ok.Parameters?.length, 10);
    assert.deepEqual(
      await refusal(ssm.send(new GetParametersByPathCommand({ Path: '/limits', MaxResults: 11 }))),
      validation,
    );
  });

  it('DescribeParameters answers at most 50 a page (MaxResults 1-50)', async () => {
    const filters = [{ Key: 'Path', Option: 'Recursive', Values: ['/limits'] }];
    const ok = await ssm.send(new DescribeParametersCommand({ ParameterFilters: filters, MaxResults: 50 }));
    assert.ok((ok.Parameters?.length ?? 0) > 0);
    assert.deepEqual(
      await refusal(ssm.send(new DescribeParametersCommand({ ParameterFilters: filters, MaxResults: 51 }))),
      validation,
    );
    assert.equal(moto.limits.refusals().DescribeParameters, 1, 'refused by the proxy, not by moto');
  });
});

describe("the account's request-rate quotas", () => {
  it('throttles DescribeServices past its bucket (100 at once, 20/s after) with ThrottlingException', async () => {
    const once = new ECSClient({ ...clientOptions(moto.endpoint), maxAttempts: 1 });
    const results = await Promise.allSettled(
      Array.from({ length: 150 }, () => once.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }))),
    );
    once.destroy();
    const throttled = results.filter((r) => r.status === 'rejected');
    assert.ok(throttled.length > 0, '150 calls in well under 2 s cannot all fit 100 + 20/s');
    assert.ok(results.filter((r) => r.status === 'fulfilled').length >= 100, 'the burst goes through');
    for (const r of throttled) {
      const e = (r as PromiseRejectedResult).reason as { name: string; $metadata: { httpStatusCode: number } };
      assert.equal(e.name, 'ThrottlingException');
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    assert.equal(moto.limits.refusals().DescribeServices, throttled.length);
  });

  it("throttles Parameter Store's reads together past 40/s (GetParameter, GetParameters, GetParametersByPath)", async () => {
    await ssm.send(new PutParameterCommand({ Name: '/q/P', Value: 'v', Type: 'String' }));
    const once = new SSMClient({ ...clientOptions(moto.endpoint), maxAttempts: 1 });
    const calls = [
      () => once.send(new GetParameterCommand({ Name: '/q/P' })),
      () => once.send(new GetParametersCommand({ Names: ['/q/P'] })),
      () => once.send(new GetParametersByPathCommand({ Path: '/q' })),
    ];
    const results = await Promise.allSettled(Array.from({ length: 120 }, (_, i) => calls[i % 3]!()));
    once.destroy();
    const throttled = results.filter((r) => r.status === 'rejected');
    assert.ok(throttled.length > 0, '120 reads in well under 2 s cannot all fit 40 + 40/s');
    assert.ok(results.filter((r) => r.status === 'fulfilled').length >= 40, 'the burst goes through');
    for (const r of throttled) {
      const e = (r as PromiseRejectedResult).reason as { name: string; $metadata: { httpStatusCode: number } };
      assert.equal(e.name, 'ThrottlingException');
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    const refused = moto.limits.refusals();
    const byAction = ['GetParameter', 'GetParameters', 'GetParametersByPath'].map((a) => refused[a] ?? 0);
    assert.equal(
      byAction.reduce((a, b) => a + b),
      throttled.length,
    );
    assert.ok(byAction.filter((n) => n > 0).length >= 2, `one bucket for all three: refused ${byAction.join(', ')}`);
  });

  it('lets a test change the shared SSM quota by its bucket key', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/q/P', Value: 'v', Type: 'String' }));
    moto.limits.setQuota(SSM_READS, { capacity: 1, perSecond: 0.01 });
    await ssm.send(new GetParametersCommand({ Names: ['/q/P'] }));
    assert.deepEqual(await refusal(ssm.send(new GetParametersByPathCommand({ Path: '/q' }))), {
      name: 'ThrottlingException',
      status: 400,
      attempts: 2,
    });
    moto.limits.setQuota(SSM_READS, AWS_QUOTAS[SSM_READS]);
  });

  it('answers a quota refusal so that the SDK classifies it as throttling: backed off and retried', async () => {
    moto.limits.setQuota('secretsmanager:BatchGetSecretValue', { capacity: 1, perSecond: 0.01 });
    await secrets(sm, ['a']);
    await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a'] }));
    assert.deepEqual(await refusal(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a'] }))), {
      name: 'ThrottlingException',
      status: 400,
      attempts: 2,
    });
    assert.equal(moto.limits.refusals().BatchGetSecretValue, 2);
  });
});
