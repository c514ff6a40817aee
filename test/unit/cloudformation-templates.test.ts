import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { parseWatchFlags } from '../../cli/watch-command.ts';
import { injectInitContainer } from '../../ops/inject.ts';
import { lintTaskDefinition } from '../../ops/inject-lint.ts';
import { INIT_CONTAINER } from '../../shared/contract.ts';
import { resolveWatchSettings } from '../../watcher/watch-settings.ts';
import { ROOT, removeDir, tempDir } from '../helpers/cli.ts';
import {
  type EvaluatedStack,
  evaluateStack,
  type Json,
  type JsonObject,
  lowerCamel,
  type Resource,
  readTemplate,
  resourcesOfType,
  StackInputError,
} from '../helpers/cloudformation.ts';
import { assertValidRequests, type ServiceRequest } from '../helpers/service-model.ts';

// The templates under manifests/cloudformation/, checked by real tools without AWS: cfn-lint, and the AWS service
// models (botocore) for the request each resource becomes, which is all the checking the resources moto's
// CloudFormation does not create (schedules, alarms) and the properties it drops (ECS task and service settings,
// rule targets' network) get before real AWS. The policies are held equal to `policy` in
// cloudformation-policies.test.ts; the stacks are created in moto in test/integration/cloudformation-deploy.test.ts.

const DIR = join(ROOT, 'manifests', 'cloudformation');
const WATCHER = join(DIR, 'watcher.yaml');
const APP = join(DIR, 'app.yaml');
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const SECRET_A = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme/prod/app-AbCdEf`;
const SECRET_B = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme/prod/db-123456`;
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:ops-alerts`;

const WATCHER_PARAMETERS = {
  Prefix: 'acme',
  Cluster: 'acme-prod',
  SecretArns: SECRET_A,
  InitImage: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/secrets-init:0.1.0`,
  Subnets: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  SecurityGroups: 'sg-0123456789abcdef0',
};
const APP_PARAMETERS = {
  Prefix: 'acme-web',
  Cluster: 'acme-prod',
  ServiceName: 'web',
  SecretArns: `${SECRET_A},${SECRET_B}`,
  RequiredKeys: 'OPENAI_API_KEY,APP_SECRET_KEY',
  AppImage: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/acme-web:1.0.0`,
  AppRepository: 'acme-web',
  InitImage: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/secrets-init:0.1.0`,
  Subnets: 'subnet-0123456789abcdef0',
  SecurityGroups: 'sg-0123456789abcdef0',
};

function stack(path: string, parameters: Record<string, string>): EvaluatedStack {
  return evaluateStack(readTemplate(path), { account: ACCOUNT, region: REGION, stackName: 's', parameters });
}

function only(s: EvaluatedStack, type: string): JsonObject {
  const all = Object.values(resourcesOfType(s, type));
  assert.equal(all.length, 1, `one ${type}`);
  return all[0]!;
}

/** The Scheduler and EventBridge APIs spell the ECS network block `awsvpcConfiguration`; CloudFormation does not. */
function apiNetwork(target: JsonObject): JsonObject {
  const ecs = target.EcsParameters as JsonObject;
  const network = ecs.NetworkConfiguration as JsonObject;
  const awsvpc = network.AwsvpcConfiguration ?? network.AwsVpcConfiguration;
  return { ...target, EcsParameters: { ...ecs, NetworkConfiguration: { awsvpcConfiguration: awsvpc! } } };
}

