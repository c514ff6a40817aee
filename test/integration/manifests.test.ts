import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { parse } from 'yaml';
import { lintTaskDefinition } from '../../ops/inject-lint.ts';
import { deployNames } from '../../ops/policy-names.ts';
import { type ConfigFile, validateConfig } from '../../shared/config.ts';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form JSON the checks reach into
type Obj = Record<string, any>;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = async (path: string): Promise<Obj> => JSON.parse(await readFile(`${ROOT}${path}`, 'utf8'));
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const names = deployNames('short-cut');
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

const TASK_DEFINITIONS = ['manifests/ecs/app-task-definition.json', 'manifests/ecs/watcher-task-definition.json'];

/** Every field of `expected` is in `actual` with the same value (moto adds defaults such as `cpu: 0`). */
function assertContains(actual: unknown, expected: unknown, path = '$'): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected a list`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    for (const [i, e] of expected.entries()) assertContains(actual[i], e, `${path}[${i}]`);
  } else if (typeof expected === 'object' && expected !== null) {
    assert.ok(typeof actual === 'object' && actual !== null, `${path}: expected an object`);
    for (const [k, v] of Object.entries(expected)) assertContains((actual as Obj)[k], v, `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

async function exampleConfig(): Promise<ConfigFile> {
  const r = validateConfig(parse(await readFile(`${ROOT}examples/secrets-init.yaml`, 'utf8')));
  if ('problems' in r) assert.fail(r.problems.join('\n'));
  return r.config;
}

describe('manifests in moto', () => {
  let moto: Moto;
  let proxy: AwsProxy;
  let ecs: ECSClient;
  before(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    ecs = new ECSClient(clientOptions(proxy.endpoint, REGION));
  });
  after(async () => {
    ecs?.destroy();
    await proxy?.close();
    await moto?.stop();
  });

  for (const path of TASK_DEFINITIONS) {
    it(`registers ${path} with every field modeled, and reads it back intact`, async () => {
      const td = await read(path);
      proxy.resetCounts();
      const reg = await ecs.send(new RegisterTaskDefinitionCommand(td as RegisterTaskDefinitionCommandInput));
      // The SDK serialises modeled members only: a typo ("readOnlyRootFilesystem") would vanish here.
      const [body] = proxy.bodies('RegisterTaskDefinition');
      assert.deepEqual(JSON.parse(body ?? '{}'), td, 'the request carries every field of the file');
      assert.equal(reg.taskDefinition?.revision, 1);
      const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: td.family }));
      assertContains(out.taskDefinition, td);
    });
  }

  it('keeps the dependency, volume, mounts, users and init process of the app task definition', async () => {
    const td = await read('manifests/ecs/app-task-definition.json');
    await ecs.send(new RegisterTaskDefinitionCommand(td as RegisterTaskDefinitionCommandInput));
    const got = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: td.family })))
      .taskDefinition as Obj;
    const byName = (n: string) => got.containerDefinitions.find((c: Obj) => c.name === n);
    assert.deepEqual(got.volumes, [{ name: 'secrets' }]);
    assert.deepEqual(byName('api').dependsOn, [{ containerName: 'secrets-init', condition: 'SUCCESS' }]);
    assert.deepEqual(byName('api').mountPoints, [
      { sourceVolume: 'secrets', containerPath: '/run/secrets', readOnly: true },
    ]);
    assert.deepEqual(byName('secrets-init').mountPoints, [
      { sourceVolume: 'secrets', containerPath: '/run/secrets', readOnly: false },
    ]);
    assert.equal(byName('secrets-init').essential, false);
    assert.equal(byName('secrets-init').readonlyRootFilesystem, true);
    assert.equal(byName('secrets-init').user, '65532:10001');
    assert.equal(byName('api').user, '1000:10001');
    assert.equal(byName('api').linuxParameters.initProcessEnabled, true);
    assert.deepEqual(byName('api').entryPoint, ['/usr/local/bin/secrets-entrypoint']);
    assert.deepEqual(lintTaskDefinition(got), [], 'the described task definition still lints clean');
  });
});

