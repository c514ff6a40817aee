import assert from 'node:assert/strict';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ECSClient, ListTagsForResourceCommand } from '@aws-sdk/client-ecs';
import { parse } from 'yaml';
import { buildPolicies, type PolicyStatement } from '../../ops/policy.ts';
import { policyInput } from '../../ops/policy-input.ts';
import { validateConfig } from '../../shared/config.ts';
import { readBindingTags } from '../../watcher/tags.ts';
import { awsCliEnv } from '../helpers/aws-cli.ts';
import { leakedValues, ROOT, removeDir, runProcess, seedValues, tempDir } from '../helpers/cli.ts';
import { cluster, services } from '../helpers/ecs-fleet.ts';
import { type Block, shBlocks, withValues } from '../helpers/markdown.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// docs/ssm-parameter-store.md: its links, its config (the example file), its IAM statements (what `policy`
// computes), and its `sh` blocks run as written, with the aws CLI v1, against moto.

const PAGE = 'docs/ssm-parameter-store.md';
const EXAMPLE = 'examples/secrets-init-ssm.yaml';
const page = readFileSync(join(ROOT, PAGE), 'utf8');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced blocks of a language, in order. */
const fenced = (lang: string) =>
  [...page.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);

function exampleConfig() {
  const r = validateConfig(parse(readFileSync(join(ROOT, EXAMPLE), 'utf8')));
  if ('problems' in r) assert.fail(r.problems.join('; '));
  return r.config;
}

describe(PAGE, () => {
  test('is linked from README and from the configuration page (docs-links.test.ts checks its own links)', () => {
    assert.ok(readme.includes(`](${PAGE})`), 'README links the page');
    const configuration = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    assert.ok(configuration.includes('](ssm-parameter-store.md)'), 'docs/configuration.md links the page');
  });

  test('shows the example config as it is, and the example is valid', () => {
    assert.equal(fenced('yaml')[0], readFileSync(join(ROOT, EXAMPLE), 'utf8'));
    const c = exampleConfig();
    assert.deepEqual(
      c.sources.map((s) => s.type),
      ['secretsmanager', 'ssm-path', 'ssm-parameter', 'ssm-parameter'],
    );
  });

  test('shows the IAM statements `policy` computes for the example, each exactly', () => {
    const set = buildPolicies(
      policyInput(exampleConfig(), { location: { account: '123456789012', region: 'us-east-1' } }),
    );
    const computed = Object.values(set).flatMap((d) => d.Statement);
    const shown = fenced('json')
      .map((t) => JSON.parse(t) as { Statement?: PolicyStatement[] })
      .flatMap((d) => d.Statement ?? []);
    assert.deepEqual(
      shown.map((s) => s.Sid),
      [
        'ReadExactlyTheseParameters',
        'ReadEveryParameterUnderThesePaths',
        'DecryptOnlyThroughParameterStore',
        'DescribeParametersHasNoResourceType',
      ],
    );
    for (const s of shown)
      assert.deepEqual(
        s,
        computed.find((c) => c.Sid === s.Sid),
        s.Sid,
      );
  });
});

describe(`${PAGE}: the sh blocks against moto`, () => {
  let moto: Moto;
  let work: string;
  let blocks: Block[];
  const VALUES = ['sk-example-openai-key', 'example-password', 'milvus.internal.example', 'example-app-key'];

  before(async () => {
    moto = await startMoto();
    work = tempDir();
    // The blocks run from the repository root: the bundle and the examples are where they say.
    symlinkSync(join(ROOT, 'dist'), join(work, 'dist'));
    symlinkSync(join(ROOT, 'examples'), join(work, 'examples'));
    blocks = shBlocks(page);
    seedValues(VALUES);
  });
  after(async () => {
    await moto.stop();
    removeDir(work);
  });

  const run = async (name: string, values: Record<string, string>) => {
    const block = blocks.find((b) => b.name === name);
    assert.ok(block, `no block "${name}": ${blocks.map((b) => b.name).join(', ')}`);
    const env = { ...awsCliEnv(moto.endpoint, work), AWS_DEFAULT_REGION: 'us-east-1' };
    const r = await runProcess('sh', ['-eu', '-c', withValues(block, values)], env, { cwd: work, timeoutMs: 120_000 });
    assert.equal(r.code, 0, `${name}:\n${r.stdout}\n${r.stderr}`);
    return r;
  };

  test('"Try it" renders every key it names; check prints what the page shows; nothing prints a value', async () => {
    const r = await run('Try it against moto #1', { AWS_ENDPOINT_URL: moto.endpoint });
    const env = readFileSync(join(work, 'out', 'app.env'), 'utf8');
    const names = [...env.matchAll(/^export ([A-Z_]+)=/gm)].map((m) => m[1]);
    assert.deepEqual(names, ['APP_SECRET_KEY', 'DATABASE_URL', 'FEATURE_FLAGS', 'MILVUS_HOST', 'OPENAI_API_KEY']);
    assert.match(env, /^export FEATURE_FLAGS='search,beta-ui'$/m);
    for (const line of fenced('text')[0]!.trim().split('\n'))
      assert.ok(r.stdout.includes(line), `check prints: ${line}`);
    const meta = JSON.parse(readFileSync(join(work, 'out', 'render.json'), 'utf8'));
    const shownRecord = JSON.parse(fenced('json').find((t) => t.includes('"ssm-path"'))!);
    const path = meta.sources.find((s: { type: string }) => s.type === 'ssm-path');
    assert.deepEqual(
      path.parameters.map((p: object) => Object.keys(p)),
      shownRecord.parameters.map((p: object) => Object.keys(p)),
      'render.json records what the page shows: name, version, lastModified',
    );
    assert.deepEqual(leakedValues(), []);
  });

  test('the tag example binds a path beside a secret, in a tag value ECS accepts', async () => {
    const ecs = new ECSClient(clientOptions(moto.endpoint));
    try {
      await cluster(ecs, 'short-cut-prod');
      await services(ecs, 'short-cut-prod', { api: undefined });
      const arn = 'arn:aws:ecs:us-east-1:123456789012:service/short-cut-prod/api';
      await run('watch: binding parameters and paths #1', { SERVICE_ARN: arn });
      const { tags } = await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
      const read = readBindingTags(Object.fromEntries((tags ?? []).map((t) => [t.key!, t.value!])));
      assert.deepEqual(read, {
        present: true,
        secretIds: ['short-cut/prod/app', 'ssm:/short-cut/prod/'],
        problems: [],
      });
    } finally {
      ecs.destroy();
    }
  });
});