/** The API request(s) CloudFormation makes for a resource, where the properties map onto them one to one. */
function requestsOf(id: string, r: Resource): ServiceRequest[] {
  const p = r.Properties;
  const req = (service: string, operation: string, params: Json): ServiceRequest => ({
    name: `${id} (${r.Type}) as ${service} ${operation}`,
    service,
    operation,
    params,
    coerce: true,
  });
  switch (r.Type) {
    case 'AWS::Logs::LogGroup':
      return [
        req('logs', 'CreateLogGroup', { logGroupName: p.LogGroupName! }),
        req('logs', 'PutRetentionPolicy', { logGroupName: p.LogGroupName!, retentionInDays: p.RetentionInDays! }),
      ];
    case 'AWS::IAM::Role':
      return [
        req('iam', 'CreateRole', {
          RoleName: p.RoleName!,
          Description: p.Description!,
          AssumeRolePolicyDocument: JSON.stringify(p.AssumeRolePolicyDocument),
        }),
        ...((p.Policies ?? []) as JsonObject[]).map((policy) =>
          req('iam', 'PutRolePolicy', {
            RoleName: p.RoleName!,
            PolicyName: policy.PolicyName!,
            PolicyDocument: JSON.stringify(policy.PolicyDocument),
          }),
        ),
      ];
    case 'AWS::ECS::TaskDefinition':
      return [req('ecs', 'RegisterTaskDefinition', lowerCamel(p))];
    case 'AWS::ECS::Service':
      return [req('ecs', 'CreateService', lowerCamel(p))];
    case 'AWS::Scheduler::ScheduleGroup':
      return [req('scheduler', 'CreateScheduleGroup', p)];
    case 'AWS::Scheduler::Schedule':
      return [req('scheduler', 'CreateSchedule', { ...p, Target: apiNetwork(p.Target as JsonObject) })];
    case 'AWS::Events::Rule': {
      const { Targets, EventPattern, ...rule } = p;
      return [
        req('events', 'PutRule', { ...rule, EventPattern: JSON.stringify(EventPattern) }),
        req('events', 'PutTargets', { Rule: p.Name!, Targets: (Targets as JsonObject[]).map(apiNetwork) }),
      ];
    }
    case 'AWS::CloudWatch::Alarm':
      return [req('cloudwatch', 'PutMetricAlarm', p)];
    case 'AWS::SecretsManager::Secret': {
      // CloudFormation asks for a random password, then creates the secret with it.
      const { GenerateSecretString, ...secret } = p;
      return [
        req('secretsmanager', 'GetRandomPassword', GenerateSecretString!),
        req('secretsmanager', 'CreateSecret', { ...secret, SecretString: 'generated' }),
      ];
    }
    case 'AWS::SecretsManager::ResourcePolicy':
      return [
        req('secretsmanager', 'PutResourcePolicy', {
          SecretId: p.SecretId!,
          ResourcePolicy: JSON.stringify(p.ResourcePolicy),
          BlockPublicPolicy: p.BlockPublicPolicy!,
        }),
      ];
    default:
      assert.fail(`${id}: ${r.Type} has no request here; add how CloudFormation creates it`);
  }
}

describe('cfn-lint', () => {
  const work = tempDir('cfn-lint-');
  after(() => removeDir(work));
  const lint = (files: string[]) => {
    const r = spawnSync('cfn-lint', ['--format', 'parseable', ...files], { encoding: 'utf8' });
    if (r.error) {
      throw new Error(`cfn-lint is not installed (${r.error.message}): pip install cfn-lint (the tests need it)`);
    }
    return r;
  };

  it('finds nothing in any template, warnings included', () => {
    const templates = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
    assert.deepEqual(templates.sort(), ['app.yaml', 'watcher.yaml']);
    const r = lint(templates.map((f) => join(DIR, f)));
    assert.equal(r.status, 0, `cfn-lint:\n${r.stdout}${r.stderr}`);
  });

  it('does find a mistake (it is really linting)', () => {
    const bad = join(work, 'bad.yaml');
    writeFileSync(
      bad,
      'Resources:\n  G:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      RetentionInDays: 31\n      Name: x\n',
    );
    const r = lint([bad]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /E3002|E3030/);
  });
});

describe('every resource, as the request CloudFormation makes, is accepted by the AWS service models', () => {
  const stacks: [string, EvaluatedStack][] = [
    ['watcher.yaml by ARN, alarms notifying', stack(WATCHER, { ...WATCHER_PARAMETERS, AlarmTopicArn: TOPIC })],
    [
      'watcher.yaml by name prefix, no alarms',
      stack(WATCHER, { ...WATCHER_PARAMETERS, SecretArns: '', SecretNamePrefix: 'acme/prod/', Alarms: 'false' }),
    ],
    ['app.yaml', stack(APP, APP_PARAMETERS)],
    [
      'app.yaml without required keys, on ARM64',
      stack(APP, { ...APP_PARAMETERS, RequiredKeys: '', CpuArchitecture: 'ARM64' }),
    ],
  ];
  for (const [name, s] of stacks) {
    it(name, () => {
      assertValidRequests(Object.entries(s.resources).flatMap(([id, r]) => requestsOf(id, r)));
    });
  }
});

