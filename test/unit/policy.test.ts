import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { main } from '../../cli/main.ts';
import { buildPolicies } from '../../ops/policy.ts';
import { partitionOf, secretResource } from '../../ops/policy-arn.ts';
import { formatJson, policyFiles } from '../../ops/policy-files.ts';
import { policyInput } from '../../ops/policy-input.ts';
import { type ConfigFile, validateConfig } from '../../shared/config.ts';
import { UsageError } from '../../shared/errors.ts';
import { fakeCliIo } from '../fakes/cli-io.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/secrets-init.yaml');
const IAM = join(ROOT, 'iam');
const HERE = { account: '123456789012', region: 'us-east-1' };
/** Hand-written, not a policy: the shape of the secret to create. */
const NOT_GENERATED = 'secret-structure-example.json';

async function exampleConfig(): Promise<ConfigFile> {
  const r = validateConfig(parse(await readFile(EXAMPLE, 'utf8')));
  if ('problems' in r) assert.fail(r.problems.join('\n'));
  return r.config;
}

function config(spec: Record<string, unknown>, name = 'short-cut'): ConfigFile {
  const r = validateConfig({ apiVersion: 'secrets-init/v1', kind: 'SecretsInit', metadata: { name }, spec });
  if ('problems' in r) assert.fail(r.problems.join('\n'));
  return r.config;
}

async function run(args: string[], env: Record<string, string> = {}) {
  const t = fakeCliIo({ env, cwd: ROOT });
  const code = await main(args, t.io);
  return { code, stdout: t.out(), stderr: t.err() };
}

describe('secretResource', () => {
  const cases: { id: string; region?: string; want: string }[] = [
    {
      id: 'short-cut/prod/app',
      want: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:short-cut/prod/app-??????',
    },
    {
      id: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:short-cut/prod/app-AbCdEf',
      want: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:short-cut/prod/app-AbCdEf',
    },
    {
      id: 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/db',
      want: 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/db-??????',
    },
    {
      id: 'app',
      region: 'cn-north-1',
      want: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:app-??????',
    },
  ];
  for (const c of cases) {
    it(`maps ${c.id} to ${c.want}`, () => {
      assert.equal(secretResource(c.id, { ...HERE, ...(c.region && { region: c.region }) }).arnPattern, c.want);
    });
  }

  it('keeps the account and region of a secret given by ARN', () => {
    const r = secretResource('arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/db-AbCdEf', HERE);
    assert.deepEqual([r.account, r.region], ['210987654321', 'eu-west-1']);
  });

  for (const bad of [
    'short-cut/*',
    'short-cut/prod/app?',
    'has space',
    'arn:aws:ssm:us-east-1:123456789012:parameter/x',
  ]) {
    it(`refuses "${bad}" (it would widen the pattern or is not a secret)`, () => {
      assert.throws(() => secretResource(bad, HERE), UsageError);
    });
  }

  it('knows the partitions', () => {
    assert.deepEqual(['us-east-1', 'cn-northwest-1', 'us-gov-west-1'].map(partitionOf), [
      'aws',
      'aws-cn',
      'aws-us-gov',
    ]);
  });
});

describe('policyInput', () => {
  it('refuses a config that names no secret', async () => {
    assert.throws(() => policyInput(config({}), { location: HERE }), /no secrets to grant/);
  });

  it('takes secrets and clusters from flags when the config has none', () => {
    const input = policyInput(config({}), { location: HERE, secrets: ['a/b'], clusters: ['c1'] });
    assert.deepEqual(
      input.secrets.map((s) => s.id),
      ['a/b'],
    );
    assert.deepEqual(input.clusters, ['c1']);
  });

  for (const [what, options] of [
    ['an account that is not 12 digits', { location: { account: '12345', region: 'us-east-1' } }],
    ['a region that is not a region', { location: { account: '123456789012', region: 'useast' } }],
    ['a prefix with a slash', { location: HERE, prefix: 'a/b' }],
    ['a cluster name with a wildcard', { location: HERE, clusters: ['prod-*'] }],
    ['a repository with upper case', { location: HERE, repositories: ['Secrets'] }],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => policyInput(config({ sources: ['x'] }), options), UsageError);
    });
  }

  it('gives the watcher metadata access to bound secrets and sources, once each', () => {
    const input = policyInput(
      config({
        sources: ['s/one', 's/two'],
        watch: { clusters: [{ name: 'c', services: [{ name: 'api', secrets: ['s/two', 's/three'] }] }] },
      }),
      { location: HERE },
    );
    assert.deepEqual(
      input.watchedSecrets.map((s) => s.id),
      ['s/two', 's/three', 's/one'],
    );
  });
});

