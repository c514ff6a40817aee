import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readBindingTags, secretsTagKey } from '../../watcher/tags.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:short-cut/prod/app-AbCdEf';

describe('readBindingTags', () => {
  const ok: [string, Record<string, string>, string[]][] = [
    ['one id', { 'secrets-init/secrets': 'short-cut/prod/app' }, ['short-cut/prod/app']],
    ['ids separated by spaces, repeats once', { 'secrets-init/secrets': ' a  b a ' }, ['a', 'b']],
    ['any Unicode space (ECS allows them)', { 'secrets-init/secrets': 'a\u00a0b\u2003c' }, ['a', 'b', 'c']],
    ['a full ARN and every id character', { 'secrets-init/secrets': `${ARN} x_+=.@-y` }, [ARN, 'x_+=.@-y']],
    [
      'continuation keys, read in order whatever order the tags come in',
      { 'secrets-init/secrets-3': 'e', 'secrets-init/secrets': 'a b', 'secrets-init/secrets-2': 'c d' },
      ['a', 'b', 'c', 'd', 'e'],
    ],
    [
      'SSM parameters and paths (ssm:NAME, ssm:/PATH/) next to secrets',
      { 'secrets-init/secrets': 'short-cut/prod/app ssm:/short-cut/prod/DATABASE_URL ssm:/short-cut/prod/ ssm:PLAIN' },
      ['short-cut/prod/app', 'ssm:/short-cut/prod/DATABASE_URL', 'ssm:/short-cut/prod/', 'ssm:PLAIN'],
    ],
    ['an empty value: bound, to nothing', { 'secrets-init/secrets': '' }, []],
    ['256 characters exactly', { 'secrets-init/secrets': 'a'.repeat(256) }, ['a'.repeat(256)]],
  ];
  for (const [what, tags, ids] of ok) {
    it(`reads ${what}`, () => {
      assert.deepEqual(readBindingTags({ team: 'x', 'secrets-init/fingerprint': 'v1:00', ...tags }), {
        present: true,
        secretIds: ids,
        problems: [],
      });
    });
  }

  it('is not present without a binding key (the fingerprint tag alone is not one)', () => {
    assert.deepEqual(readBindingTags({ 'secrets-init/fingerprint': 'v1:00' }), {
      present: false,
      secretIds: [],
      problems: [],
    });
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    [
      'a comma (ECS tag values allow none)',
      { 'secrets-init/secrets': 'a,b' },
      /^secrets-init\/secrets: commas are not allowed in ECS tag values; separate ids with spaces$/,
    ],
    [
      'more than 256 characters',
      { 'secrets-init/secrets': 'a'.repeat(257) },
      /^secrets-init\/secrets: 257 characters, an ECS tag value holds at most 256 \(continue the ids in the next key\)$/,
    ],
    [
      'characters ECS refuses',
      { 'secrets-init/secrets-2': 'a;b*c', 'secrets-init/secrets': 'x' },
      /^secrets-init\/secrets-2: characters an ECS tag value cannot hold: ";" "\*"$/,
    ],
    [
      'a tag ECS allows that holds no id (a Unicode letter)',
      { 'secrets-init/secrets': 'db café' },
      /^secrets-init\/secrets: "café" is not a secret id/,
    ],
    [
      'a pinned parameter (it never changes)',
      { 'secrets-init/secrets': 'a ssm:/short-cut/prod/DATABASE_URL:3' },
      /^secrets-init\/secrets: "ssm:\/short-cut\/prod\/DATABASE_URL:3": a pinned version never changes/,
    ],
    [
      'a parameter id SSM could not hold (an empty level)',
      { 'secrets-init/secrets': 'ssm:/short-cut//prod/' },
      /^secrets-init\/secrets: "ssm:\/short-cut\/\/prod\/": not a path: has an empty level/,
    ],
    [
      'a parameter ARN (bind ssm:NAME instead)',
      { 'secrets-init/secrets': 'arn:aws:ssm:us-east-1:123456789012:parameter/short-cut/prod/X' },
      /is a parameter ARN; bind a parameter as ssm:NAME/,
    ],
    [
      'a gap in the keys',
      { 'secrets-init/secrets': 'a', 'secrets-init/secrets-3': 'c' },
      /^secrets-init\/secrets-3 is set but secrets-init\/secrets-2 is not: the keys are read in order$/,
    ],
    [
      'a continuation without the first key',
      { 'secrets-init/secrets-2': 'b' },
      /^secrets-init\/secrets-2 is set but secrets-init\/secrets is not/,
    ],
    [
      'an unknown key of the binding family',
      { 'secrets-init/secrets': 'a', 'secrets-init/secrets-1': 'b' },
      /^secrets-init\/secrets-1: not a binding key/,
    ],
    [
      'a continuation number with a leading zero',
      { 'secrets-init/secrets': 'a', 'secrets-init/secrets-02': 'b' },
      /^secrets-init\/secrets-02: not a binding key/,
    ],
  ];
  for (const [what, tags, problem] of bad) {
    it(`reports ${what}`, () => {
      const read = readBindingTags(tags);
      assert.equal(read.present, true);
      assert.equal(read.problems.length, 1, read.problems.join('\n'));
      assert.match(read.problems[0]!, problem);
    });
  }

  it('reports every problem of every key at once', () => {
    const read = readBindingTags({ 'secrets-init/secrets': 'a,b', 'secrets-init/secrets-2': 'c'.repeat(300) });
    assert.equal(read.problems.length, 2);
  });

  it('numbers continuation keys from 2', () => {
    assert.deepEqual([1, 2, 10].map(secretsTagKey), [
      'secrets-init/secrets',
      'secrets-init/secrets-2',
      'secrets-init/secrets-10',
    ]);
  });
});
