import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CreateServiceCommandInput,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { lintTaskDefinition } from '../../ops/inject-lint.ts';
import {
  assertRecordsThenRedeploysOnce,
  awsCli,
  awsCliEnv,
  createNetwork,
  envOf,
  runAsRegistered as runRegistered,
} from '../helpers/aws-cli.ts';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { type CliResult, leakedValues, ROOT, removeDir, runProcess, seedValues, tempDir } from '../helpers/cli.ts';
import { assignedNames, type Block, shBlocks, withValues } from '../helpers/markdown.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { SEED_SECRET, SEED_VALUES } from '../helpers/seed.ts';

/**
 * docs/deploy-by-hand.md, run as a user runs it: every fenced `sh` block verbatim, in order, with the real aws CLI
 * (v1, whose botocore checks each request against the AWS service models), against moto. The only input is what
 * step 0 tells the user to set, with values of the test's own: another account (moto runs as it), region, prefix,
 * cluster, service and secret than the page shows, so a name the page hard-codes would show. Blocks marked
 * `# real AWS only` are skipped by name and reported. Then the init container's command and the watcher run
 * exactly as they were registered, and a changed secret must make exactly one redeploy on the wire.
 *
 * The aws CLI v1 reads AWS_ENDPOINT_URL (botocore 1.31 and later), so no wrapper is needed: it and the bundle both
 * talk to moto through the counting proxy.
 */

const PAGE = join(ROOT, 'docs', 'deploy-by-hand.md');
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const PREFIX = 'acme';
const CLUSTER = 'acme-prod';
const SERVICE = 'web';
const SECRET = 'acme/prod/web';
const REQUIRED = 'OPENAI_API_KEY,PINECONE_API_KEY,APP_SECRET_KEY';

/** What the page shows and the test's values must not leave anywhere: the worked example's own values. */
const EXAMPLE_VALUES = ['123456789012', 'us-east-1', 'short-cut', 'subnet-0123456789abcdef0', 'sg-0123456789abcdef0'];

/** Every variable step 0 assigns, in its order: a new one must be added here (and given a value) on purpose. */
const STEP0_VARIABLES = [
  'ACCOUNT',
  'REGION',
  'SUBNETS',
  'SECURITY_GROUP',
  'ASSIGN_PUBLIC_IP',
  'PREFIX',
  'CLUSTER',
  'SERVICE',
  'SECRET',
  'REQUIRED',
  'SECRET_FILE',
  'APP_IMAGE',
  'INIT_IMAGE',
  'AWS_DEFAULT_REGION',
  'AWS_PAGER',
  'PATH',
];
/** Derived by the page from the others, or fixed; kept as written. */
const DERIVED = ['APP_IMAGE', 'INIT_IMAGE', 'AWS_DEFAULT_REGION', 'AWS_PAGER', 'PATH'];

const STEP0 = '0. Build the CLI and set your values';
/** `npm ci && npm run build`: `npm test` has built dist/ before any test runs. */
const BUILD_BLOCK = `${STEP0} #1`;
const VARIABLES_BLOCK = `${STEP0} #2`;
/** Only real AWS answers these (ECR login and push, Fargate tasks, CloudWatch Logs): skipped, and said so. */
const REAL_AWS_ONLY = ['2. The images #2', '2. The images #3', '7. Check that it runs #1', '7. Check that it runs #2'];
/** Runs after the watcher's first pass: the change the second pass must turn into one redeploy. */
const CHANGE_BLOCK = '8. Changing a secret #1';

/** Step 0 with the test's values put in for the user's: the same lines, in the same order. */
function stepZero(block: Block, values: Record<string, string>): string {
  assert.deepEqual(assignedNames(block), STEP0_VARIABLES, 'the variables step 0 tells the user to set');
  assert.deepEqual(
    Object.keys(values).sort(),
    STEP0_VARIABLES.filter((v) => !DERIVED.includes(v)).sort(),
    'the test sets exactly the values a user chooses',
  );
  return withValues(block, values);
}

/** sha256 of every file below `dir`, by relative path: "nothing in the repository was edited". */
function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) visit(p);
      else out[relative(ROOT, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  visit(dir);
  return out;
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile());
}

const SHIPPED = ['manifests', 'iam', 'examples'];