describe('buildPolicies', () => {
  it('leaves the watcher, scheduler and trigger trust out when nothing is watched', () => {
    const set = buildPolicies(policyInput(config({ sources: ['x'] }), { location: HERE }));
    assert.deepEqual(Object.keys(set), [
      'ecs-task-trust-policy.json',
      'execution-role-policy.json',
      'secrets-read-policy.json',
    ]);
  });

  it('grants each source exactly once and every watched cluster', () => {
    const set = buildPolicies(
      policyInput(config({ sources: ['a', 'b', 'a'] }), { location: HERE, clusters: ['c1', 'c2'] }),
    );
    const read = set['secrets-read-policy.json']!.Statement[0]!;
    assert.deepEqual(read.Resource, [
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:a-??????',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:b-??????',
    ]);
    const list = set['watcher-policy.json']!.Statement.find((s) => s.Action === 'ecs:ListServices')!;
    assert.deepEqual(list.Condition, {
      ArnEquals: {
        'ecs:cluster': [
          'arn:aws:ecs:us-east-1:123456789012:cluster/c1',
          'arn:aws:ecs:us-east-1:123456789012:cluster/c2',
        ],
      },
    });
  });

  it('lets kms:Decrypt through Secrets Manager of the region holding each secret', () => {
    const set = buildPolicies(
      policyInput(config({ sources: ['a', 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:b-AbCdEf'] }), {
        location: HERE,
      }),
    );
    const kms = set['secrets-read-policy.json']!.Statement.find((s) => s.Action === 'kms:Decrypt')!;
    assert.deepEqual(kms.Resource, [
      'arn:aws:kms:us-east-1:123456789012:key/*',
      'arn:aws:kms:eu-west-1:210987654321:key/*',
    ]);
    assert.deepEqual(kms.Condition, {
      StringEquals: {
        'kms:ViaService': ['secretsmanager.us-east-1.amazonaws.com', 'secretsmanager.eu-west-1.amazonaws.com'],
      },
    });
  });

  it('is deterministic', async () => {
    const cfg = await exampleConfig();
    const a = policyFiles(buildPolicies(policyInput(cfg, { location: HERE })));
    const b = policyFiles(buildPolicies(policyInput(cfg, { location: HERE })));
    assert.deepEqual(a, b);
  });
});

describe('policy for SSM Parameter Store sources and bindings', () => {
  const ssmConfig = (extra: Record<string, unknown> = {}) =>
    config({
      sources: [
        { parameterPath: '/short-cut/prod/' },
        { parameter: '/short-cut/shared/DATABASE_URL' },
        { parameter: '/short-cut/shared/API_KEY:3' },
        { parameter: 'PLAIN' },
      ],
      ...extra,
    });
  const bound = (...secrets: string[]) => ({
    watch: { clusters: [{ name: 'short-cut-prod', services: [{ name: 'api', secrets }] }] },
  });
  const ARN = 'arn:aws:ssm:us-east-1:123456789012:parameter';

  it('grants GetParameters on exactly the named parameters, GetParametersByPath on exactly the paths, KMS through SSM', () => {
    const set = buildPolicies(policyInput(ssmConfig(), { location: HERE }));
    assert.deepEqual(set['secrets-read-policy.json'], {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadExactlyTheseParameters',
          Effect: 'Allow',
          Action: 'ssm:GetParameters',
          Resource: [`${ARN}/short-cut/shared/DATABASE_URL`, `${ARN}/short-cut/shared/API_KEY`, `${ARN}/PLAIN`],
        },
        {
          Sid: 'ReadEveryParameterUnderThesePaths',
          Effect: 'Allow',
          Action: 'ssm:GetParametersByPath',
          Resource: [`${ARN}/short-cut/prod`, `${ARN}/short-cut/prod/*`],
        },
        {
          Sid: 'DecryptOnlyThroughParameterStore',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: 'arn:aws:kms:us-east-1:123456789012:key/*',
          Condition: { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } },
        },
      ],
    });
  });

  it('keeps the Secrets Manager grants as they are beside the SSM ones', () => {
    const secretsOnly = buildPolicies(policyInput(config({ sources: ['short-cut/prod/app'] }), { location: HERE }));
    const mixed = buildPolicies(
      policyInput(config({ sources: ['short-cut/prod/app', { parameterPath: '/short-cut/prod/' }] }), {
        location: HERE,
      }),
    );
    const sids = mixed['secrets-read-policy.json']!.Statement.map((s) => s.Sid);
    assert.deepEqual(sids, [
      'ReadExactlyTheseSecrets',
      'BatchGetChecksGetSecretValuePerSecret',
      'DecryptOnlyThroughSecretsManager',
      'ReadEveryParameterUnderThesePaths',
      'DecryptOnlyThroughParameterStore',
    ]);
    assert.deepEqual(
      mixed['secrets-read-policy.json']!.Statement.slice(0, 3),
      secretsOnly['secrets-read-policy.json']!.Statement,
    );
  });

  it('gives the watcher DescribeParameters (on "*", it has no resource type) only when parameters are bound or read', () => {
    const describeParameters = (set: ReturnType<typeof buildPolicies>) =>
      set['watcher-policy.json']!.Statement.filter((s) => String(s.Action).startsWith('ssm:'));
    const want = [
      { Sid: 'DescribeParametersHasNoResourceType', Effect: 'Allow', Action: 'ssm:DescribeParameters', Resource: '*' },
    ];
    // Bound by a path only, with a secret as the only source.
    const byBinding = buildPolicies(
      policyInput(config({ sources: ['short-cut/prod/app'], ...bound('ssm:/short-cut/prod/') }), { location: HERE }),
    );
    assert.deepEqual(describeParameters(byBinding), want);
    // Read as a source (a tag binding may name it, as for secrets).
    assert.deepEqual(
      describeParameters(buildPolicies(policyInput(ssmConfig(), { location: HERE, clusters: ['c'] }))),
      want,
    );
    const none = buildPolicies(
      policyInput(config({ sources: ['short-cut/prod/app'], ...bound('short-cut/prod/app') }), { location: HERE }),
    );
    assert.deepEqual(describeParameters(none), []);
  });

  it('leaves DescribeSecret out of the watcher policy when no secret is bound or read, and ssm: ids out of it always', () => {
    const set = buildPolicies(policyInput(ssmConfig(bound('ssm:/short-cut/prod/', 'ssm:PLAIN')), { location: HERE }));
    const actions = set['watcher-policy.json']!.Statement.map((s) => s.Action);
    assert.ok(!actions.includes('secretsmanager:DescribeSecret'));
    const input = policyInput(ssmConfig(bound('ssm:/short-cut/prod/', 'short-cut/prod/db')), { location: HERE });
    assert.deepEqual(
      input.watchedSecrets.map((s) => s.id),
      ['short-cut/prod/db'],
    );
    assert.equal(input.watchesParameters, true);
  });
});