describe('parameters CloudFormation refuses before it creates anything', () => {
  const refused = (path: string, parameters: Record<string, string>, problem: RegExp) => {
    assert.throws(
      () => stack(path, parameters),
      (e: unknown) => e instanceof StackInputError && e.problems.some((p) => problem.test(p)),
    );
  };
  const cases: { what: string; path: string; parameters: Record<string, string>; problem: RegExp }[] = [
    {
      what: 'both SecretArns and SecretNamePrefix',
      path: WATCHER,
      parameters: { ...WATCHER_PARAMETERS, SecretNamePrefix: 'acme/' },
      problem: /exactly one of SecretArns and SecretNamePrefix/,
    },
    {
      what: 'neither SecretArns nor SecretNamePrefix',
      path: WATCHER,
      parameters: { ...WATCHER_PARAMETERS, SecretArns: '' },
      problem: /exactly one of SecretArns and SecretNamePrefix/,
    },
    {
      // `policy` reads a partial ARN as "name-??????"; the templates take the ARN as it is, so only full ones.
      what: 'a partial secret ARN (no six-character suffix) in the watcher',
      path: WATCHER,
      parameters: { ...WATCHER_PARAMETERS, SecretArns: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme/app` },
      problem: /SecretArns/,
    },
    {
      what: 'a partial secret ARN in the app',
      path: APP,
      parameters: { ...APP_PARAMETERS, SecretArns: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme/app` },
      problem: /SecretArns/,
    },
    {
      what: 'a secret name where the app takes ARNs',
      path: APP,
      parameters: { ...APP_PARAMETERS, SecretArns: 'acme/prod/app' },
      problem: /SecretArns/,
    },
    {
      what: 'a name prefix with a wildcard (it would widen the policy)',
      path: WATCHER,
      parameters: { ...WATCHER_PARAMETERS, SecretArns: '', SecretNamePrefix: 'acme/*' },
      problem: /SecretNamePrefix/,
    },
    {
      what: 'a prefix longer than IAM role names allow',
      path: WATCHER,
      parameters: { ...WATCHER_PARAMETERS, Prefix: 'a'.repeat(41) },
      problem: /Prefix/,
    },
    {
      what: 'required keys that are not variable names',
      path: APP,
      parameters: { ...APP_PARAMETERS, RequiredKeys: 'A, B' },
      problem: /RequiredKeys/,
    },
    {
      what: 'an interval the schedule does not offer',
      path: WATCHER,
      parameters: { ...WATCHER_PARAMETERS, IntervalMinutes: '7' },
      problem: /IntervalMinutes/,
    },
  ];
  for (const c of cases) it(`refuses ${c.what}`, () => refused(c.path, c.parameters, c.problem));
});

describe('app.yaml: the service, wired as inject wires it', () => {
  const s = stack(APP, APP_PARAMETERS);
  const td = lowerCamel(only(s, 'AWS::ECS::TaskDefinition')) as JsonObject;
  const containers = td.containerDefinitions as JsonObject[];

  it('passes the inject linter', () => {
    assert.deepEqual(lintTaskDefinition(td, { requiredKeys: APP_PARAMETERS.RequiredKeys.split(',') }), []);
  });

  it('is already what inject makes of it (inject changes nothing)', () => {
    const { taskDefinition } = injectInitContainer(td);
    assert.deepEqual(taskDefinition, td);
  });

  it("renders the stack's secrets and runs the app image's own entrypoint, as uid AppUid in group 10001", () => {
    const [init, app] = containers as [JsonObject, JsonObject];
    assert.equal(init.name, INIT_CONTAINER);
    const env = Object.fromEntries((init.environment as JsonObject[]).map((e) => [e.name, e.value]));
    assert.equal(env.SECRET_NAME, `${SECRET_A},${SECRET_B}`);
    assert.equal(env.APP_ENV, 'production');
    assert.equal(env.AWS_REGION, REGION);
    assert.equal(init.user, '65532:10001');
    assert.equal(app.name, 'web');
    assert.equal(app.user, '1000:10001');
    assert.equal(app.entryPoint, undefined);
    assert.equal(app.command, undefined);
  });

  it('without required keys, sets SECRETS_REQUIRED nowhere', () => {
    const bare = lowerCamel(only(stack(APP, { ...APP_PARAMETERS, RequiredKeys: '' }), 'AWS::ECS::TaskDefinition'));
    assert.doesNotMatch(JSON.stringify(bare), /SECRETS_REQUIRED/);
    assert.deepEqual(lintTaskDefinition(bare), []);
  });

  it('tags the service with its secrets, separated by spaces, and turns the circuit breaker on with rollback', () => {
    const service = only(s, 'AWS::ECS::Service');
    assert.deepEqual(service.Tags, [{ Key: 'secrets-init/secrets', Value: `${SECRET_A} ${SECRET_B}` }]);
    assert.deepEqual(s.outputs.BindingTag, `${SECRET_A} ${SECRET_B}`);
    assert.deepEqual((service.DeploymentConfiguration as JsonObject).DeploymentCircuitBreaker, {
      Enable: true,
      Rollback: true,
    });
    assert.equal(service.TaskDefinition, `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/acme-web:1`);
  });
});

