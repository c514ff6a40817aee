import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { buildPolicies } from '../../ops/policy.ts';
import { secretResource } from '../../ops/policy-arn.ts';
import { deployNames } from '../../ops/policy-names.ts';
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
import {
  type EvaluatedStack,
  evaluateStack,
  iamCanonical,
  type Json,
  type JsonObject,
  lowerCamel,
  readTemplate,
  resourcesOfType,
} from '../helpers/cloudformation.ts';
import { assignedNames, type Block, shBlocks, withValues } from '../helpers/markdown.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { SEED_SECRET, SEED_VALUES } from '../helpers/seed.ts';

/**
 * docs/deploy-cloudformation.md, run as a user runs it: its `sh` blocks verbatim, with the real aws CLI (v1, which
 * honours AWS_ENDPOINT_URL) against moto, with values of the test's own for the first block's variables (another
 * account, region and names than the page shows). Then what moto's CloudFormation made is compared with the
 * template as CloudFormation evaluates it (test/helpers/cloudformation.ts) and with `policy`, and the watcher and
 * the init container run exactly as the stacks registered them: the first pass records the app stack's service, a
 * put-secret-value then makes exactly one redeploy of it, on the wire.
 *
 * moto 5.2.1's CloudFormation skips resource types it does not know and drops some properties; each gap is
 * asserted here (so the test says when moto closes it), and docs/deploy-cloudformation.md lists them.
 */

const PAGE = join(ROOT, 'docs', 'deploy-cloudformation.md');
const WATCHER_TEMPLATE = join(ROOT, 'manifests', 'cloudformation', 'watcher.yaml');
const APP_TEMPLATE = join(ROOT, 'manifests', 'cloudformation', 'app.yaml');
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const PREFIX = 'acme';
const CLUSTER = 'acme-prod';
const SERVICE = 'web';
const APP_PREFIX = 'acme-web';
const SECRET = 'acme/prod/web';
const REQUIRED = 'OPENAI_API_KEY,PINECONE_API_KEY,APP_SECRET_KEY';
const INIT_IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/secrets-init:0.2.0`;
const APP_IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/acme-web:2.0.0`;
const APP_REPOSITORY = 'acme-web';

const VALUES_BLOCK = '1. Your values #1';
const WATCHER_BLOCK = '2. The watcher stack #1';
const APP_BLOCK = '3. The app stack #1';
const REAL_AWS_ONLY = ['2. The watcher stack #2'];
/** Every variable the first block assigns, in order; the last ones the page derives. */
const VARIABLES = [
  'REGION',
  'CLUSTER',
  'SUBNETS',
  'SECURITY_GROUP',
  'ASSIGN_PUBLIC_IP',
  'PREFIX',
  'SERVICE',
  'APP_PREFIX',
  'SECRET',
  'REQUIRED',
  'INIT_IMAGE',
  'APP_IMAGE',
  'APP_REPOSITORY',
  'AWS_DEFAULT_REGION',
  'AWS_PAGER',
  'SECRET_ARN',
];
const DERIVED = ['AWS_DEFAULT_REGION', 'AWS_PAGER', 'SECRET_ARN'];

/** What moto 5.2.1's CloudFormation does not create: it logs a warning and goes on. */
const MOTO_SKIPS = [
  'AWS::CloudWatch::Alarm',
  'AWS::Scheduler::Schedule',
  'AWS::Scheduler::ScheduleGroup',
  'AWS::SecretsManager::Secret',
  'AWS::SecretsManager::ResourcePolicy',
];

let moto: Moto;
let proxy: AwsProxy;
let ecs: ECSClient;
let work: string;
let blocks: Block[];
let prelude: string;
let subnets: string[];
let securityGroup: string;
let secretArn: string;
let watcherStack: EvaluatedStack;
/** A second watcher stack, by name prefix and without alarms, deployed beside the page's (its waits overlap). */
let byName: Promise<CliResult>;
let byNameParameters: Record<string, string>;
let appStack: EvaluatedStack;

/** The aws CLI straight at moto, for the test's own set-up and reads. */
const aws = (args: string[]) => awsCli(args, { endpoint: moto.endpoint, home: work, region: REGION });