describe('committed iam/', () => {
  it('equals `policy` output for the example config, byte for byte', async () => {
    const files = policyFiles(buildPolicies(policyInput(await exampleConfig(), { location: HERE })));
    for (const [name, text] of Object.entries(files)) {
      assert.equal(await readFile(join(IAM, name), 'utf8'), text, `iam/${name} is stale: run secrets-init policy`);
    }
    const committed = (await readdir(IAM)).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(
      committed,
      [...Object.keys(files), NOT_GENERATED].sort(),
      'iam/ holds a file policy does not make',
    );
  });

  it('is laid out the way biome formats JSON (so lint and this test agree)', () => {
    // `biome format` without --write exits non-zero when a file would change.
    const r = spawnSync(join(ROOT, 'node_modules/.bin/biome'), ['format', IAM], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it('shows a secret with every required key, flat string values and a parsable GCP key', async () => {
    const cfg = await exampleConfig();
    const example = JSON.parse(await readFile(join(IAM, NOT_GENERATED), 'utf8')) as Record<string, unknown>;
    for (const key of cfg.required) assert.ok(typeof example[key] === 'string' && example[key] !== '', key);
    for (const [k, v] of Object.entries(example)) assert.equal(typeof v, 'string', k);
    const gcp = JSON.parse(example.GOOGLE_APPLICATION_CREDENTIALS_JSON as string) as { type?: string };
    assert.equal(gcp.type, 'service_account');
  });
});

describe('formatJson', () => {
  it('round-trips and ends arrays on one line only when they fit', () => {
    const value = { a: ['x'.repeat(50), 'y'.repeat(50)], b: ['z'.repeat(200)], c: [], d: {}, e: [{ f: 1 }] };
    const text = formatJson(value);
    assert.deepEqual(JSON.parse(text), value);
    assert.match(text, /"a": \["x+", "y+"\],/);
    assert.match(text, /"b": \[\n {4}"z+"\n {2}\]/);
    assert.ok(text.split('\n').every((l) => l.length <= 120 || /^\s*"z+"$/.test(l)));
  });
});

describe('secrets-init policy', () => {
  const base = [
    'policy',
    '--config',
    'examples/secrets-init.yaml',
    '--account',
    '123456789012',
    '--region',
    'us-east-1',
  ];

  it('prints one JSON document of every policy', async () => {
    const r = await run(base);
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Record<string, unknown>;
    const expected = buildPolicies(policyInput(await exampleConfig(), { location: HERE }));
    assert.deepEqual(printed, JSON.parse(JSON.stringify(expected)));
  });

  it('writes the committed iam/ files with --out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    try {
      const r = await run([...base, '--out', dir]);
      assert.equal(r.code, 0, r.stderr);
      for (const name of await readdir(dir)) {
        assert.equal(await readFile(join(dir, name), 'utf8'), await readFile(join(IAM, name), 'utf8'), name);
      }
      assert.equal((await readdir(dir)).length, 6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes the config and region from SECRETS_CONFIG and AWS_REGION', async () => {
    const r = await run(['policy', '--account', '123456789012'], {
      SECRETS_CONFIG: 'examples/secrets-init.yaml',
      AWS_REGION: 'eu-central-1',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /secretsmanager:eu-central-1:123456789012:secret:short-cut\/prod\/app-\?{6}/);
  });

  it('takes the region from AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
    const r = await run(['policy', '--account', '123456789012', '--config', 'examples/secrets-init.yaml'], {
      AWS_DEFAULT_REGION: 'eu-north-1',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /secretsmanager:eu-north-1:123456789012:secret:short-cut\/prod\/app-\?{6}/);
  });

  const usage: [string, string[], RegExp][] = [
    ['no --account', ['policy', '--config', 'examples/secrets-init.yaml', '--region', 'us-east-1'], /--account/],
    ['no --config', ['policy', '--account', '123456789012', '--region', 'us-east-1'], /--config/],
    ['no region', ['policy', '--config', 'examples/secrets-init.yaml', '--account', '123456789012'], /--region/],
    ['an unknown flag', [...base, '--bogus'], /bogus/],
    [
      'a missing config file',
      ['policy', '--config', 'nope.yaml', '--account', '123456789012', '--region', 'us-east-1'],
      /ENOENT/,
    ],
    [
      'a bad account',
      ['policy', '--config', 'examples/secrets-init.yaml', '--account', '1', '--region', 'us-east-1'],
      /12 digits/,
    ],
  ];
  for (const [what, args, message] of usage) {
    it(`exits 2 with one clear line on ${what}`, async () => {
      const r = await run(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }

  it('reports every config problem with its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    try {
      const file = join(dir, 'bad.yaml');
      await import('node:fs/promises').then((fs) =>
        fs.writeFile(file, 'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [{}]\n  bogus: 1\n'),
      );
      const r = await run(['policy', '--config', file, '--account', '123456789012', '--region', 'us-east-1']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /spec\.sources\[0\]\.secretId: required/);
      assert.match(r.stderr, /spec\.bogus: unknown field/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints its usage with --help', async () => {
    const r = await run(['policy', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: secrets-init policy/);
  });
});
