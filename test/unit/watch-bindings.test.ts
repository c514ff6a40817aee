import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindingFromTags, bindingsFromConfig } from '../../watcher/bindings.ts';
import { clusterName, distinctClusters, serviceName } from '../../watcher/ecs-identity.ts';
import type { ServiceState } from '../../watcher/model.ts';

const service = (tags: Record<string, string>, status = 'ACTIVE'): ServiceState => ({
  cluster: 'prod',
  name: 'api',
  arn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
  status,
  tags,
  deployedAt: null,
  deployments: [],
  controller: 'ECS',
  taskDefinition: null,
});

describe('bindingsFromConfig', () => {
  it('keeps clusters apart and merges a service named twice in one cluster', () => {
    const bindings = bindingsFromConfig([
      {
        name: 'blue',
        services: [
          { name: 'api', secrets: ['db'] },
          { name: 'api', secrets: ['openai', 'db'] },
        ],
      },
      { name: 'green', services: [{ name: 'api', secrets: ['db'] }] },
    ]);
    assert.deepEqual(bindings, [
      { cluster: 'blue', service: 'api', secretIds: ['db', 'openai'] },
      { cluster: 'green', service: 'api', secretIds: ['db'] },
    ]);
  });

  it('merges a cluster and a service given once by name and once by ARN into one binding (first spelling kept)', () => {
    const bindings = bindingsFromConfig([
      { name: 'prod', services: [{ name: 'api', secrets: ['db'] }] },
      {
        name: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
        services: [
          { name: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api', secrets: ['openai'] },
          { name: 'worker', secrets: ['db'] },
        ],
      },
    ]);
    assert.deepEqual(bindings, [
      { cluster: 'prod', service: 'api', secretIds: ['db', 'openai'] },
      { cluster: 'prod', service: 'worker', secretIds: ['db'] },
    ]);
  });
});

describe('bindingFromTags', () => {
  it('binds an ACTIVE service to the space-separated secrets its secrets-init/secrets tags list, in order', () => {
    assert.deepEqual(
      bindingFromTags(service({ 'secrets-init/secrets': 'db openai', 'secrets-init/secrets-2': 'stripe db' })),
      { ok: true, binding: { cluster: 'prod', service: 'api', secretIds: ['db', 'openai', 'stripe'] } },
    );
  });

  it('ignores services without the tag: they are not ours', () => {
    assert.equal(bindingFromTags(service({ team: 'x' })), undefined);
  });

  it('ignores services on their way out', () => {
    assert.equal(bindingFromTags(service({ 'secrets-init/secrets': 'db' }, 'DRAINING')), undefined);
  });

  it('keeps an empty tag as a binding with no secret, so the core reports it instead of ignoring it', () => {
    assert.deepEqual(bindingFromTags(service({ 'secrets-init/secrets': '  ' })), {
      ok: true,
      binding: { cluster: 'prod', service: 'api', secretIds: [] },
    });
  });

  it('refuses a binding AWS would refuse (a comma) with the problem, instead of guessing the ids', () => {
    assert.deepEqual(bindingFromTags(service({ 'secrets-init/secrets': 'db,openai' })), {
      ok: false,
      problems: ['secrets-init/secrets: commas are not allowed in ECS tag values; separate ids with spaces'],
    });
  });
});

describe('ECS names', () => {
  const table: [(id: string) => string, string, string][] = [
    [clusterName, 'prod', 'prod'],
    [clusterName, 'arn:aws:ecs:us-east-1:123456789012:cluster/prod', 'prod'],
    [clusterName, 'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod', 'prod'],
    [
      clusterName,
      'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
      'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
    ],
    [serviceName, 'api', 'api'],
    [serviceName, 'arn:aws:ecs:us-east-1:123456789012:service/prod/api', 'api'],
    [serviceName, 'arn:aws:ecs:us-east-1:123456789012:service/api', 'api'],
    [serviceName, 'arn:aws:ecs:us-east-1:123456789012:cluster/prod', 'arn:aws:ecs:us-east-1:123456789012:cluster/prod'],
  ];
  for (const [fn, id, name] of table) {
    it(`${fn.name}(${id}) is ${name}`, () => assert.equal(fn(id), name));
  }

  it('counts a cluster given by name and by ARN once, keeping the first spelling', () => {
    assert.deepEqual(distinctClusters(['prod', 'arn:aws:ecs:us-east-1:1:cluster/prod', 'dev', 'prod']), [
      'prod',
      'dev',
    ]);
  });
});