async function runBlock(name: string): Promise<CliResult> {
  const block = blocks.find((b) => b.name === name);
  assert.ok(block, `no block "${name}" on the page`);
  const r = await runProcess('sh', ['-eu', '-c', `${prelude}\n${block.text}`], awsCliEnv(proxy.endpoint, work), {
    timeoutMs: 300_000,
  });
  assert.equal(
    r.code,
    0,
    `block "${name}" exited ${r.code}:\n${block.text}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
  );
  return r;
}

/** moto returns CloudFormation-made inline policies as Python's repr of the document, not as JSON. */
function pythonLiteral(text: string): Json {
  const r = spawnSync(
    'python3',
    ['-c', 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))'],
    {
      input: text,
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Every field of `expected` is in `actual` (moto adds defaults), scalars compared as text: moto keeps a Number
 * parameter as a number where CloudFormation passes the string. */
function assertContains(actual: unknown, expected: Json, path: string): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: a list`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    for (const [i, e] of expected.entries()) assertContains(actual[i], e, `${path}[${i}]`);
  } else if (typeof expected === 'object' && expected !== null) {
    assert.ok(typeof actual === 'object' && actual !== null, `${path}: an object`);
    for (const [k, v] of Object.entries(expected)) assertContains((actual as JsonObject)[k], v, `${path}.${k}`);
  } else {
    assert.equal(String(actual), String(expected), path);
  }
}

async function taskDefinition(family: string): Promise<TaskDefinition> {
  return (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))).taskDefinition!;
}

/** The bundle with a registered container's command and environment, as ECS would start it (plus moto). */
const runAsRegistered = (command: string[], environment: Record<string, string>, extra: Record<string, string> = {}) =>
  runRegistered(proxy.endpoint, command, environment, extra);

/** The logical ids of the resources moto's CloudFormation created for a stack (it lists what it skipped unnamed). */
async function createdResources(stack: string): Promise<string[]> {
  const out = (await aws(['cloudformation', 'list-stack-resources', '--stack-name', stack])) as {
    StackResourceSummaries: { LogicalResourceId: string; ResourceStatus: string }[];
  };
  const created = out.StackResourceSummaries.filter((r) => r.LogicalResourceId !== '');
  for (const r of created) assert.equal(r.ResourceStatus, 'CREATE_COMPLETE', r.LogicalResourceId);
  return created.map((r) => r.LogicalResourceId).sort();
}

/** The logical ids of an evaluated stack's resources whose types moto creates. */
function motoCreates(stack: EvaluatedStack): string[] {
  return Object.entries(stack.resources)
    .filter(([, r]) => !MOTO_SKIPS.includes(r.Type))
    .map(([id]) => id)
    .sort();
}

/** Each role of the stack in moto carries the evaluated template's trust and inline policies. */
async function assertRolesAsEvaluated(stack: EvaluatedStack): Promise<void> {
  for (const [id, role] of Object.entries(resourcesOfType(stack, 'AWS::IAM::Role'))) {
    const name = String(role.RoleName);
    const got = (await aws(['iam', 'get-role', '--role-name', name])) as { Role: { AssumeRolePolicyDocument: Json } };
    assert.deepEqual(
      iamCanonical(got.Role.AssumeRolePolicyDocument),
      iamCanonical(role.AssumeRolePolicyDocument!),
      `${id} trust`,
    );
    for (const policy of role.Policies as JsonObject[]) {
      const stored = (await aws([
        'iam',
        'get-role-policy',
        '--role-name',
        name,
        '--policy-name',
        String(policy.PolicyName),
      ])) as {
        PolicyDocument: string | Json;
      };
      const doc =
        typeof stored.PolicyDocument === 'string' ? pythonLiteral(stored.PolicyDocument) : stored.PolicyDocument;
      assert.deepEqual(iamCanonical(doc), iamCanonical(policy.PolicyDocument!), `${id} policy ${policy.PolicyName}`);
    }
  }
}

