import { FINGERPRINT_TAG } from '../shared/contract.ts';
import {
  type AwsLocation,
  dnsSuffixOf,
  type ParameterResource,
  partitionOf,
  type SecretResource,
} from './policy-arn.ts';
import type { DeployNames } from './policy-names.ts';

export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal?: { readonly Service: string };
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** What the policies are generated from (see policyInput for how a config becomes this). */
export interface PolicyInput {
  readonly location: AwsLocation;
  readonly names: DeployNames;
  /** Secrets the app task reads. */
  readonly secrets: readonly SecretResource[];
  /** Secrets whose versions the watcher reads (metadata only). */
  readonly watchedSecrets: readonly SecretResource[];
  /** Parameters and paths the app task reads (SSM Parameter Store). */
  readonly parameters: readonly ParameterResource[];
  /** The watcher reads parameter versions (DescribeParameters). */
  readonly watchesParameters: boolean;
  /** Clusters whose services the watcher redeploys; none means no watcher policies. */
  readonly clusters: readonly string[];
  /** The secret holding the key the watcher signs its state tags with (the one value it reads). */
  readonly stateKey?: SecretResource;
}

/** The policy files, by the name they have under `iam/`. */
export type PolicySet = Readonly<Record<string, PolicyDocument>>;

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const one = <T>(list: readonly T[]): T | readonly T[] => (list.length === 1 ? list[0]! : list);
const unique = (list: readonly string[]): string[] => [...new Set(list)];

/**
 * Least-privilege policies for one config: pure data, no AWS call. Each grant is scoped to exact resources; where
 * an action has no resource type (BatchGetSecretValue, ListServices, GetAuthorizationToken) the scope comes from a
 * condition or from the per-secret check the service makes itself.
 */
