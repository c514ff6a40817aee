import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeState, encodeState, type ServiceStateTag } from '../../watcher/state-tag.ts';

const ARN = 'arn:aws:ecs:us-east-1:123456789012:service/prod/api';
const KEY = Buffer.from('a'.repeat(48));
const tag: ServiceStateTag = {
  state: 'deploying',
  fingerprint: '0123456789abcdef0123456789abcdef',
  binding: 'deadbeef',
  deployment: 'ecs-svc/1234567890123456789',
  writtenAt: 1_795_971_288,
  redeployedAt: 1_795_971_280,
  run: '9f3a1c2b',
  flips: 0,
};
/** What ECS allows in a tag value (letters, digits, spaces and _ . : / = + - @), at most 256 characters. */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

describe('state tag', () => {
  it('round-trips, signed, within what an ECS tag value may hold', () => {
    const value = encodeState(tag, ARN, KEY);
    assert.match(value, TAG_VALUE);
    assert.deepEqual(decodeState(value, ARN, KEY), { trust: 'signed', tag });
  });

  it('round-trips unsigned (m=-) for a watcher without a key, and is not evidence for one with a key', () => {
    const value = encodeState(tag, ARN, undefined);
    assert.match(value, / m=-$/);
    assert.deepEqual(decodeState(value, ARN, undefined), { trust: 'unsigned', tag });
    assert.deepEqual(decodeState(value, ARN, KEY), { trust: 'untrusted', tag });
  });

  it('carries how many redeploys `w` stands for (n) only when more than one, signed like the rest', () => {
    const many = { ...tag, redeploys: 3 };
    const value = encodeState(many, ARN, KEY);
    assert.match(value, / x=0 n=3 m=/);
    assert.deepEqual(decodeState(value, ARN, KEY), { trust: 'signed', tag: many });
    assert.doesNotMatch(encodeState({ ...tag, redeploys: 1 }, ARN, KEY), / n=/);
    assert.equal(decodeState(value.replace(' n=3 ', ' n=1 '), ARN, KEY).trust, 'invalid');
  });

  const forgeries: [string, string][] = [
    ['another key', encodeState(tag, ARN, Buffer.from('b'.repeat(48)))],
    ["another service's tag", encodeState(tag, ARN.replace('/api', '/web'), KEY)],
    ['a field changed after signing', encodeState(tag, ARN, KEY).replace('s=deploying', 's=ok')],
    ['a made-up signature', encodeState(tag, ARN, undefined).replace('m=-', 'm=AAAAAAAAAAAAAAAAAAAAAA')],
  ];
  for (const [what, value] of forgeries) {
    it(`does not take ${what}`, () => assert.equal(decodeState(value, ARN, KEY).trust, 'invalid'));
  }

  const odd: [string, string | undefined, string][] = [
    ['no tag', undefined, 'absent'],
    ["the first watcher's v1 fingerprint", `v1:${'a'.repeat(64)}`, 'v1'],
    ["a newer watcher's format", 'v3 s=ok f=x', 'unknown'],
    ['garbage', 'hello world', 'unknown'],
    ['a v2 tag with a field missing', 'v2 s=ok m=-', 'invalid'],
    ['a v2 tag with an unknown state', encodeState(tag, ARN, undefined).replace('s=deploying', 's=maybe'), 'invalid'],
    ['a v2 tag with n=1 (one spelling only)', encodeState(tag, ARN, undefined).replace(' m=', ' n=1 m='), 'invalid'],
    [
      'a v2 tag with n but no w',
      encodeState({ ...tag, redeployedAt: null }, ARN, undefined).replace(' m=', ' n=2 m='),
      'invalid',
    ],
  ];
  for (const [what, value, trust] of odd) {
    it(`reads ${what} as ${trust}, never throwing`, () => assert.equal(decodeState(value, ARN, KEY).trust, trust));
  }

  it('never throws and never trusts a value it did not sign (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (value) => {
        const read = decodeState(value, ARN, KEY);
        assert.notEqual(read.trust, 'signed');
      }),
    );
  });

  it('every state the watcher writes reads back: n past 9999 (--max-redeploys has no upper bound; one service redeployed every pass)', () => {
    const many = { ...tag, redeploys: 10_000 };
    assert.deepEqual(decodeState(encodeState(many, ARN, KEY), ARN, KEY), { trust: 'signed', tag: many });
  });
});
