import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { looksSecret } from '../../ops/inject-contract.ts';
import { lintTaskDefinition } from '../../ops/inject-lint.ts';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are free-form JSON that the cases reach into
type Obj = Record<string, any>;
const manifest = (): Obj =>
  JSON.parse(readFileSync(new URL('../../manifests/ecs/app-task-definition.json', import.meta.url), 'utf8'));
const init = (td: Obj): Obj => td.containerDefinitions.find((c: Obj) => c.name === 'secrets-init');
const api = (td: Obj): Obj => td.containerDefinitions.find((c: Obj) => c.name === 'api');

describe('lintTaskDefinition', () => {
  it('finds nothing wrong with the committed app task definition', () => {
    assert.deepEqual(lintTaskDefinition(manifest(), { requiredKeys: ['OPENAI_API_KEY'] }), []);
  });

  // Each case breaks the committed manifest in one way; the lint must name that way.
  const cases: [string, (td: Obj) => void, RegExp][] = [
    [
      'a missing dependency on the init container',
      (td) => delete api(td).dependsOn,
      /"api": .*no dependsOn "secrets-init"/,
    ],
    [
      'a dependency that waits for START only',
      (td) => (api(td).dependsOn[0].condition = 'START'),
      /condition SUCCESS, not START/,
    ],
    ['an essential init container', (td) => (init(td).essential = true), /"secrets-init": must be "essential": false/],
    ['an init container with essential left out', (td) => delete init(td).essential, /must be "essential": false/],
    [
      'a mount of an undefined volume',
      (td) => api(td).mountPoints.push({ sourceVolume: 'cache', containerPath: '/cache' }),
      /mountPoints\[1\]: volume "cache" is not defined/,
    ],
    ['a secrets volume left out of volumes', (td) => (td.volumes = []), /volume "secrets" is not defined/],
    [
      'a secret in plain environment',
      (td) => api(td).environment.push({ name: 'OPENAI_API_KEY', value: 'sk-x' }),
      /environment\[1\]: "OPENAI_API_KEY" looks like a secret/,
    ],
    [
      'a required key in plain environment',
      (td) => init(td).environment.push({ name: 'MILVUS_PORT', value: '19530' }),
      /"MILVUS_PORT" looks like a secret/,
    ],
    [
      'an app mount that is writable',
      (td) => (api(td).mountPoints[0].readOnly = false),
      /must mount volume "secrets" read-only/,
    ],
    [
      'an init mount that is read-only',
      (td) => (init(td).mountPoints[0].readOnly = true),
      /mounts \/run\/secrets read-only but writes/,
    ],
    [
      'an app entryPoint that bypasses the entrypoint',
      (td) => (api(td).entryPoint = ['/sbin/tini', '--']),
      /"api": entryPoint replaces the image's and must start with \/usr\/local\/bin\/secrets-entrypoint/,
    ],
    ['no init container', (td) => td.containerDefinitions.shift(), /no init container "secrets-init"/],
    [
      'an init container without a secret to render',
      (td) => (init(td).environment = [{ name: 'APP_ENV', value: 'production' }]),
      /names no secret/,
    ],
    [
      'a dependency on a container that does not exist',
      (td) => api(td).dependsOn.push({ containerName: 'db', condition: 'HEALTHY' }),
      /container "db" does not exist/,
    ],
    [
      'a secrets volume on a host path',
      (td) => (td.volumes[0].host = { sourcePath: '/srv/secrets' }),
      /has a host path/,
    ],
    ['no essential container', (td) => (api(td).essential = false), /no essential container/],
    [
      'an init container given ECS secrets',
      (td) => (init(td).secrets = [{ name: 'X', valueFrom: 'arn:aws:secretsmanager:us-east-1:1:secret:x' }]),
      /must not take ECS "secrets"/,
    ],
  ];
  for (const [what, breakIt, message] of cases) {
    it(`catches ${what}`, () => {
      const td = manifest();
      breakIt(td);
      const problems = lintTaskDefinition(td, { requiredKeys: ['MILVUS_PORT'] });
      assert.ok(
        problems.some((p) => message.test(p)),
        `expected ${message} in:\n${problems.join('\n')}`,
      );
    });
  }
  it("accepts an app without entryPoint: its image's ENTRYPOINT (the secrets entrypoint) runs", () => {
    const td = manifest();
    delete api(td).entryPoint;
    assert.deepEqual(lintTaskDefinition(td), []);
  });

  it('names containers with the label it is given', () => {
    const td = manifest();
    api(td).environment.push({ name: 'OPENAI_API_KEY', value: 'sk-x' });
    const problems = lintTaskDefinition(td, { label: (i, name) => `#${i}:${name}` });
    assert.ok(
      problems.some((p) => p.startsWith('#1:api.environment[1]')),
      problems.join('\n'),
    );
  });

  it('never prints a value', () => {
    const td = manifest();
    api(td).environment.push({ name: 'DB_PASSWORD', value: 'hunter2-very-secret' });
    assert.ok(!lintTaskDefinition(td).join('\n').includes('hunter2'));
  });
});

describe('looksSecret', () => {
  const yes = [
    'OPENAI_API_KEY',
    'PINECONE_API_KEY',
    'APP_SECRET_KEY',
    'GOOGLE_APPLICATION_CREDENTIALS_JSON',
    'DB_PASSWORD',
    'GITHUB_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'STRIPE_APIKEY',
    'SECRET',
  ];
  const no = [
    'SECRET_NAME',
    'SECRETS_DIR',
    'SECRETS_REQUIRED',
    'TOKEN_URL',
    'MILVUS_HOST',
    'APP_ENV',
    'PASSWORD_MIN_LENGTH',
    'GOOGLE_APPLICATION_CREDENTIALS',
  ];
  for (const name of yes) it(`flags ${name}`, () => assert.equal(looksSecret(name), true));
  for (const name of no) it(`lets ${name} through`, () => assert.equal(looksSecret(name), false));
});
