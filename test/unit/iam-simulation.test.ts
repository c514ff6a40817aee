import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { buildPolicies } from '../../ops/policy.ts';
import { formatJson } from '../../ops/policy-files.ts';
import { policyInput } from '../../ops/policy-input.ts';
import { validateConfig } from '../../shared/config.ts';
import { assertValidRequests } from '../helpers/service-model.ts';

/**
 * The decision matrix of the committed iam/*.json (which policy.test.ts keeps equal to `secrets-init policy` for
 * examples/secrets-init.yaml), evaluated by a real IAM policy simulator rather than by reading the JSON; then the
 * same for what `policy` computes for a config that reads SSM Parameter Store (the example reads none).
 */

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const R = 'us-east-1';
const iam = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../iam/${file}`, import.meta.url), 'utf8'));
const secret = (name: string, account = ACCOUNT, region = R) =>
  `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
const service = (cluster: string, name: string, account = ACCOUNT) =>
  `arn:aws:ecs:${R}:${account}:service/${cluster}/${name}`;
const cluster = (name: string) => `arn:aws:ecs:${R}:${ACCOUNT}:cluster/${name}`;
const taskDef = (family: string, rev = 3) => `arn:aws:ecs:${R}:${ACCOUNT}:task-definition/${family}:${rev}`;
const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const KEY = `arn:aws:kms:${R}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
/** The default key policy: KMS honours IAM policies of the key's account only because of this statement. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};

type Expect = 'Allowed' | 'ImplicitlyDenied';
interface Row {
  readonly what: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  readonly principal?: string;
  /** A resource policy of the target, for the identity-policy matrices (a KMS key policy). */
  readonly resourcePolicy?: unknown;
  readonly expect: Expect;
}

async function decide(
  policy: { identity?: unknown; trust?: unknown },
  row: Row,
  defaultPrincipal: string,
): Promise<string> {
  const principal = row.principal ?? defaultPrincipal;
  const resourceAccount = /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(row.resource)?.[1] ?? ACCOUNT;
  const res = await runSimulation(
    {
      request: {
        principal,
        action: row.action,
        resource: { resource: row.resource, accountId: resourceAccount },
        contextVariables: row.context ?? {},
      },
      identityPolicies: policy.identity ? [{ name: 'under-test', policy: policy.identity }] : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...((policy.trust ?? row.resourcePolicy) !== undefined && { resourcePolicy: policy.trust ?? row.resourcePolicy }),
    },
    {},
  );
  if (res.resultType === 'error') assert.fail(`simulator refused the request: ${JSON.stringify(res.errors)}`);
  if (res.resultType === 'single') {
    // A context key the simulator drops silently would make a condition test pass for the wrong reason.
    assert.deepEqual(res.result.ignoredContextKeys ?? [], [], `${row.what}: context keys ignored by the simulator`);
  }
  return res.overallResult;
}

function matrix(title: string, policy: { identity?: unknown; trust?: unknown }, principal: string, rows: Row[]) {
  describe(title, () => {
    for (const row of rows) {
      it(`${row.expect === 'Allowed' ? 'allows' : 'denies'} ${row.what}`, async () => {
        assert.equal(await decide(policy, row, principal), row.expect);
      });
    }
  });
}

const taskRole = role('short-cut-task');
const VIA_SM = { 'kms:ViaService': `secretsmanager.${R}.amazonaws.com` };

matrix('task role: secrets-read-policy.json', { identity: iam('secrets-read-policy.json') }, taskRole, [
  {
    what: 'GetSecretValue on its secret',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/prod/app-AbCdEf'),
    expect: 'Allowed',
  },
  {
    what: 'DescribeSecret on its secret',
    action: 'secretsmanager:DescribeSecret',
    resource: secret('short-cut/prod/app-Zz9911'),
    expect: 'Allowed',
  },
  {
    what: 'BatchGetSecretValue (the per-secret check is GetSecretValue above)',
    action: 'secretsmanager:BatchGetSecretValue',
    resource: '*',
    expect: 'Allowed',
  },
  {
    what: 'short-cut/prod/app2-…',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/prod/app2-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'short-cut/prod/app-extra-… (what app-* would have let through)',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/prod/app-extra-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'short-cut/prod/app-extra1-… (six characters after "app-" and more)',
    action: 'secretsmanager:DescribeSecret',
    resource: secret('short-cut/prod/app-extra1-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'another environment prefix (short-cut/staging/app)',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/staging/app-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'another app prefix (other/prod/app)',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('other/prod/app-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'the same name in another region',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/prod/app-AbCdEf', ACCOUNT, 'us-west-2'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'writing its secret (PutSecretValue)',
    action: 'secretsmanager:PutSecretValue',
    resource: secret('short-cut/prod/app-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'listing secrets',
    action: 'secretsmanager:ListSecrets',
    resource: '*',
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'kms:Decrypt via Secrets Manager in the region',
    action: 'kms:Decrypt',
    resource: KEY,
    resourcePolicy: DEFAULT_KEY_POLICY,
    context: VIA_SM,
    expect: 'Allowed',
  },
  {
    what: 'kms:Decrypt called directly (no kms:ViaService)',
    action: 'kms:Decrypt',
    resource: KEY,
    resourcePolicy: DEFAULT_KEY_POLICY,
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'kms:Decrypt via Secrets Manager in another region',
    action: 'kms:Decrypt',
    resource: KEY,
    resourcePolicy: DEFAULT_KEY_POLICY,
    context: { 'kms:ViaService': 'secretsmanager.us-west-2.amazonaws.com' },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'kms:Decrypt via another service (S3)',
    action: 'kms:Decrypt',
    resource: KEY,
    resourcePolicy: DEFAULT_KEY_POLICY,
    context: { 'kms:ViaService': `s3.${R}.amazonaws.com` },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'kms:Decrypt on a key of another account',
    action: 'kms:Decrypt',
    resource: `arn:aws:kms:${R}:${OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    context: VIA_SM,
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'kms:Encrypt',
    action: 'kms:Encrypt',
    resource: KEY,
    resourcePolicy: DEFAULT_KEY_POLICY,
    context: VIA_SM,
    expect: 'ImplicitlyDenied',
  },
]);

