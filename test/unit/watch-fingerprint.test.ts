import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bindingDigest, fingerprint, fingerprintV1 } from '../../watcher/fingerprint.ts';

const A = { arn: 'arn:aws:secretsmanager:us-east-1:1:secret:a-AAAAAA', currentVersionId: 'v-a1' };
const B = { arn: 'arn:aws:secretsmanager:us-east-1:1:secret:b-BBBBBB', currentVersionId: 'v-b1' };
const C = { arn: 'arn:aws:secretsmanager:us-east-1:1:secret:c-CCCCCC', currentVersionId: 'v-c1' };

describe('fingerprint', () => {
  it("is 128 bits of a sha256 digest in hex (it goes into the state tag); the first watcher's v1 form is kept for reading", () => {
    assert.match(fingerprint([A, B]), /^[0-9a-f]{32}$/);
    assert.match(fingerprintV1([A, B]), /^v1:[0-9a-f]{64}$/);
    assert.equal(fingerprintV1([A, B]).slice(3, 35), fingerprint([A, B]), 'the same digest');
  });

  it('is the same whatever the order of the versions (determinism)', () => {
    assert.equal(fingerprint([A, B, C]), fingerprint([C, A, B]));
    assert.equal(fingerprint([A, B, C]), fingerprint([B, C, A]));
  });

  it('ignores duplicates (a secret bound twice, by name and by ARN, resolves to one ARN)', () => {
    assert.equal(fingerprint([A, B, A]), fingerprint([A, B]));
  });

  it('changes when any one version changes', () => {
    const base = fingerprint([A, B, C]);
    assert.notEqual(fingerprint([A, { ...B, currentVersionId: 'v-b2' }, C]), base);
    assert.notEqual(fingerprint([A, B]), base);
  });

  it('is a function of the set of versions only (property)', () => {
    const version = fc.record({
      arn: fc.stringMatching(/^arn:aws:secretsmanager:us-east-1:1:secret:[a-z]{1,8}-[A-Za-z]{6}$/),
      currentVersionId: fc.uuid(),
    });
    fc.assert(
      fc.property(fc.array(version, { maxLength: 12 }), fc.nat(), (versions, seed) => {
        const shuffled = [...versions, ...versions.slice(0, seed % (versions.length + 1))];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (seed * (i + 7)) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        assert.equal(fingerprint(shuffled), fingerprint(versions));
      }),
    );
  });
});

describe('bindingDigest', () => {
  it('is 8 hex of the sorted distinct ids: the same binding written in any order agrees, another does not', () => {
    assert.match(bindingDigest(['db', 'openai']), /^[0-9a-f]{8}$/);
    assert.equal(bindingDigest(['openai', 'db', 'db']), bindingDigest(['db', 'openai']));
    assert.notEqual(bindingDigest(['db']), bindingDigest(['db', 'openai']));
  });
});