describe('watcher.yaml: the task, its triggers and its alarms', () => {
  const s = stack(WATCHER, { ...WATCHER_PARAMETERS, MaxRedeploys: '7', IntervalMinutes: '10', AlarmTopicArn: TOPIC });
  const td = lowerCamel(only(s, 'AWS::ECS::TaskDefinition')) as JsonObject;
  const container = (td.containerDefinitions as JsonObject[])[0]!;
  const taskDefinitionArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/acme-watcher:1`;
  const cluster = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/acme-prod`;

  it('runs one pass over the tagged services of Cluster, with the cap, as the watcher reads its settings', () => {
    const env = Object.fromEntries((container.environment as JsonObject[]).map((e) => [e.name, String(e.value)]));
    const command = container.command as string[];
    assert.deepEqual(command, ['watch', '--once']);
    const settings = resolveWatchSettings(parseWatchFlags(command.slice(1)), env);
    assert.deepEqual(settings.source, { kind: 'discover', clusters: ['acme-prod'] });
    assert.equal(settings.once, true);
    assert.equal(settings.maxRedeploys, 7);
    assert.equal(settings.capWindowMs, 10 * 60_000, 'the cap counts over the schedule interval');
    assert.equal(settings.region, REGION);
    assert.equal(env.WATCH_METRICS_NAMESPACE, 'SecretsInit/Watcher');
    assert.equal(settings.stateKey, 'acme/watcher-state-key', 'its state signed with the key the stack makes');
    assert.equal(container.image, WATCHER_PARAMETERS.InitImage);
    assert.equal(td.taskRoleArn, `arn:aws:iam::${ACCOUNT}:role/acme-watcher`);
  });

  it('is run by the schedule every IntervalMinutes, in the given network, as the trigger role', () => {
    const schedule = only(s, 'AWS::Scheduler::Schedule');
    assert.equal(schedule.ScheduleExpression, 'rate(10 minutes)');
    assert.equal(schedule.GroupName, 'acme');
    const target = schedule.Target as JsonObject;
    assert.equal(target.Arn, cluster);
    assert.equal(target.RoleArn, `arn:aws:iam::${ACCOUNT}:role/acme-watcher-trigger`);
    assert.equal((target.EcsParameters as JsonObject).TaskDefinitionArn, taskDefinitionArn);
    assert.deepEqual((target.EcsParameters as JsonObject).NetworkConfiguration, {
      AwsvpcConfiguration: {
        Subnets: WATCHER_PARAMETERS.Subnets.split(','),
        SecurityGroups: [WATCHER_PARAMETERS.SecurityGroups],
        AssignPublicIp: 'DISABLED',
      },
    });
  });

  const patterns: [string, Record<string, string>, JsonObject][] = [
    [
      'by ARN: the secrets as the event names them in resources',
      WATCHER_PARAMETERS,
      { resources: [SECRET_A], detail: { labelUpdated: ['AWSCURRENT'] } },
    ],
    [
      'by name prefix: the names that start with it',
      { ...WATCHER_PARAMETERS, SecretArns: '', SecretNamePrefix: 'acme/prod/' },
      { detail: { labelUpdated: ['AWSCURRENT'], name: [{ prefix: 'acme/prod/' }] } },
    ],
  ];
  for (const [what, parameters, match] of patterns) {
    it(`is run by the rule when AWSCURRENT moves on a watched secret, ${what}`, () => {
      const rule = only(stack(WATCHER, parameters), 'AWS::Events::Rule');
      assert.deepEqual(rule.EventPattern, {
        source: ['aws.secretsmanager'],
        'detail-type': ['Secret Label Updated'],
        ...match,
      });
      assert.equal(rule.Name, 'acme-secret-rotation');
      const target = (rule.Targets as JsonObject[])[0]!;
      assert.equal((target.EcsParameters as JsonObject).TaskDefinitionArn, taskDefinitionArn);
      assert.equal(target.Arn, cluster);
    });
  }

  it('alarms on any failure or failed redeploy in 15 minutes, and on no completed pass for two intervals', () => {
    const alarms = Object.values(resourcesOfType(s, 'AWS::CloudWatch::Alarm')).map((a) => ({
      metric: a.MetricName,
      namespace: a.Namespace,
      dimensions: a.Dimensions,
      statistic: a.Statistic,
      window: `${a.EvaluationPeriods} x ${a.Period}s`,
      when: `${a.ComparisonOperator} ${a.Threshold}`,
      missing: a.TreatMissingData,
      notify: [a.AlarmActions, a.OKActions],
    }));
    const common = {
      namespace: 'SecretsInit/Watcher',
      dimensions: undefined,
      statistic: 'Sum',
      notify: [[TOPIC], [TOPIC]],
    };
    assert.deepEqual(alarms, [
      {
        ...common,
        metric: 'Failures',
        window: '1 x 900s',
        when: 'GreaterThanOrEqualToThreshold 1',
        missing: 'notBreaching',
      },
      {
        ...common,
        metric: 'RedeploysFailed',
        window: '1 x 900s',
        when: 'GreaterThanOrEqualToThreshold 1',
        missing: 'notBreaching',
      },
      { ...common, metric: 'PassCompleted', window: '2 x 600s', when: 'LessThanThreshold 1', missing: 'breaching' },
    ]);
  });

  it('makes no alarm with Alarms=false, and alarms that notify nobody without a topic', () => {
    assert.deepEqual(
      resourcesOfType(stack(WATCHER, { ...WATCHER_PARAMETERS, Alarms: 'false' }), 'AWS::CloudWatch::Alarm'),
      {},
    );
    const quiet = Object.values(resourcesOfType(stack(WATCHER, WATCHER_PARAMETERS), 'AWS::CloudWatch::Alarm'));
    assert.equal(quiet.length, 3);
    for (const a of quiet) assert.deepEqual([a.AlarmActions, a.OKActions], [undefined, undefined]);
  });

  it('outputs the roles, the task definition, the log group, the triggers and the binding tag', () => {
    assert.deepEqual(s.outputs, {
      WatcherRoleArn: `arn:aws:iam::${ACCOUNT}:role/acme-watcher`,
      ExecutionRoleArn: `arn:aws:iam::${ACCOUNT}:role/acme-watcher-execution`,
      TriggerRoleArn: `arn:aws:iam::${ACCOUNT}:role/acme-watcher-trigger`,
      TaskDefinitionArn: taskDefinitionArn,
      LogGroupName: '/ecs/acme-watcher',
      StateKeyArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme/watcher-state-key-AbCdEf`,
      ScheduleGroupName: 'acme',
      ScheduleName: 'acme-watcher',
      RuleName: 'acme-secret-rotation',
      BindingTagKey: 'secrets-init/secrets',
      BindingTagValue: SECRET_A,
    });
  });
});

describe("watcher.yaml: the state key's resource policy, in the IAM simulator", () => {
  const s = stack(WATCHER, WATCHER_PARAMETERS);
  const policy = only(s, 'AWS::SecretsManager::ResourcePolicy').ResourcePolicy;
  const key = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:acme/watcher-state-key-AbCdEf`;
  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
  /** A principal whose own policies allow every Secrets Manager action: the resource policy alone decides. */
  const decide = async (principal: string, action: string) => {
    const res = await runSimulation(
      {
        request: {
          principal,
          action,
          resource: { resource: key, accountId: ACCOUNT },
          contextVariables: { 'aws:PrincipalArn': principal },
        },
        identityPolicies: [
          {
            name: 'admin',
            policy: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }],
            },
          },
        ],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: policy,
      },
      {},
    );
    if (res.resultType === 'error') assert.fail(`the simulator refused the request: ${JSON.stringify(res.errors)}`);
    return res.overallResult;
  };
  const rows: [string, string, string, string][] = [
    ['the watcher role reads it', role('acme-watcher'), 'secretsmanager:GetSecretValue', 'Allowed'],
    ['an administrator cannot read it', role('admin'), 'secretsmanager:GetSecretValue', 'ExplicitlyDenied'],
    [
      'the watcher trigger role cannot read it',
      role('acme-watcher-trigger'),
      'secretsmanager:GetSecretValue',
      'ExplicitlyDenied',
    ],
    ['nobody sets its value (PutSecretValue)', role('admin'), 'secretsmanager:PutSecretValue', 'ExplicitlyDenied'],
    ['nobody sets its value (UpdateSecret)', role('admin'), 'secretsmanager:UpdateSecret', 'ExplicitlyDenied'],
    ['the watcher cannot set it either', role('acme-watcher'), 'secretsmanager:PutSecretValue', 'ExplicitlyDenied'],
    ['nobody moves its labels', role('admin'), 'secretsmanager:UpdateSecretVersionStage', 'ExplicitlyDenied'],
    ['an administrator may still describe it', role('admin'), 'secretsmanager:DescribeSecret', 'Allowed'],
  ];
  for (const [what, principal, action, expected] of rows) {
    it(`${what}: ${expected}`, async () => assert.equal(await decide(principal, action), expected));
  }
});
