import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AWS_QUOTAS, quotaKeyOf, RateLimiter, SSM_READS } from '../helpers/aws-limits.ts';

// The test proxy's account quotas (test/helpers/aws-limits.ts; sources in its comments), on a clock of our own:
// each bucket lets its burst through at once, refuses the next call, and refills at its sustained rate.

describe("the limits proxy's rate quotas", () => {
  const expected: [string, number, number][] = [
    ['secretsmanager:BatchGetSecretValue', 100, 100],
    ['secretsmanager:GetSecretValue', 10_000, 10_000],
    ['secretsmanager:DescribeSecret', 40_000, 40_000],
    ['ecs:DescribeServices', 100, 20],
    ['ecs:ListServices', 100, 20],
    ['ecs:UpdateService', 100, 20],
    ['ecs:TagResource', 100, 20],
    [SSM_READS, 40, 40],
  ];

  it('has a quota for every call the tool makes, and no other', () => {
    assert.deepEqual(Object.keys(AWS_QUOTAS).sort(), expected.map(([k]) => k).sort());
  });

  for (const [key, burst, perSecond] of expected) {
    it(`${key}: ${burst} at once, then ${perSecond}/s`, () => {
      let now = 0;
      const limiter = new RateLimiter(AWS_QUOTAS, () => now);
      for (let i = 0; i < burst; i++) assert.equal(limiter.take(key), true, `call ${i + 1} of the burst`);
      assert.equal(limiter.take(key), false, 'the call after the burst is throttled');
      now += 1000 / perSecond;
      assert.equal(limiter.take(key), true, 'one token back after 1/rate s');
      assert.equal(limiter.take(key), false);
      now += 10_000_000;
      for (let i = 0; i < burst; i++) assert.equal(limiter.take(key), true, 'refilled, never past the bucket size');
      assert.equal(limiter.take(key), false);
    });
  }

  it("gives Parameter Store's three reads one bucket, and every other call its own", () => {
    for (const action of ['GetParameter', 'GetParameters', 'GetParametersByPath']) {
      assert.equal(quotaKeyOf('ssm', action), SSM_READS);
    }
    assert.equal(quotaKeyOf('ssm', 'DescribeParameters'), 'ssm:DescribeParameters');
    assert.equal(quotaKeyOf('ecs', 'UpdateService'), 'ecs:UpdateService');
    let now = 0;
    const limiter = new RateLimiter(AWS_QUOTAS, () => now);
    for (let i = 0; i < 40; i++)
      assert.equal(
        limiter.take(quotaKeyOf('ssm', ['GetParameter', 'GetParameters', 'GetParametersByPath'][i % 3]!)),
        true,
      );
    assert.equal(limiter.take(quotaKeyOf('ssm', 'GetParametersByPath')), false, 'the 41st read of any kind waits');
    assert.equal(limiter.take(quotaKeyOf('ssm', 'DescribeParameters')), true, 'no published quota: not limited here');
    now += 25;
    assert.equal(limiter.take(quotaKeyOf('ssm', 'GetParameters')), true);
  });

  it('keeps buckets apart, lets unlisted calls through, and takes a changed quota at once', () => {
    const limiter = new RateLimiter(AWS_QUOTAS, () => 0);
    limiter.set('ecs:TagResource', { capacity: 1, perSecond: 1 });
    assert.equal(limiter.take('ecs:TagResource'), true);
    assert.equal(limiter.take('ecs:TagResource'), false);
    assert.equal(limiter.take('ecs:UpdateService'), true);
    assert.equal(limiter.take('ecs:CreateService'), true, 'no quota: never throttled here');
    limiter.refill();
    assert.equal(limiter.take('ecs:TagResource'), true, 'refill: a fresh account');
  });
});