let moto: Moto;
let proxy: AwsProxy;
let ecs: ECSClient;
let work: string;
let home: string;
let blocks: Block[];
let prelude: string;
let subnets: string[];
let secretFile: string;
let shippedBefore: Record<string, string>;
const skipped: string[] = [];

/** What every block runs with: the test's "account" (moto behind the proxy, dummy keys), a clean HOME. */
const blockEnv = () => awsCliEnv(proxy.endpoint, home);

/** The aws CLI straight at moto, for the test's own set-up and reads (not counted by the proxy). */
const aws = (args: string[]) => awsCli(args, { endpoint: moto.endpoint, home, region: REGION, cwd: work });

async function runBlock(block: Block): Promise<CliResult> {
  const r = await runProcess('sh', ['-eu', '-c', `${prelude}\n${block.text}`], blockEnv(), {
    cwd: work,
    timeoutMs: 300_000,
  });
  assert.equal(
    r.code,
    0,
    `block "${block.name}" exited ${r.code}:\n${block.text}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`,
  );
  return r;
}

/** Runs the page's blocks from `from` up to (not including) `until`, skipping by name what must be skipped. */
async function runBlocks(from: string | undefined, until: string | undefined): Promise<void> {
  const start = from === undefined ? 0 : blocks.findIndex((b) => b.name === from);
  const end = until === undefined ? blocks.length : blocks.findIndex((b) => b.name === until);
  assert.ok(start >= 0 && end >= start, `blocks "${from}" .. "${until}" are on the page in that order`);
  for (const block of blocks.slice(start, end)) {
    if (block.name === BUILD_BLOCK || block.name === VARIABLES_BLOCK) continue;
    if (block.text.startsWith('# real AWS only')) {
      skipped.push(block.name);
      process.stdout.write(`# skipped (real AWS only): "${block.name}": ${block.text.split('\n')[0]}\n`);
      continue;
    }
    await runBlock(block);
  }
}

async function taskDefinition(family: string): Promise<TaskDefinition> {
  const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
  return out.taskDefinition!;
}

/** The bundle with a registered container's command and environment, as ECS would start it (plus moto). */
const runAsRegistered = (command: string[], environment: Record<string, string>, extra: Record<string, string> = {}) =>
  runRegistered(proxy.endpoint, command, environment, extra);

before(async () => {
  seedValues(SEED_VALUES);
  moto = await startMoto({ env: { MOTO_ACCOUNT_ID: ACCOUNT } });
  proxy = await startAwsProxy(moto.endpoint);
  ecs = new ECSClient(clientOptions(moto.endpoint, REGION));
  work = tempDir('deploy-by-hand-');
  home = join(work, '.home');
  mkdirSync(home);
  // The repository as the user has it, as links: what the page writes lands in work/deploy, and a block that
  // wrote into a shipped file would change it in the repository, which the test checks.
  for (const name of readdirSync(ROOT)) {
    if (name !== '.git' && name !== 'deploy' && name !== '.tmp') symlinkSync(join(ROOT, name), join(work, name));
  }
  shippedBefore = Object.assign({}, ...SHIPPED.map((d) => digests(join(ROOT, d))));

  // A fresh account has a VPC: two subnets and a security group for the tasks.
  const network = await createNetwork(aws);
  subnets = network.subnets;

  secretFile = join(work, 'secret.json');
  writeFileSync(secretFile, JSON.stringify(SEED_SECRET), { mode: 0o600 });
  blocks = shBlocks(readFileSync(PAGE, 'utf8'));
  const step0 = blocks.find((b) => b.name === VARIABLES_BLOCK);
  assert.ok(step0, `no block "${VARIABLES_BLOCK}"`);
  prelude = stepZero(step0, {
    ACCOUNT,
    REGION,
    SUBNETS: subnets.join(','),
    SECURITY_GROUP: network.securityGroup,
    ASSIGN_PUBLIC_IP: 'DISABLED',
    PREFIX,
    CLUSTER,
    SERVICE,
    SECRET,
    REQUIRED,
    SECRET_FILE: secretFile,
  });
});

after(async () => {
  ecs?.destroy();
  await proxy?.close();
  await moto?.stop();
  if (work) removeDir(work);
});

