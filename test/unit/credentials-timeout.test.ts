import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeAwsError } from '../../shared/aws-error.ts';
import { credentialsWithTimeout } from '../../shared/credentials-timeout.ts';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' };

describe('credentialsWithTimeout', () => {
  it('returns what the chain returns when it answers in time', async () => {
    const provider = credentialsWithTimeout(1000, () => async () => CREDS)({});
    assert.deepEqual(await provider(), CREDS);
  });

  it("passes the chain's own failure through unchanged", async () => {
    const failure = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const provider = credentialsWithTimeout(1000, () => async () => Promise.reject(failure))({});
    await assert.rejects(provider(), failure);
  });

  it('fails a chain that never answers after the timeout, then starts a fresh chain for the next call', async () => {
    let made = 0;
    const provider = credentialsWithTimeout(20, () => {
      made++;
      // The first chain stalls for ever (as the SDK's container provider can); the next one answers.
      return made === 1 ? () => new Promise<never>(() => {}) : async () => CREDS;
    })({});
    const err = await provider().then(
      () => assert.fail('expected a timeout'),
      (e: unknown) => e as Error,
    );
    assert.equal(err.name, 'CredentialsTimeoutError');
    assert.equal(
      describeAwsError(err),
      'no credentials within 0.02s (the task-role credentials endpoint or IMDS did not answer)',
    );
    assert.deepEqual(await provider(), CREDS);
    assert.equal(made, 2);
  });

  it('hands the client init to the chain', async () => {
    const seen: unknown[] = [];
    const provider = credentialsWithTimeout(1000, (init) => {
      seen.push(init);
      return async () => CREDS;
    })({ profile: 'p' });
    await provider();
    assert.deepEqual(seen, [{ profile: 'p' }]);
  });
});