before(async () => {
  seedValues(SEED_VALUES);
  moto = await startMoto({ env: { MOTO_ACCOUNT_ID: ACCOUNT, MOTO_ECS_SERVICE_RUNNING: '2' } });
  proxy = await startAwsProxy(moto.endpoint);
  ecs = new ECSClient(clientOptions(moto.endpoint, REGION));
  work = tempDir('deploy-cloudformation-');

  // What the page assumes exists: a VPC with two subnets and a security group, the cluster, the secret.
  ({ subnets, securityGroup } = await createNetwork(aws));
  await aws(['ecs', 'create-cluster', '--cluster-name', CLUSTER]);
  const secretFile = join(work, 'secret.json');
  writeFileSync(secretFile, JSON.stringify(SEED_SECRET), { mode: 0o600 });
  const created = (await aws([
    'secretsmanager',
    'create-secret',
    '--name',
    SECRET,
    '--secret-string',
    `file://${secretFile}`,
  ])) as {
    ARN: string;
  };
  secretArn = created.ARN;

  byNameParameters = {
    Prefix: 'byname',
    Cluster: CLUSTER,
    SecretNamePrefix: 'acme/prod/',
    InitImage: INIT_IMAGE,
    Subnets: subnets.join(','),
    SecurityGroups: securityGroup,
    Alarms: 'false',
  };
  byName = runProcess(
    'aws',
    [
      'cloudformation',
      'deploy',
      '--template-file',
      WATCHER_TEMPLATE,
      '--stack-name',
      'byname-watcher',
      '--capabilities',
      'CAPABILITY_NAMED_IAM',
      '--parameter-overrides',
      ...Object.entries(byNameParameters).map(([k, v]) => `${k}=${v}`),
    ],
    { ...awsCliEnv(moto.endpoint, work), AWS_DEFAULT_REGION: REGION },
    { timeoutMs: 300_000 },
  );

  blocks = shBlocks(readFileSync(PAGE, 'utf8'));
  const values = blocks.find((b) => b.name === VALUES_BLOCK);
  assert.ok(values, `no block "${VALUES_BLOCK}"`);
  assert.deepEqual(assignedNames(values), VARIABLES, 'the variables the first block tells the user to set');
  const chosen = {
    REGION,
    CLUSTER,
    SUBNETS: subnets.join(','),
    SECURITY_GROUP: securityGroup,
    ASSIGN_PUBLIC_IP: 'DISABLED',
    PREFIX,
    SERVICE,
    APP_PREFIX,
    SECRET,
    REQUIRED,
    INIT_IMAGE,
    APP_IMAGE,
    APP_REPOSITORY,
  };
  assert.deepEqual(Object.keys(chosen).sort(), VARIABLES.filter((v) => !DERIVED.includes(v)).sort());
  prelude = withValues(values, chosen);

  // The stacks as CloudFormation evaluates them with what the page's commands pass.
  const where = { account: ACCOUNT, region: REGION };
  watcherStack = evaluateStack(readTemplate(WATCHER_TEMPLATE), {
    ...where,
    stackName: `${PREFIX}-watcher`,
    parameters: {
      Prefix: PREFIX,
      Cluster: CLUSTER,
      SecretArns: secretArn,
      InitImage: INIT_IMAGE,
      Subnets: subnets.join(','),
      SecurityGroups: securityGroup,
      AssignPublicIp: 'DISABLED',
    },
  });
  appStack = evaluateStack(readTemplate(APP_TEMPLATE), {
    ...where,
    stackName: APP_PREFIX,
    parameters: {
      Prefix: APP_PREFIX,
      Cluster: CLUSTER,
      ServiceName: SERVICE,
      SecretArns: secretArn,
      RequiredKeys: REQUIRED,
      AppImage: APP_IMAGE,
      AppRepository: APP_REPOSITORY,
      InitImage: INIT_IMAGE,
      Subnets: subnets.join(','),
      SecurityGroups: securityGroup,
      AssignPublicIp: 'DISABLED',
    },
  });
});

after(async () => {
  ecs?.destroy();
  await proxy?.close();
  await moto?.stop();
  if (work) removeDir(work);
});

