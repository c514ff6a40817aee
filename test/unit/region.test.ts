import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { regionFromEnv } from '../../shared/region.ts';

describe('regionFromEnv', () => {
  const cases: [string, Record<string, string | undefined>, ReturnType<typeof regionFromEnv>][] = [
    ['AWS_REGION alone', { AWS_REGION: 'eu-west-1' }, { region: 'eu-west-1', variable: 'AWS_REGION' }],
    [
      'AWS_DEFAULT_REGION alone (the aws CLI v1 reads only this one)',
      { AWS_DEFAULT_REGION: 'eu-west-1' },
      { region: 'eu-west-1', variable: 'AWS_DEFAULT_REGION' },
    ],
    [
      'both: AWS_REGION wins',
      { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'eu-west-1' },
      { region: 'us-east-1', variable: 'AWS_REGION' },
    ],
    [
      'a blank AWS_REGION counts as unset',
      { AWS_REGION: ' ', AWS_DEFAULT_REGION: 'eu-west-1' },
      { region: 'eu-west-1', variable: 'AWS_DEFAULT_REGION' },
    ],
    ['surrounding spaces are trimmed', { AWS_REGION: ' eu-west-1\n' }, { region: 'eu-west-1', variable: 'AWS_REGION' }],
    ['neither', {}, undefined],
    ['both blank', { AWS_REGION: '', AWS_DEFAULT_REGION: '' }, undefined],
  ];
  for (const [what, env, expected] of cases) {
    it(`reads ${what}`, () => assert.deepEqual(regionFromEnv(env), expected));
  }
});