const watcherRole = role('short-cut-watcher');
matrix('watcher role: watcher-policy.json', { identity: iam('watcher-policy.json') }, watcherRole, [
  {
    what: 'DescribeSecret on a bound secret',
    action: 'secretsmanager:DescribeSecret',
    resource: secret('short-cut/prod/app-AbCdEf'),
    expect: 'Allowed',
  },
  {
    what: 'ListSecretVersionIds on a bound secret (when its current version was created)',
    action: 'secretsmanager:ListSecretVersionIds',
    resource: secret('short-cut/prod/app-AbCdEf'),
    expect: 'Allowed',
  },
  {
    what: 'GetSecretValue of its state key (the one value it reads)',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/watcher-state-key-AbCdEf'),
    expect: 'Allowed',
  },
  {
    what: 'GetSecretValue of a secret whose name merely starts with the state key',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/watcher-state-key-extra-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'DescribeTaskDefinition (no resource type: which images a redeploy resolves again)',
    action: 'ecs:DescribeTaskDefinition',
    resource: '*',
    expect: 'Allowed',
  },
  {
    what: 'GetSecretValue of a bound secret (it never needs a value)',
    action: 'secretsmanager:GetSecretValue',
    resource: secret('short-cut/prod/app-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'BatchGetSecretValue',
    action: 'secretsmanager:BatchGetSecretValue',
    resource: '*',
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'DescribeSecret on an unbound secret',
    action: 'secretsmanager:DescribeSecret',
    resource: secret('short-cut/prod/app-extra-AbCdEf'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'ListServices in its cluster',
    action: 'ecs:ListServices',
    resource: '*',
    context: { 'ecs:cluster': cluster('short-cut-prod') },
    expect: 'Allowed',
  },
  {
    what: 'ListServices in another cluster',
    action: 'ecs:ListServices',
    resource: '*',
    context: { 'ecs:cluster': cluster('billing-prod') },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'DescribeServices in its cluster',
    action: 'ecs:DescribeServices',
    resource: service('short-cut-prod', 'api'),
    expect: 'Allowed',
  },
  {
    what: 'UpdateService of a service in its cluster',
    action: 'ecs:UpdateService',
    resource: service('short-cut-prod', 'api'),
    expect: 'Allowed',
  },
  {
    what: 'ListServiceDeployments of a service in its cluster (how a redeploy ended)',
    action: 'ecs:ListServiceDeployments',
    resource: service('short-cut-prod', 'api'),
    expect: 'Allowed',
  },
  {
    what: 'ListServiceDeployments of a service in another cluster',
    action: 'ecs:ListServiceDeployments',
    resource: service('billing-prod', 'api'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'UpdateService of a service in another cluster',
    action: 'ecs:UpdateService',
    resource: service('billing-prod', 'api'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'UpdateService of a same-named cluster in another account',
    action: 'ecs:UpdateService',
    resource: service('short-cut-prod', 'api', OTHER),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'DescribeServices in another cluster',
    action: 'ecs:DescribeServices',
    resource: service('billing-prod', 'api'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'writing the fingerprint tag on a service of its cluster',
    action: 'ecs:TagResource',
    resource: service('short-cut-prod', 'api'),
    context: { 'aws:TagKeys': ['secrets-init/fingerprint'] },
    expect: 'Allowed',
  },
  {
    what: 'writing any other tag (e.g. rebinding secrets-init/secrets)',
    action: 'ecs:TagResource',
    resource: service('short-cut-prod', 'api'),
    context: { 'aws:TagKeys': ['secrets-init/fingerprint', 'secrets-init/secrets'] },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'removing the state tag (taking back a claim nothing followed)',
    action: 'ecs:UntagResource',
    resource: service('short-cut-prod', 'api'),
    context: { 'aws:TagKeys': ['secrets-init/fingerprint'] },
    expect: 'Allowed',
  },
  {
    what: 'removing the binding tag',
    action: 'ecs:UntagResource',
    resource: service('short-cut-prod', 'api'),
    context: { 'aws:TagKeys': ['secrets-init/secrets'] },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'tagging with no tag keys in the request context',
    action: 'ecs:TagResource',
    resource: service('short-cut-prod', 'api'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'tagging a service of another cluster',
    action: 'ecs:TagResource',
    resource: service('billing-prod', 'api'),
    context: { 'aws:TagKeys': ['secrets-init/fingerprint'] },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'DeleteService in its cluster',
    action: 'ecs:DeleteService',
    resource: service('short-cut-prod', 'api'),
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'RunTask',
    action: 'ecs:RunTask',
    resource: taskDef('short-cut-api'),
    context: { 'ecs:cluster': cluster('short-cut-prod') },
    expect: 'ImplicitlyDenied',
  },
]);

const triggerRole = role('short-cut-watcher-trigger');
matrix('schedule/rule role: scheduler-policy.json', { identity: iam('scheduler-policy.json') }, triggerRole, [
  {
    what: 'RunTask of the watcher task definition in the cluster',
    action: 'ecs:RunTask',
    resource: taskDef('short-cut-watcher', 7),
    context: { 'ecs:cluster': cluster('short-cut-prod') },
    expect: 'Allowed',
  },
  {
    what: 'RunTask of the app task definition',
    action: 'ecs:RunTask',
    resource: taskDef('short-cut-api'),
    context: { 'ecs:cluster': cluster('short-cut-prod') },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'RunTask of a family that merely starts with the watcher family',
    action: 'ecs:RunTask',
    resource: taskDef('short-cut-watcher-evil'),
    context: { 'ecs:cluster': cluster('short-cut-prod') },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'RunTask of the watcher in another cluster',
    action: 'ecs:RunTask',
    resource: taskDef('short-cut-watcher'),
    context: { 'ecs:cluster': cluster('billing-prod') },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'passing the watcher task role to ECS tasks',
    action: 'iam:PassRole',
    resource: role('short-cut-watcher'),
    context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    expect: 'Allowed',
  },
  {
    what: 'passing the execution role to ECS tasks',
    action: 'iam:PassRole',
    resource: role('short-cut-execution'),
    context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    expect: 'Allowed',
  },
  {
    what: 'passing the app task role (which reads secret values)',
    action: 'iam:PassRole',
    resource: role('short-cut-task'),
    context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'passing the watcher role to another service (EC2)',
    action: 'iam:PassRole',
    resource: role('short-cut-watcher'),
    context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    expect: 'ImplicitlyDenied',
  },
  {
    what: 'UpdateService',
    action: 'ecs:UpdateService',
    resource: service('short-cut-prod', 'api'),
    expect: 'ImplicitlyDenied',
  },
]);

const ecsCtx = (account: string) => ({
  'aws:SourceAccount': account,
  'aws:SourceArn': `arn:aws:ecs:${R}:${account}:task/short-cut-prod/0123456789abcdef0123456789abcdef`,
});
for (const target of ['short-cut-task', 'short-cut-watcher', 'short-cut-execution']) {
  matrix(`trust of ${target}: ecs-task-trust-policy.json`, { trust: iam('ecs-task-trust-policy.json') }, '', [
    {
      what: 'ECS tasks of this account',
      principal: 'ecs-tasks.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: role(target),
      context: ecsCtx(ACCOUNT),
      expect: 'Allowed',
    },
    {
      what: 'ECS tasks on behalf of another account',
      principal: 'ecs-tasks.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: role(target),
      context: ecsCtx(OTHER),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'ECS tasks with no source context',
      principal: 'ecs-tasks.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: role(target),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'EC2 instances',
      principal: 'ec2.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: role(target),
      context: ecsCtx(ACCOUNT),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'Lambda',
      principal: 'lambda.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: role(target),
      context: ecsCtx(ACCOUNT),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'an IAM user of the same account',
      principal: `arn:aws:iam::${ACCOUNT}:user/alice`,
      action: 'sts:AssumeRole',
      resource: role(target),
      expect: 'ImplicitlyDenied',
    },
  ]);
}

const scheduleGroup = (name: string, account = ACCOUNT) => `arn:aws:scheduler:${R}:${account}:schedule-group/${name}`;
const rule = (name: string, account = ACCOUNT) => `arn:aws:events:${R}:${account}:rule/${name}`;
matrix(
  'trust of short-cut-watcher-trigger: scheduler-trust-policy.json',
  { trust: iam('scheduler-trust-policy.json') },
  '',
  [
    {
      what: 'EventBridge Scheduler for the watcher schedule group',
      principal: 'scheduler.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: triggerRole,
      context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': scheduleGroup('short-cut') },
      expect: 'Allowed',
    },
    {
      what: 'EventBridge Scheduler for another schedule group',
      principal: 'scheduler.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: triggerRole,
      context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': scheduleGroup('default') },
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'EventBridge Scheduler of another account',
      principal: 'scheduler.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: triggerRole,
      context: { 'aws:SourceAccount': OTHER, 'aws:SourceArn': scheduleGroup('short-cut', OTHER) },
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'the secret rotation rule',
      principal: 'events.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: triggerRole,
      context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': rule('short-cut-secret-rotation') },
      expect: 'Allowed',
    },
    {
      what: 'another EventBridge rule',
      principal: 'events.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: triggerRole,
      context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': rule('anything-else') },
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'the Scheduler principal presenting the rule ARN',
      principal: 'scheduler.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: triggerRole,
      context: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': rule('short-cut-secret-rotation') },
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'ECS tasks',
      principal: 'ecs-tasks.amazonaws.com',
      action: 'sts:AssumeRole',
      resource: triggerRole,
      context: ecsCtx(ACCOUNT),
      expect: 'ImplicitlyDenied',
    },
  ],
);

matrix(
  'execution role: execution-role-policy.json',
  { identity: iam('execution-role-policy.json') },
  role('short-cut-execution'),
  [
    {
      what: 'pulling the secrets-init image',
      action: 'ecr:BatchGetImage',
      resource: `arn:aws:ecr:${R}:${ACCOUNT}:repository/secrets-init`,
      expect: 'Allowed',
    },
    {
      what: 'pulling the app image',
      action: 'ecr:GetDownloadUrlForLayer',
      resource: `arn:aws:ecr:${R}:${ACCOUNT}:repository/short-cut`,
      expect: 'Allowed',
    },
    {
      what: 'pulling from another repository',
      action: 'ecr:BatchGetImage',
      resource: `arn:aws:ecr:${R}:${ACCOUNT}:repository/billing`,
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'pushing an image',
      action: 'ecr:PutImage',
      resource: `arn:aws:ecr:${R}:${ACCOUNT}:repository/secrets-init`,
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'writing to the task log group',
      action: 'logs:PutLogEvents',
      resource: `arn:aws:logs:${R}:${ACCOUNT}:log-group:/ecs/short-cut:log-stream:api/api/0123`,
      expect: 'Allowed',
    },
    {
      what: 'writing to another log group',
      action: 'logs:PutLogEvents',
      resource: `arn:aws:logs:${R}:${ACCOUNT}:log-group:/ecs/billing:log-stream:x`,
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'reading the secret (the init container reads it with the task role, not the execution role)',
      action: 'secretsmanager:GetSecretValue',
      resource: secret('short-cut/prod/app-AbCdEf'),
      expect: 'ImplicitlyDenied',
    },
  ],
);

// SSM Parameter Store: the policies `policy` computes for a config reading a path and two parameters, with the path
// bound for the watcher (the committed iam/ files have no parameter, the example reading one secret).
const SSM_CONFIG = validateConfig({
  apiVersion: 'secrets-init/v1',
  kind: 'SecretsInit',
  metadata: { name: 'short-cut' },
  spec: {
    sources: [
      { parameterPath: '/short-cut/prod/' },
      { parameter: '/short-cut/shared/DATABASE_URL' },
      { parameter: '/short-cut/shared/API_KEY:3' },
    ],
    watch: { clusters: [{ name: 'short-cut-prod', services: [{ name: 'api', secrets: ['ssm:/short-cut/prod/'] }] }] },
  },
});
if ('problems' in SSM_CONFIG) throw new Error(SSM_CONFIG.problems.join('; '));
const SSM_POLICIES = buildPolicies(policyInput(SSM_CONFIG.config, { location: { account: ACCOUNT, region: R } }));
const parameter = (name: string, account = ACCOUNT, region = R) => `arn:aws:ssm:${region}:${account}:parameter/${name}`;
const VIA_SSM = { 'kms:ViaService': `ssm.${R}.amazonaws.com` };

describe('SSM policies are valid IAM requests', () => {
  it('PutRolePolicy takes each of them (the AWS service model)', () => {
    assertValidRequests(
      Object.entries(SSM_POLICIES).map(([name, policy]) => ({
        name,
        service: 'iam',
        operation: 'PutRolePolicy',
        params: { RoleName: 'short-cut-task', PolicyName: 'p', PolicyDocument: formatJson(policy) },
      })),
    );
  });
});

matrix(
  'task role reading SSM: secrets-read-policy.json',
  { identity: SSM_POLICIES['secrets-read-policy.json'] },
  taskRole,
  [
    {
      what: 'GetParametersByPath on its path',
      action: 'ssm:GetParametersByPath',
      resource: parameter('short-cut/prod'),
      expect: 'Allowed',
    },
    {
      what: 'GetParametersByPath on a level below its path (a path grants its levels anyway)',
      action: 'ssm:GetParametersByPath',
      resource: parameter('short-cut/prod/db'),
      expect: 'Allowed',
    },
    {
      what: 'GetParametersByPath on a path that merely starts with the same text (short-cut/prod2)',
      action: 'ssm:GetParametersByPath',
      resource: parameter('short-cut/prod2'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParametersByPath on another environment (short-cut/staging)',
      action: 'ssm:GetParametersByPath',
      resource: parameter('short-cut/staging'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParametersByPath on the level above its path (short-cut)',
      action: 'ssm:GetParametersByPath',
      resource: parameter('short-cut'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParameters on a named parameter',
      action: 'ssm:GetParameters',
      resource: parameter('short-cut/shared/DATABASE_URL'),
      expect: 'Allowed',
    },
    {
      what: 'GetParameters on a pinned parameter (the ARN has no version)',
      action: 'ssm:GetParameters',
      resource: parameter('short-cut/shared/API_KEY'),
      expect: 'Allowed',
    },
    {
      what: 'GetParameters on a name that merely starts with a named one (DATABASE_URL2)',
      action: 'ssm:GetParameters',
      resource: parameter('short-cut/shared/DATABASE_URL2'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParameters on another parameter beside the named ones',
      action: 'ssm:GetParameters',
      resource: parameter('short-cut/shared/OTHER'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParameters on a parameter under its path (it reads those by path only)',
      action: 'ssm:GetParameters',
      resource: parameter('short-cut/prod/DATABASE_URL'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParameter (singular) on a named parameter',
      action: 'ssm:GetParameter',
      resource: parameter('short-cut/shared/DATABASE_URL'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'the same name in another region',
      action: 'ssm:GetParameters',
      resource: parameter('short-cut/shared/DATABASE_URL', ACCOUNT, 'us-west-2'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'the same path in another account',
      action: 'ssm:GetParametersByPath',
      resource: parameter('short-cut/prod', OTHER),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'writing a parameter under its path (PutParameter)',
      action: 'ssm:PutParameter',
      resource: parameter('short-cut/prod/DATABASE_URL'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'DescribeParameters (the task needs no listing)',
      action: 'ssm:DescribeParameters',
      resource: '*',
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'any secret (it reads none)',
      action: 'secretsmanager:GetSecretValue',
      resource: secret('short-cut/prod/app-AbCdEf'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'kms:Decrypt via SSM in the region (SecureString)',
      action: 'kms:Decrypt',
      resource: KEY,
      resourcePolicy: DEFAULT_KEY_POLICY,
      context: VIA_SSM,
      expect: 'Allowed',
    },
    {
      what: 'kms:Decrypt called directly (no kms:ViaService)',
      action: 'kms:Decrypt',
      resource: KEY,
      resourcePolicy: DEFAULT_KEY_POLICY,
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'kms:Decrypt via SSM in another region',
      action: 'kms:Decrypt',
      resource: KEY,
      resourcePolicy: DEFAULT_KEY_POLICY,
      context: { 'kms:ViaService': 'ssm.us-west-2.amazonaws.com' },
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'kms:Decrypt via Secrets Manager (this config reads no secret)',
      action: 'kms:Decrypt',
      resource: KEY,
      resourcePolicy: DEFAULT_KEY_POLICY,
      context: VIA_SM,
      expect: 'ImplicitlyDenied',
    },
  ],
);

matrix(
  'watcher role watching SSM: watcher-policy.json',
  { identity: SSM_POLICIES['watcher-policy.json'] },
  watcherRole,
  [
    {
      what: 'DescribeParameters (metadata only; it has no resource type)',
      action: 'ssm:DescribeParameters',
      resource: '*',
      expect: 'Allowed',
    },
    {
      what: 'GetParametersByPath on the bound path (it never needs a value)',
      action: 'ssm:GetParametersByPath',
      resource: parameter('short-cut/prod'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParameters on a bound parameter',
      action: 'ssm:GetParameters',
      resource: parameter('short-cut/shared/DATABASE_URL'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'GetParameterHistory (it would hold old values)',
      action: 'ssm:GetParameterHistory',
      resource: parameter('short-cut/prod/DATABASE_URL'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'kms:Decrypt via SSM',
      action: 'kms:Decrypt',
      resource: KEY,
      resourcePolicy: DEFAULT_KEY_POLICY,
      context: VIA_SSM,
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'DescribeSecret (no secret is bound or read)',
      action: 'secretsmanager:DescribeSecret',
      resource: secret('short-cut/prod/app-AbCdEf'),
      expect: 'ImplicitlyDenied',
    },
    {
      what: 'UpdateService of a service in its cluster (as for secrets)',
      action: 'ecs:UpdateService',
      resource: service('short-cut-prod', 'api'),
      expect: 'Allowed',
    },
  ],
);
