import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli/main.ts';
import { fakeCliIo } from '../fakes/cli-io.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MANIFEST = join(ROOT, 'manifests/ecs/app-task-definition.json');
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/secrets-init:0.1.0';

async function run(args: string[], opts: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}) {
  const t = fakeCliIo({
    env: opts.env ?? {},
    cwd: opts.cwd ?? ROOT,
    ...(opts.stdin !== undefined && { stdin: opts.stdin }),
  });
  const code = await main(['inject', ...args], t.io);
  return { code, stdout: t.out(), stderr: t.err() };
}

const plainApi = {
  family: 'api',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'api', image: 'api:1', essential: true, command: ['serve'] }],
};
const FLAGS = ['--image', IMAGE, '--secret-name', 'short-cut/prod/app', '--region', 'us-east-1'];

describe('secrets-init inject', () => {
  it('reads stdin and prints the wired task definition on stdout, notes on stderr', async () => {
    const r = await run(FLAGS, { stdin: JSON.stringify(plainApi) });
    assert.equal(r.code, 0, r.stderr);
    const td = JSON.parse(r.stdout);
    assert.deepEqual(
      td.containerDefinitions.map((c: { name: string }) => c.name),
      ['secrets-init', 'api'],
    );
    assert.match(r.stderr, /^secrets-init inject: note: container "api": command left as it is/m);
    assert.equal(td.containerDefinitions[1].entryPoint, undefined);
    assert.ok(r.stdout.endsWith('}\n'));
  });

  it('--wrap-entrypoint puts the entrypoint in front of the command', async () => {
    const r = await run([...FLAGS, '--wrap-entrypoint'], { stdin: JSON.stringify(plainApi) });
    assert.equal(r.code, 0, r.stderr);
    const api = JSON.parse(r.stdout).containerDefinitions[1];
    assert.deepEqual([api.entryPoint, api.command], [['/usr/local/bin/secrets-entrypoint'], ['serve']]);
    assert.match(r.stderr, /^secrets-init inject: note: container "api": entryPoint set/m);
  });

  it('reads a file and leaves the committed manifest unchanged', async () => {
    const r = await run([MANIFEST]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(await readFile(MANIFEST, 'utf8')));
    assert.equal(r.stderr, '');
  });

  it('reads describe-task-definition output from "-"', async () => {
    const described = { taskDefinition: { ...plainApi, revision: 3, status: 'ACTIVE', taskDefinitionArn: 'arn:x' } };
    const r = await run(['-', ...FLAGS], { stdin: JSON.stringify(described) });
    assert.equal(r.code, 0, r.stderr);
    const td = JSON.parse(r.stdout);
    assert.equal(td.revision, undefined);
    assert.equal(td.taskDefinition, undefined);
    assert.equal(td.family, 'api');
  });

  it('takes the secret, region and required keys from the environment', async () => {
    const r = await run(['--image', IMAGE], {
      stdin: JSON.stringify(plainApi),
      env: { SECRET_NAME: 'a/b,c/d', AWS_REGION: 'eu-west-1', SECRETS_REQUIRED: 'K1, K2' },
    });
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout).containerDefinitions[0].environment as { name: string; value: string }[];
    const get = (n: string) => env.find((e) => e.name === n)?.value;
    assert.deepEqual(
      [get('SECRET_NAME'), get('AWS_REGION'), get('SECRETS_REQUIRED')],
      ['a/b,c/d', 'eu-west-1', 'K1,K2'],
    );
  });

  it('takes the region from AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
    const r = await run(['--image', IMAGE, '--secret-name', 'a/b'], {
      stdin: JSON.stringify(plainApi),
      env: { AWS_DEFAULT_REGION: 'eu-north-1' },
    });
    assert.equal(r.code, 0, r.stderr);
    const env = JSON.parse(r.stdout).containerDefinitions[0].environment as { name: string; value: string }[];
    assert.equal(env.find((e) => e.name === 'AWS_REGION')?.value, 'eu-north-1');
  });

  it('wires the containers named with --container, comma-separated or repeated', async () => {
    const two = {
      ...plainApi,
      containerDefinitions: [
        ...plainApi.containerDefinitions,
        { name: 'worker', image: 'w:1', essential: true, command: ['work'] },
      ],
    };
    const r = await run([...FLAGS, '--container', 'api', '--container', 'worker'], { stdin: JSON.stringify(two) });
    assert.equal(r.code, 0, r.stderr);
    const td = JSON.parse(r.stdout);
    for (const c of td.containerDefinitions.slice(1)) assert.equal(c.dependsOn[0].containerName, 'secrets-init');
  });

  it('writes the same output when fed its own output', async () => {
    const once = await run(FLAGS, { stdin: JSON.stringify(plainApi) });
    const twice = await run([], { stdin: once.stdout });
    assert.equal(twice.code, 0, twice.stderr);
    assert.equal(twice.stdout, once.stdout);
  });

  const usage: [string, string[], string | undefined, RegExp][] = [
    ['input that is not JSON', FLAGS, 'family: api', /stdin: not JSON/],
    ['a missing file', ['nope.json', ...FLAGS], undefined, /reading "nope.json": ENOENT/],
    ['two inputs', ['a.json', 'b.json'], undefined, /one input at a time/],
    ['an unknown flag', ['--bogus'], '{}', /bogus/],
    ['no image', ['--secret-name', 'x', '--region', 'us-east-1'], JSON.stringify(plainApi), /--image is required/],
  ];
  for (const [what, args, stdin, message] of usage) {
    it(`exits 2 with one line on stderr for ${what}`, async () => {
      const r = await run(args, stdin === undefined ? {} : { stdin });
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(r.stdout, '');
    });
  }

  it('never echoes an environment value it refuses', async () => {
    const leaky = structuredClone(plainApi) as typeof plainApi & {
      containerDefinitions: { environment?: { name: string; value: string }[] }[];
    };
    leaky.containerDefinitions[0]!.environment = [{ name: 'DB_PASSWORD', value: 'hunter2-plain' }];
    const r = await run(FLAGS, { stdin: JSON.stringify(leaky) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /DB_PASSWORD/);
    assert.match(r.stderr, /--allow-env/);
    assert.ok(!r.stderr.includes('hunter2'));
  });

  it('prints its usage with --help', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: secrets-init inject/);
  });

  it('reads a relative file from the working directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inject-'));
    try {
      await writeFile(join(dir, 'td.json'), JSON.stringify(plainApi));
      const r = await run(['td.json', ...FLAGS], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