describe('manifests agree with the config and the policies', () => {
  it("passes the structural lint (app) with the config's keys as secrets", async () => {
    const cfg = await exampleConfig();
    assert.deepEqual(
      lintTaskDefinition(await read('manifests/ecs/app-task-definition.json'), { requiredKeys: cfg.required }),
      [],
    );
  });

  it('is Fargate-shaped: awsvpc, FARGATE, task-level cpu/memory, non-root users, awslogs', async () => {
    for (const path of TASK_DEFINITIONS) {
      const td = await read(path);
      assert.equal(td.networkMode, 'awsvpc', path);
      assert.deepEqual(td.requiresCompatibilities, ['FARGATE'], path);
      assert.ok(td.cpu && td.memory, path);
      for (const c of td.containerDefinitions as Obj[]) {
        assert.match(c.user, /^[1-9]\d*:\d+$/, `${path} ${c.name}: numeric non-root user`);
        assert.equal(c.logConfiguration.logDriver, 'awslogs', `${path} ${c.name}`);
        assert.equal(c.logConfiguration.options['awslogs-group'], names.logGroup, `${path} ${c.name}`);
        assert.equal(c.logConfiguration.options['awslogs-region'], REGION, `${path} ${c.name}`);
        const repo = /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/([^:@]+)[:@]/.exec(c.image)?.[1];
        assert.ok(repo && names.repositories.includes(repo), `${path} ${c.name}: image from a granted repository`);
        assert.equal(c.secrets, undefined, `${path} ${c.name}: no ECS secrets; the init container is the mechanism`);
      }
    }
  });

  it('uses the roles the policies are written for', async () => {
    const app = await read('manifests/ecs/app-task-definition.json');
    const watcher = await read('manifests/ecs/watcher-task-definition.json');
    assert.equal(app.taskRoleArn, roleArn(names.taskRole));
    assert.equal(app.executionRoleArn, roleArn(names.executionRole));
    assert.equal(watcher.taskRoleArn, roleArn(names.watcherRole));
    assert.equal(watcher.executionRoleArn, roleArn(names.executionRole));
    assert.equal(watcher.family, names.watcherFamily);
    const passRole = (await read('iam/scheduler-policy.json')).Statement.find((s: Obj) => s.Action === 'iam:PassRole');
    assert.deepEqual([...passRole.Resource].sort(), [watcher.taskRoleArn, watcher.executionRoleArn].sort());
  });

  it("renders the config's secrets, required keys and file mode in the init container", async () => {
    const cfg = await exampleConfig();
    const init = (await read('manifests/ecs/app-task-definition.json')).containerDefinitions.find(
      (c: Obj) => c.name === 'secrets-init',
    );
    const env = Object.fromEntries(init.environment.map((e: Obj) => [e.name, e.value]));
    assert.equal(env.APP_ENV, 'production');
    assert.equal(env.AWS_REGION, REGION);
    assert.equal(
      env.SECRET_NAME,
      cfg.sources.map((s) => (s.type === 'secretsmanager' ? s.secretId : s.type)).join(','),
    );
    assert.equal(env.SECRETS_REQUIRED, cfg.required.join(','));
    assert.equal(env.SECRETS_DIR, cfg.outputDir);
    assert.equal(Number.parseInt(env.SECRETS_FILE_MODE, 8), cfg.fileMode);
  });

  it('runs the watcher once per task, in the watched cluster, as the only essential container', async () => {
    const cfg = await exampleConfig();
    const [c, ...rest] = (await read('manifests/ecs/watcher-task-definition.json')).containerDefinitions as Obj[];
    assert.equal(rest.length, 0);
    assert.deepEqual(c?.command, ['watch', '--once']);
    assert.equal(c?.essential, true);
    assert.equal(c?.readonlyRootFilesystem, true);
    const env = Object.fromEntries((c?.environment ?? []).map((e: Obj) => [e.name, e.value]));
    assert.deepEqual(
      env.WATCH_CLUSTER.split(','),
      cfg.watch?.clusters.map((x) => x.name),
    );
  });

  it('points the schedule and the rotation rule at the watcher task with the trigger role', async () => {
    const cfg = await exampleConfig();
    const cluster = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cfg.watch?.clusters[0]?.name}`;
    const family = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${names.watcherFamily}`;
    const schedule = await read('manifests/scheduler/watcher-schedule.json');
    const [target, ...more] = (await read('manifests/events/secret-rotation-targets.json')) as unknown as Obj[];
    assert.equal(more.length, 0);
    assert.equal(schedule.Name, names.scheduleName);
    assert.equal(schedule.GroupName, names.scheduleGroup);
    assert.equal(schedule.FlexibleTimeWindow.Mode, 'OFF');
    assert.match(schedule.ScheduleExpression, /^rate\(\d+ minutes?\)$/);
    // The cap counts over the schedule's interval, every run together (the CloudFormation stack does the same).
    const [watcher] = (await read('manifests/ecs/watcher-task-definition.json')).containerDefinitions as Obj[];
    const env = Object.fromEntries((watcher?.environment ?? []).map((e: Obj) => [e.name, e.value]));
    assert.equal(env.WATCH_CAP_WINDOW, `${/\d+/.exec(schedule.ScheduleExpression)![0]}m`);
    for (const [what, t] of [
      ['schedule', schedule.Target],
      ['rule target', target],
    ] as const) {
      assert.equal(t.Arn, cluster, what);
      assert.equal(t.RoleArn, roleArn(names.triggerRole), what);
      assert.equal(t.EcsParameters.TaskDefinitionArn, family, what);
      assert.equal(t.EcsParameters.LaunchType, 'FARGATE', what);
      assert.equal(t.EcsParameters.TaskCount, 1, what);
    }
    // Same network for both ways of starting the watcher, under the key both APIs spell `awsvpcConfiguration`
    // (request-bodies.test.ts holds both files to the service models; moto would store any spelling).
    assert.deepEqual(
      schedule.Target.EcsParameters.NetworkConfiguration.awsvpcConfiguration,
      target?.EcsParameters.NetworkConfiguration.awsvpcConfiguration,
    );
    assert.ok(schedule.Target.EcsParameters.NetworkConfiguration.awsvpcConfiguration.Subnets.length > 0);
    const run = (await read('iam/scheduler-policy.json')).Statement.find((s: Obj) => s.Action === 'ecs:RunTask');
    assert.ok(run.Resource.includes(family));
    assert.equal(run.Condition.ArnEquals['ecs:cluster'], cluster);
    const trust = (await read('iam/scheduler-trust-policy.json')).Statement as Obj[];
    const sourceArns = trust.map((s) => s.Condition.ArnEquals['aws:SourceArn']);
    assert.ok(sourceArns.includes(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${schedule.GroupName}`));
    assert.ok(sourceArns.includes(`arn:aws:events:${REGION}:${ACCOUNT}:rule/${names.ruleName}`));
  });

  it("matches the rotation of exactly the watched secrets (moto's event pattern engine)", async () => {
    const cfg = await exampleConfig();
    const pattern = await read('manifests/events/secret-rotation-pattern.json');
    const watched = [...new Set(cfg.watch?.clusters.flatMap((c) => c.services.flatMap((s) => s.secrets)))];
    assert.deepEqual(pattern.detail.name, watched);
    const event = (name: string, label: string, detailType = 'Secret Label Updated') => ({
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': detailType,
      source: 'aws.secretsmanager',
      account: ACCOUNT,
      time: '2026-02-06T16:43:48Z',
      region: REGION,
      resources: [`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-a1b2c3`],
      detail: { name, labelUpdated: label, versionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111' },
    });
    const cases: [string, Obj, boolean][] = [
      ['AWSCURRENT moved on short-cut/prod/app', event('short-cut/prod/app', 'AWSCURRENT'), true],
      ['AWSCURRENT moved on short-cut/prod/app2', event('short-cut/prod/app2', 'AWSCURRENT'), false],
      ['a custom label moved', event('short-cut/prod/app', 'MyLabel'), false],
      [
        'a CloudTrail record of PutSecretValue',
        event('short-cut/prod/app', 'AWSCURRENT', 'AWS API Call via CloudTrail'),
        false,
      ],
      ['another source', { ...event('short-cut/prod/app', 'AWSCURRENT'), source: 'aws.ssm' }, false],
    ];
    const script = [
      'import json, sys',
      'from moto.events.models import EventPattern',
      'doc = json.load(sys.stdin)',
      'p = EventPattern.load(json.dumps(doc["pattern"]))',
      'print(json.dumps([p.matches_event(e) for e in doc["events"]]))',
    ].join('\n');
    const r = spawnSync('python3', ['-c', script], {
      input: JSON.stringify({ pattern, events: cases.map(([, e]) => e) }),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as boolean[];
    for (const [i, [what, , want]] of cases.entries()) assert.equal(got[i], want, what);
  });
});

describe('schedule and rule in moto', () => {
  let moto: Moto;
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
  });

  const auth = (service: string) =>
    `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
  async function call(service: string, method: string, path: string, body?: unknown, target?: string): Promise<Obj> {
    const res = await fetch(`${moto.endpoint}${path}`, {
      method,
      headers: {
        authorization: auth(service),
        'content-type': target ? 'application/x-amz-json-1.1' : 'application/json',
        ...(target && { 'x-amz-target': target }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path} ${target ?? ''}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return text === '' ? {} : JSON.parse(text);
  }

  it('creates the schedule from its file and reads the same target back', async () => {
    const schedule = await read('manifests/scheduler/watcher-schedule.json');
    await call('scheduler', 'POST', `/schedule-groups/${schedule.GroupName}`, {});
    const { Name, ...body } = schedule;
    const created = await call('scheduler', 'POST', `/schedules/${Name}`, body);
    assert.equal(created.ScheduleArn, `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${schedule.GroupName}/${Name}`);
    const got = await call('scheduler', 'GET', `/schedules/${Name}?groupName=${schedule.GroupName}`);
    assertContains(got.Target, schedule.Target);
    assert.equal(got.ScheduleExpression, schedule.ScheduleExpression);
  });

  it('creates the rotation rule with its pattern and target and reads them back', async () => {
    const pattern = await read('manifests/events/secret-rotation-pattern.json');
    const targets = (await read('manifests/events/secret-rotation-targets.json')) as unknown as Obj[];
    const rule = await call(
      'events',
      'POST',
      '/',
      { Name: names.ruleName, EventPattern: JSON.stringify(pattern), State: 'ENABLED' },
      'AWSEvents.PutRule',
    );
    assert.equal(rule.RuleArn, `arn:aws:events:${REGION}:${ACCOUNT}:rule/${names.ruleName}`);
    const put = await call('events', 'POST', '/', { Rule: names.ruleName, Targets: targets }, 'AWSEvents.PutTargets');
    assert.equal(put.FailedEntryCount, 0);
    const listed = await call('events', 'POST', '/', { Rule: names.ruleName }, 'AWSEvents.ListTargetsByRule');
    assertContains(listed.Targets, targets);
    const described = await call('events', 'POST', '/', { Name: names.ruleName }, 'AWSEvents.DescribeRule');
    assert.deepEqual(JSON.parse(described.EventPattern), pattern);
  });
});
