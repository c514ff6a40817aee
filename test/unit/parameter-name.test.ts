import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isParameterId, parseBindingId } from '../../shared/binding-id.ts';
import {
  keyUnderPath,
  lastLevel,
  parameterArn,
  parameterNameProblem,
  parseParameterPath,
  parseParameterRef,
} from '../../shared/parameter-name.ts';

describe('SSM parameter names', () => {
  const names: [string, string | undefined][] = [
    ['/short-cut/prod/DATABASE_URL', undefined],
    ['PLAIN_NAME', undefined],
    ['/a.b-c_d/E', undefined],
    ['/aws/service/global-infrastructure/regions', undefined],
    [`/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`, undefined],
    [`/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, 'more than 15 levels'],
    ['/a/b c', 'has characters a parameter name cannot have (letters, digits, _ . - / only)'],
    ['/a/café', 'has characters a parameter name cannot have (letters, digits, _ . - / only)'],
    ['a/b', 'a name with "/" must begin with "/"'],
    ['/a//b', 'has an empty level ("//")'],
    ['/a/b/', 'ends with "/" (a path, not a parameter)'],
    [`/${'x'.repeat(1011)}`, 'longer than 1011 characters'],
  ];
  for (const [name, problem] of names) {
    it(`${problem ? 'refuses' : 'accepts'} ${name.length > 60 ? `${name.slice(0, 30)}...` : name}`, () => {
      assert.equal(parameterNameProblem(name), problem);
    });
  }

  it('reads a version or a label after ":", and refuses anything else there', () => {
    assert.deepEqual(parseParameterRef('/a/B'), { name: '/a/B' });
    assert.deepEqual(parseParameterRef('/a/B:12'), { name: '/a/B', selector: '12' });
    assert.deepEqual(parseParameterRef('/a/B:stable-2.x_y'), { name: '/a/B', selector: 'stable-2.x_y' });
    for (const bad of ['/a/B:', '/a/B:0', '/a/B:01', '/a/B:1x', '/a/B:aws', '/a/B:SSM-x', '/a/B:1:2', '/a/B:a b']) {
      assert.ok('problem' in parseParameterRef(bad), bad);
    }
  });

  it('reads a path with or without its final /, returning it with one; the root and relative paths are refused', () => {
    assert.deepEqual(parseParameterPath('/short-cut/prod'), { path: '/short-cut/prod/' });
    assert.deepEqual(parseParameterPath('/short-cut/prod/'), { path: '/short-cut/prod/' });
    for (const bad of ['/', '//', 'short-cut/prod/', '/a//b/', '/a b/'])
      assert.ok('problem' in parseParameterPath(bad), bad);
  });

  it('gives a path its keys: the name under the path with / as _, nothing for a name outside it', () => {
    assert.equal(keyUnderPath('/short-cut/prod/', '/short-cut/prod/db/url'), 'db_url');
    assert.equal(keyUnderPath('/short-cut/prod/', '/short-cut/prod/DATABASE_URL'), 'DATABASE_URL');
    assert.equal(keyUnderPath('/short-cut/prod/', '/short-cut/prod2/X'), undefined);
    assert.equal(keyUnderPath('/short-cut/prod/', '/short-cut/prod/'), undefined);
    assert.equal(lastLevel('/short-cut/prod/DATABASE_URL'), 'DATABASE_URL');
    assert.equal(lastLevel('PLAIN'), 'PLAIN');
  });

  it('builds the IAM resource as SSM builds the ARN (no leading /), a path without its final /', () => {
    const where = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
    assert.equal(parameterArn('/a/B', where), 'arn:aws:ssm:us-east-1:123456789012:parameter/a/B');
    assert.equal(parameterArn('PLAIN', where), 'arn:aws:ssm:us-east-1:123456789012:parameter/PLAIN');
    assert.equal(parameterArn('/a/', where), 'arn:aws:ssm:us-east-1:123456789012:parameter/a');
  });
});

describe('binding ids', () => {
  const ids: [string, ReturnType<typeof parseBindingId>][] = [
    ['short-cut/prod/app', { kind: 'secret', id: 'short-cut/prod/app' }],
    [
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf',
      { kind: 'secret', id: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf' },
    ],
    [
      'ssm:/short-cut/prod/DATABASE_URL',
      { kind: 'parameter', id: 'ssm:/short-cut/prod/DATABASE_URL', name: '/short-cut/prod/DATABASE_URL' },
    ],
    ['ssm:PLAIN', { kind: 'parameter', id: 'ssm:PLAIN', name: 'PLAIN' }],
    ['ssm:/short-cut/prod/', { kind: 'path', id: 'ssm:/short-cut/prod/', path: '/short-cut/prod/' }],
  ];
  for (const [id, want] of ids) {
    it(`classifies ${id} as a ${'kind' in want ? want.kind : '?'}`, () => {
      assert.deepEqual(parseBindingId(id), want);
      assert.equal(isParameterId(id), 'kind' in want && want.kind !== 'secret');
    });
  }

  for (const bad of [
    'ssm:',
    'ssm:/',
    'ssm:/a//b',
    'ssm:a/b',
    'ssm:/a/B:3',
    'SSM:/a/B',
    'arn:aws:ssm:us-east-1:1:parameter/a',
  ]) {
    it(`refuses ${bad}`, () => assert.ok('problem' in parseBindingId(bad)));
  }
});