export function buildPolicies(input: PolicyInput): PolicySet {
  const { location, names } = input;
  const p = partitionOf(location.region);
  const { account, region } = location;
  const arn = (service: string, resource: string) => `arn:${p}:${service}:${region}:${account}:${resource}`;
  const ecs = (resource: string) => arn('ecs', resource);
  const role = (name: string) => `arn:${p}:iam::${account}:role/${name}`;

  const ecsTasksTrust = doc(serviceTrust('EcsTasksOfThisAccountOnly', 'ecs-tasks', account, 'ArnLike', ecs('*')));

  const secretsRead = doc(...secretStatements(input.secrets), ...parameterStatements(input.parameters));

  const execution = doc(
    {
      Sid: 'EcrLoginHasNoResourceType',
      Effect: 'Allow',
      Action: 'ecr:GetAuthorizationToken',
      Resource: '*',
    },
    {
      Sid: 'PullOnlyTheseRepositories',
      Effect: 'Allow',
      Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      Resource: one(names.repositories.map((r) => `arn:${p}:ecr:${region}:${account}:repository/${r}`)),
    },
    {
      Sid: 'WriteToTheTaskLogGroupOnly',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `arn:${p}:logs:${region}:${account}:log-group:${names.logGroup}:log-stream:*`,
    },
  );

  const set: Record<string, PolicyDocument> = {
    'ecs-task-trust-policy.json': ecsTasksTrust,
    'execution-role-policy.json': execution,
    'secrets-read-policy.json': secretsRead,
  };
  if (input.clusters.length === 0) return sortKeys(set);

  const clusterArns = input.clusters.map((c) => ecs(`cluster/${c}`));
  const services = input.clusters.map((c) => ecs(`service/${c}/*`));
  set['watcher-policy.json'] = doc(
    ...(input.watchedSecrets.length === 0
      ? []
      : [
          {
            // Metadata only: the watcher compares AWSCURRENT version ids (and, without a state to trust, when that
            // version was created) and never reads a value.
            Sid: 'ReadSecretVersionsNotValues',
            Effect: 'Allow' as const,
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds'],
            Resource: one(unique(input.watchedSecrets.map((s) => s.arnPattern))),
          },
        ]),
    ...(input.stateKey
      ? [
          {
            // The key its state tags are signed with: the one value the watcher reads.
            Sid: 'ReadOnlyTheStateKey',
            Effect: 'Allow' as const,
            Action: 'secretsmanager:GetSecretValue',
            Resource: input.stateKey.arnPattern,
          },
        ]
      : []),
    ...(input.watchesParameters
      ? [
          {
            // Metadata only (names, versions, dates; DescribeParameters has no value to give). It has no resource
            // type: IAM can grant it on "*" only, which lets the role list every parameter's metadata in the account.
            Sid: 'DescribeParametersHasNoResourceType',
            Effect: 'Allow' as const,
            Action: 'ssm:DescribeParameters',
            Resource: '*',
          },
        ]
      : []),
    {
      Sid: 'ListServicesOfTheseClusters',
      Effect: 'Allow',
      Action: 'ecs:ListServices',
      Resource: '*',
      Condition: { ArnEquals: { 'ecs:cluster': one(clusterArns) } },
    },
    {
      Sid: 'DescribeAndRedeployServicesOfTheseClusters',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:ListServiceDeployments', 'ecs:ListTagsForResource', 'ecs:UpdateService'],
      Resource: one(services),
    },
    {
      // Which images a redeploy would resolve again (mutable tags). DescribeTaskDefinition has no resource type.
      Sid: 'ReadTaskDefinitionsForTheirImages',
      Effect: 'Allow',
      Action: 'ecs:DescribeTaskDefinition',
      Resource: '*',
    },
    {
      // The state tag is the watcher's only state; it may write or remove no other tag.
      Sid: 'WriteOnlyTheStateTag',
      Effect: 'Allow',
      Action: ['ecs:TagResource', 'ecs:UntagResource'],
      Resource: one(services),
      Condition: {
        'ForAllValues:StringEquals': { 'aws:TagKeys': FINGERPRINT_TAG },
        Null: { 'aws:TagKeys': 'false' },
      },
    },
  );

  const family = ecs(`task-definition/${names.watcherFamily}`);
  set['scheduler-policy.json'] = doc(
    {
      Sid: 'RunOnlyTheWatcherTask',
      Effect: 'Allow',
      Action: 'ecs:RunTask',
      Resource: [family, `${family}:*`],
      Condition: { ArnEquals: { 'ecs:cluster': one(clusterArns) } },
    },
    {
      Sid: 'PassOnlyTheWatcherRolesToEcsTasks',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: [role(names.watcherRole), role(names.executionRole)],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
  );

  // Scheduler sets aws:SourceArn to the schedule *group*; EventBridge rules set it to the rule.
  set['scheduler-trust-policy.json'] = doc(
    serviceTrust(
      'WatcherScheduleGroupOnly',
      'scheduler',
      account,
      'ArnEquals',
      arn('scheduler', `schedule-group/${names.scheduleGroup}`),
    ),
    serviceTrust('SecretRotationRuleOnly', 'events', account, 'ArnEquals', arn('events', `rule/${names.ruleName}`)),
  );
  return sortKeys(set);
}

/**
 * Lets an AWS service (`ecs-tasks`, `scheduler`, `events`) assume the role only on behalf of this account and of the
 * resources `sourceArn` names (exactly, or as a pattern): the guard against the confused deputy.
 */
function serviceTrust(
  Sid: string,
  service: string,
  account: string,
  operator: 'ArnEquals' | 'ArnLike',
  sourceArn: string,
): PolicyStatement {
  return {
    Sid,
    Effect: 'Allow',
    Principal: { Service: `${service}.amazonaws.com` },
    Action: 'sts:AssumeRole',
    Condition: {
      StringEquals: { 'aws:SourceAccount': account },
      [operator]: { 'aws:SourceArn': sourceArn },
    },
  };
}

/** The app task's Secrets Manager grants: exactly its secrets, and KMS only through Secrets Manager. */
function secretStatements(secrets: readonly SecretResource[]): PolicyStatement[] {
  if (secrets.length === 0) return [];
  return [
    {
      Sid: 'ReadExactlyTheseSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: one(unique(secrets.map((s) => s.arnPattern))),
    },
    {
      // BatchGetSecretValue has no resource type; Secrets Manager checks GetSecretValue on every secret in the batch.
      Sid: 'BatchGetChecksGetSecretValuePerSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:BatchGetSecretValue',
      Resource: '*',
    },
    {
      // Only needed for secrets under a customer managed key; usable only through Secrets Manager.
      Sid: 'DecryptOnlyThroughSecretsManager',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: one(unique(secrets.map((s) => `arn:${partitionOf(s.region)}:kms:${s.region}:${s.account}:key/*`))),
      Condition: {
        StringEquals: {
          'kms:ViaService': one(unique(secrets.map((s) => `secretsmanager.${s.region}.${dnsSuffixOf(s.region)}`))),
        },
      },
    },
  ];
}

/**
 * The app task's Parameter Store grants: GetParameters on exactly its parameters, GetParametersByPath on exactly its
 * paths (and the levels below them, which a path grants anyway), and KMS (SecureString) only through SSM.
 */
function parameterStatements(parameters: readonly ParameterResource[]): PolicyStatement[] {
  const grant = (Sid: string, Action: string, list: readonly ParameterResource[]): PolicyStatement[] =>
    list.length === 0 ? [] : [{ Sid, Effect: 'Allow', Action, Resource: one(unique(list.flatMap((p) => p.arns))) }];
  const kms = (p: ParameterResource) => `arn:${partitionOf(p.region)}:kms:${p.region}:${p.account}:key/*`;
  const ssm = (p: ParameterResource) => `ssm.${p.region}.${dnsSuffixOf(p.region)}`;
  return [
    ...grant(
      'ReadExactlyTheseParameters',
      'ssm:GetParameters',
      parameters.filter((p) => p.kind === 'parameter'),
    ),
    ...grant(
      'ReadEveryParameterUnderThesePaths',
      'ssm:GetParametersByPath',
      parameters.filter((p) => p.kind === 'path'),
    ),
    ...(parameters.length === 0
      ? []
      : [
          {
            // For SecureString parameters (the AWS managed key aws/ssm or a customer managed key); only through SSM.
            Sid: 'DecryptOnlyThroughParameterStore',
            Effect: 'Allow' as const,
            Action: 'kms:Decrypt',
            Resource: one(unique(parameters.map(kms))),
            Condition: { StringEquals: { 'kms:ViaService': one(unique(parameters.map(ssm))) } },
          },
        ]),
  ];
}

function sortKeys(set: Record<string, PolicyDocument>): PolicySet {
  return Object.freeze(Object.fromEntries(Object.entries(set).sort(([a], [b]) => a.localeCompare(b))));
}
