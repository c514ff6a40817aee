import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindingFromTags, bindingsFromConfig } from '../../watcher/bindings.ts';
import type { ServiceState } from '../../watcher/model.ts';

const service = (tags: Record<string, string>, status = 'ACTIVE'): ServiceState => ({
  cluster: 'prod',
  name: 'api',
  arn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/api',
  status,
  tags,
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
});

describe('bindingFromTags', () => {
  it('binds an ACTIVE service to the secrets its secrets-init/secrets tag lists', () => {
    assert.deepEqual(bindingFromTags(service({ 'secrets-init/secrets': 'db, openai' })), {
      cluster: 'prod',
      service: 'api',
      secretIds: ['db', 'openai'],
    });
  });

  it('ignores services without the tag: they are not ours', () => {
    assert.equal(bindingFromTags(service({ team: 'x' })), undefined);
  });

  it('ignores services on their way out', () => {
    assert.equal(bindingFromTags(service({ 'secrets-init/secrets': 'db' }, 'DRAINING')), undefined);
  });

  it('keeps an empty tag as a binding with no secret, so the core reports it instead of ignoring it', () => {
    assert.deepEqual(bindingFromTags(service({ 'secrets-init/secrets': ' , ' }))?.secretIds, []);
  });
});