describe('docs/deploy-cloudformation.md, run with the aws CLI against moto', () => {
  it('has the blocks the test knows, the real-AWS-only ones marked', () => {
    assert.deepEqual(
      blocks.map((b) => b.name),
      [VALUES_BLOCK, WATCHER_BLOCK, ...REAL_AWS_ONLY, APP_BLOCK],
    );
    for (const b of blocks) {
      assert.equal(b.text.startsWith('# real AWS only'), REAL_AWS_ONLY.includes(b.name), `${b.name}: its marker`);
    }
    for (const name of REAL_AWS_ONLY) process.stdout.write(`# not run (real AWS only): "${name}"\n`);
    const page = readFileSync(PAGE, 'utf8');
    for (const type of MOTO_SKIPS) assert.ok(page.includes(`\`${type}\``), `the page says moto skips ${type}`);
    for (const name of [WATCHER_BLOCK, APP_BLOCK]) {
      const text = blocks.find((b) => b.name === name)!.text;
      assert.equal((text.match(/^aws /gm) ?? []).length, 1, `${name}: one command`);
      assert.match(text, /^aws cloudformation deploy --template-file manifests\/cloudformation\/\w+\.yaml /);
      assert.match(text, /--capabilities CAPABILITY_NAMED_IAM/);
    }
  });

  it('the watcher stack: one command; moto creates what it supports, as CloudFormation evaluates the template', async () => {
    await runBlock(WATCHER_BLOCK);
    const stack = `${PREFIX}-watcher`;
    const described = (await aws(['cloudformation', 'describe-stacks', '--stack-name', stack])) as {
      Stacks: { StackStatus: string }[];
    };
    assert.equal(described.Stacks[0]?.StackStatus, 'CREATE_COMPLETE');
    assert.deepEqual(await createdResources(stack), motoCreates(watcherStack), 'what moto created');
    const skipped = Object.values(watcherStack.resources).filter((r) => MOTO_SKIPS.includes(r.Type));
    assert.deepEqual(
      skipped.map((r) => r.Type).sort(),
      [...MOTO_SKIPS, 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Alarm'].sort(),
    );

    await assertRolesAsEvaluated(watcherStack);
    // ... which is what `policy` computes (cloudformation-policies.test.ts checks more stacks).
    const expected = buildPolicies({
      location: { account: ACCOUNT, region: REGION },
      names: {
        ...deployNames(PREFIX, { repositories: ['secrets-init'], logGroup: `/ecs/${PREFIX}-watcher` }),
        executionRole: `${PREFIX}-watcher-execution`,
      },
      secrets: [secretResource(secretArn, { account: ACCOUNT, region: REGION })],
      watchedSecrets: [secretResource(secretArn, { account: ACCOUNT, region: REGION })],
      parameters: [],
      watchesParameters: false,
      clusters: [CLUSTER],
      stateKey: secretResource(`${PREFIX}/watcher-state-key`, { account: ACCOUNT, region: REGION }),
    });
    const watcher = (await aws([
      'iam',
      'get-role-policy',
      '--role-name',
      `${PREFIX}-watcher`,
      '--policy-name',
      'watcher',
    ])) as {
      PolicyDocument: string;
    };
    assert.deepEqual(
      iamCanonical(pythonLiteral(watcher.PolicyDocument)),
      iamCanonical(expected['watcher-policy.json'] as unknown as Json),
    );

    const registered = await taskDefinition(`${PREFIX}-watcher`);
    const td = lowerCamel(Object.values(resourcesOfType(watcherStack, 'AWS::ECS::TaskDefinition'))[0]!) as JsonObject;
    assertContains(registered.containerDefinitions, td.containerDefinitions!, 'watcher containerDefinitions');
    // moto keeps only the containers, volumes and memory of an AWS::ECS::TaskDefinition.
    assert.equal(registered.taskRoleArn, undefined, 'moto now keeps TaskRoleArn: compare it');

    const rule = (await aws(['events', 'describe-rule', '--name', `${PREFIX}-secret-rotation`])) as {
      EventPattern: string;
    };
    const evaluatedRule = Object.values(resourcesOfType(watcherStack, 'AWS::Events::Rule'))[0]!;
    assert.deepEqual(JSON.parse(rule.EventPattern), evaluatedRule.EventPattern);
    const targets = (await aws(['events', 'list-targets-by-rule', '--rule', `${PREFIX}-secret-rotation`])) as {
      Targets: JsonObject[];
    };
    const [target] = evaluatedRule.Targets as JsonObject[];
    const { NetworkConfiguration, ...ecsParameters } = target!.EcsParameters as JsonObject;
    assertContains(targets.Targets, [{ ...target!, EcsParameters: ecsParameters }], 'rule targets');
    assert.ok(NetworkConfiguration);
    assert.deepEqual(
      targets.Targets[0]?.EcsParameters,
      { ...ecsParameters, NetworkConfiguration: {} },
      'moto drops the network',
    );
  });

  it('the app stack: one command; the service and its task as CloudFormation evaluates the template', async () => {
    await runBlock(APP_BLOCK);
    assert.deepEqual(await createdResources(APP_PREFIX), motoCreates(appStack));
    assert.deepEqual(Object.keys(appStack.resources).sort(), motoCreates(appStack), 'moto supports every type here');
    await assertRolesAsEvaluated(appStack);

    const td = lowerCamel(Object.values(resourcesOfType(appStack, 'AWS::ECS::TaskDefinition'))[0]!) as JsonObject;
    const registered = await taskDefinition(APP_PREFIX);
    assertContains(registered.containerDefinitions, td.containerDefinitions!, 'app containerDefinitions');
    assertContains(registered.volumes, td.volumes!, 'app volumes');

    const found = await ecs.send(
      new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE], include: ['TAGS'] }),
    );
    const service = found.services?.[0];
    assert.equal(service?.status, 'ACTIVE');
    assert.equal(service?.taskDefinition, `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${APP_PREFIX}:1`);
    // moto's AWS::ECS::Service keeps no tags: put on the ones the template gives the service, as CloudFormation would.
    assert.deepEqual(service?.tags, [], 'moto now keeps the tags of AWS::ECS::Service: drop the tag-resource below');
    const tags = (Object.values(resourcesOfType(appStack, 'AWS::ECS::Service'))[0]!.Tags as JsonObject[]).map((t) => ({
      key: String(t.Key),
      value: String(t.Value),
    }));
    assert.deepEqual(tags, [{ key: 'secrets-init/secrets', value: secretArn }]);
    await aws(['ecs', 'tag-resource', '--resource-arn', service!.serviceArn!, '--tags', JSON.stringify(tags)]);
  });

  it("the init container, as the stack registered it, renders the secret's keys", async () => {
    const init = (await taskDefinition(APP_PREFIX)).containerDefinitions!.find((c) => c.name === 'secrets-init')!;
    const out = join(work, 'rendered');
    const res = await runAsRegistered(init.command!, envOf(init.environment), { SECRETS_DIR: out });
    assert.equal(res.code, 0, res.stderr);
    const appEnv = readFileSync(join(out, 'app.env'), 'utf8');
    for (const key of REQUIRED.split(',')) assert.match(appEnv, new RegExp(`^export ${key}='`, 'm'));
  });

  it("the watcher, as the stack registered it, records the app stack's service, then redeploys it exactly once", async () => {
    const watcher = (await taskDefinition(`${PREFIX}-watcher`)).containerDefinitions![0]!;
    assert.deepEqual(watcher.command, ['watch', '--once']);
    const environment = envOf(watcher.environment);
    assert.equal(environment.WATCH_CLUSTER, CLUSTER);

    // moto's CloudFormation skips AWS::SecretsManager::Secret: the state key is made here as the stack would make
    // it (a random value under the name the task's WATCH_STATE_KEY names).
    assert.equal(environment.WATCH_STATE_KEY, `${PREFIX}/watcher-state-key`);
    const key = randomBytes(32).toString('hex');
    seedValues([key]);
    const keyFile = join(work, 'state-key');
    writeFileSync(keyFile, key, { mode: 0o600 });
    await aws([
      'secretsmanager',
      'create-secret',
      '--name',
      environment.WATCH_STATE_KEY!,
      '--secret-string',
      `file://${keyFile}`,
    ]);

    // The watcher run as the stack registered it: its command, its environment (the cluster, the cap, the key).
    await assertRecordsThenRedeploysOnce(
      proxy,
      () => runAsRegistered(watcher.command!, environment),
      async () => {
        const next = JSON.stringify({ ...SEED_SECRET, MILVUS_PORT: '19531' });
        await aws(['secretsmanager', 'put-secret-value', '--secret-id', SECRET, '--secret-string', next]);
      },
      { cluster: CLUSTER, service: SERVICE },
    );
    // Its state is signed with the stack's key: a principal who can only tag cannot forge it.
    const found = await ecs.send(
      new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE], include: ['TAGS'] }),
    );
    const state = found.services?.[0]?.tags?.find((t) => t.key === 'secrets-init/fingerprint')?.value ?? '';
    assert.match(state, /^v2 s=ok .* m=[A-Za-z0-9_-]{22}$/);
  });

  it('a watcher stack by name prefix, without alarms, is created too', async () => {
    const r = await byName;
    assert.equal(r.code, 0, r.stderr);
    const evaluated = evaluateStack(readTemplate(WATCHER_TEMPLATE), {
      account: ACCOUNT,
      region: REGION,
      stackName: 'byname-watcher',
      parameters: byNameParameters,
    });
    assert.deepEqual(await createdResources('byname-watcher'), motoCreates(evaluated));
    assert.deepEqual(resourcesOfType(evaluated, 'AWS::CloudWatch::Alarm'), {}, 'no alarms');
    await assertRolesAsEvaluated(evaluated);
    const rule = (await aws(['events', 'describe-rule', '--name', 'byname-secret-rotation'])) as {
      EventPattern: string;
    };
    assert.deepEqual(JSON.parse(rule.EventPattern).detail, {
      labelUpdated: ['AWSCURRENT'],
      name: [{ prefix: 'acme/prod/' }],
    });
  });

  it('printed no secret value', () => {
    assert.deepEqual(leakedValues(), []);
  });
});