describe('docs/deploy-by-hand.md, run with the aws CLI against moto', () => {
  it('has the blocks the test knows: the build, step 0, and the real-AWS-only ones by name', () => {
    const build = blocks.find((b) => b.name === BUILD_BLOCK);
    assert.equal(build?.text, 'npm ci && npm run build\n', 'the build block is skipped: npm test built dist/');
    const marked = blocks.filter((b) => b.text.startsWith('# real AWS only')).map((b) => b.name);
    assert.deepEqual(marked, REAL_AWS_ONLY, 'real-AWS-only blocks, skipped by name');
    const marker = blocks.filter((b) => /real AWS only/.test(b.text) && !b.text.startsWith('# real AWS only'));
    assert.deepEqual(marker, [], 'the marker is the first line of its block');
    assert.ok(blocks.some((b) => b.name === CHANGE_BLOCK));
    for (const b of blocks)
      assert.doesNotMatch(b.text, /\bsed -i|\baws logs tail\b/, `${b.name}: GNU sed -i or CLI v2`);
    assert.doesNotMatch(readFileSync(PAGE, 'utf8'), /^secrets-init /m, 'the CLI is run as node dist/secrets-init.mjs');
  });

  it('steps 1-7 create everything, from the config to the service, the watcher and its triggers', async () => {
    await runBlocks(undefined, CHANGE_BLOCK);
    assert.deepEqual(skipped, REAL_AWS_ONLY);

    const created = await ecs.send(
      new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE], include: ['TAGS'] }),
    );
    const service = created.services?.[0];
    assert.equal(service?.status, 'ACTIVE');
    assert.deepEqual(service?.tags, [{ key: 'secrets-init/secrets', value: SECRET }]);
    assert.deepEqual(service?.networkConfiguration?.awsvpcConfiguration?.subnets, subnets);
    // moto drops deploymentConfiguration; the request the CLI sent (and botocore checked) carries it.
    const createService = proxy.bodies('CreateService').map((b) => JSON.parse(b) as CreateServiceCommandInput);
    const app = createService.find((b) => b.serviceName === SERVICE);
    assert.deepEqual(app?.deploymentConfiguration?.deploymentCircuitBreaker, { enable: true, rollback: true });

    // The app task as inject wired it: the init container in front, the app's own command untouched.
    const api = await taskDefinition(`${PREFIX}-api`);
    assert.deepEqual(lintTaskDefinition(api, { requiredKeys: REQUIRED.split(',') }), []);
    const [init, appContainer] = api.containerDefinitions!;
    assert.equal(init?.name, 'secrets-init');
    assert.equal(init?.image, `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/secrets-init:0.1.0`);
    assert.equal(appContainer?.name, SERVICE);
    assert.equal(appContainer?.entryPoint, undefined, "the image's ENTRYPOINT runs");
    assert.equal(appContainer?.command, undefined, "the image's CMD runs");
    assert.equal(api.taskRoleArn, `arn:aws:iam::${ACCOUNT}:role/${PREFIX}-task`);

    // The schedule and the rule run the watcher in the test's network, as the test's roles.
    const schedule = (await aws([
      'scheduler',
      'get-schedule',
      '--name',
      `${PREFIX}-watcher`,
      '--group-name',
      PREFIX,
    ])) as {
      Target: { Arn: string; EcsParameters: { NetworkConfiguration: { awsvpcConfiguration: { Subnets: string[] } } } };
    };
    assert.equal(schedule.Target.Arn, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`);
    assert.deepEqual(schedule.Target.EcsParameters.NetworkConfiguration.awsvpcConfiguration.Subnets, subnets);
    const rule = (await aws(['events', 'describe-rule', '--name', `${PREFIX}-secret-rotation`])) as {
      EventPattern: string;
      State: string;
    };
    assert.deepEqual(JSON.parse(rule.EventPattern).detail.name, [SECRET]);
    const targets = (await aws(['events', 'list-targets-by-rule', '--rule', `${PREFIX}-secret-rotation`])) as {
      Targets: { RoleArn: string }[];
    };
    assert.equal(targets.Targets[0]?.RoleArn, `arn:aws:iam::${ACCOUNT}:role/${PREFIX}-watcher-trigger`);
    const roles = (await aws(['iam', 'list-roles'])) as { Roles: { RoleName: string }[] };
    assert.deepEqual(
      roles.Roles.map((r) => r.RoleName).sort(),
      ['task', 'execution', 'watcher', 'watcher-trigger'].map((r) => `${PREFIX}-${r}`).sort(),
    );

    // What the page generated holds the test's values only, none of the example's.
    for (const file of filesBelow(join(work, 'deploy'))) {
      const text = readFileSync(file, 'utf8');
      for (const v of EXAMPLE_VALUES) assert.ok(!text.includes(v), `${relative(work, file)} holds "${v}"`);
    }
  });

  it("the init container, run with its registered command and environment, renders the secret's keys", async () => {
    const init = (await taskDefinition(`${PREFIX}-api`)).containerDefinitions!.find((c) => c.name === 'secrets-init')!;
    const out = join(work, 'rendered');
    const res = await runAsRegistered(init.command!, envOf(init.environment), { SECRETS_DIR: out });
    assert.equal(res.code, 0, res.stderr);
    const appEnv = readFileSync(join(out, 'app.env'), 'utf8');
    for (const key of REQUIRED.split(',')) assert.match(appEnv, new RegExp(`^export ${key}='`, 'm'));
    assert.ok(existsSync(join(out, 'gcp-credentials.json')));
  });

  it('the watcher, as registered, records first, then redeploys the service exactly once for a changed secret', async () => {
    const watcher = (await taskDefinition(`${PREFIX}-watcher`)).containerDefinitions![0]!;
    assert.deepEqual(watcher.command, ['watch', '--once']);
    const environment = envOf(watcher.environment);
    assert.deepEqual(environment, {
      AWS_REGION: REGION,
      WATCH_CLUSTER: CLUSTER,
      WATCH_STATE_KEY: `${PREFIX}/watcher-state-key`,
      WATCH_CAP_WINDOW: '15m',
      LOG_LEVEL: 'info',
    });

    await assertRecordsThenRedeploysOnce(
      proxy,
      () => runAsRegistered(watcher.command!, environment),
      async () => {
        writeFileSync(secretFile, JSON.stringify({ ...SEED_SECRET, MILVUS_PORT: '19531' }), { mode: 0o600 });
        await runBlocks(CHANGE_BLOCK, blocks[blocks.findIndex((b) => b.name === CHANGE_BLOCK) + 1]?.name);
        assert.equal(existsSync(secretFile), false, 'the page removes the file');
      },
      { cluster: CLUSTER, service: SERVICE },
    );
    // Signed with the key the page made, which only the watcher's role may read.
    const found = await ecs.send(
      new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE], include: ['TAGS'] }),
    );
    const state = found.services?.[0]?.tags?.find((t) => t.key === 'secrets-init/fingerprint')?.value ?? '';
    assert.match(state, /^v2 s=ok .* m=[A-Za-z0-9_-]{22}$/);
    const policy = (await aws([
      'secretsmanager',
      'get-resource-policy',
      '--secret-id',
      `${PREFIX}/watcher-state-key`,
    ])) as {
      ResourcePolicy: string;
    };
    assert.match(
      policy.ResourcePolicy,
      new RegExp(`"aws:PrincipalArn":\\s*"arn:aws:iam::${ACCOUNT}:role/${PREFIX}-watcher"`),
    );
  });

  it('the rest of the page runs too: the long-running watcher replaces the triggers', async () => {
    const next = blocks[blocks.findIndex((b) => b.name === CHANGE_BLOCK) + 1];
    assert.ok(next, 'blocks after step 8');
    await runBlocks(next.name, undefined);
    const loop = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ['secrets-init-watcher'] }));
    assert.equal(loop.services?.[0]?.desiredCount, 1);
    assert.equal(loop.services?.[0]?.taskDefinition?.includes(`task-definition/${PREFIX}-watcher-loop:1`), true);
    const rule = (await aws(['events', 'describe-rule', '--name', `${PREFIX}-secret-rotation`])) as { State: string };
    assert.equal(rule.State, 'DISABLED');
    const schedules = (await aws(['scheduler', 'list-schedules', '--group-name', PREFIX])) as { Schedules: unknown[] };
    assert.deepEqual(schedules.Schedules, []);
  });

  it('edited no shipped file and printed no secret value', () => {
    assert.deepEqual(Object.assign({}, ...SHIPPED.map((d) => digests(join(ROOT, d)))), shippedBefore);
    assert.deepEqual(leakedValues(), []);
  });
});
