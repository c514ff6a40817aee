import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildPolicies, type PolicyDocument, type PolicyInput } from '../../ops/policy.ts';
import { partitionOf, type SecretResource, secretResource } from '../../ops/policy-arn.ts';
import { formatJson } from '../../ops/policy-files.ts';
import { type DeployNames, deployNames } from '../../ops/policy-names.ts';
import { ROOT } from '../helpers/cli.ts';
import {
  evaluateStack,
  iamCanonical,
  type Json,
  type JsonObject,
  readTemplate,
  resourcesOfType,
} from '../helpers/cloudformation.ts';

// One source of truth for IAM: the templates' roles carry exactly the policies `secrets-init policy` computes
// (ops/policy.ts buildPolicies) for the same secrets and names. The templates are written by hand, in
// CloudFormation's own terms (parameters, ${AWS::AccountId}), so that a reader reviews them as any template; this
// test evaluates them for several stacks and compares every statement, so it fails as soon as either side moves
// (the watcher's permissions will grow) and prints what to put in the template.

/** A role of a template and, by policy name, the file of `policy` each of its policies must equal. */
interface RoleSpec {
  readonly trust: string;
  readonly policies: Readonly<Record<string, string>>;
}

interface Case {
  readonly name: string;
  readonly template: 'watcher' | 'app';
  readonly account: string;
  readonly region: string;
  readonly parameters: Readonly<Record<string, string>>;
  /** What `policy` is given: the secrets (as their IAM resources), the names, the cluster. */
  readonly input: PolicyInput;
}

const WATCHER_ROLES: Record<string, RoleSpec> = {
  WatcherRole: { trust: 'ecs-task-trust-policy.json', policies: { watcher: 'watcher-policy.json' } },
  ExecutionRole: { trust: 'ecs-task-trust-policy.json', policies: { execution: 'execution-role-policy.json' } },
  TriggerRole: { trust: 'scheduler-trust-policy.json', policies: { 'run-watcher': 'scheduler-policy.json' } },
};
const APP_ROLES: Record<string, RoleSpec> = {
  TaskRole: { trust: 'ecs-task-trust-policy.json', policies: { 'secrets-read': 'secrets-read-policy.json' } },
  ExecutionRole: { trust: 'ecs-task-trust-policy.json', policies: { execution: 'execution-role-policy.json' } },
};

/** The watcher stack's names: `policy`'s, except the execution role and log group, which carry -watcher so that
 * an app stack with the same prefix (PREFIX-execution, /ecs/PREFIX) does not collide with them. */
function watcherNames(prefix: string, repository: string): DeployNames {
  const names = deployNames(prefix, { repositories: [repository], logGroup: `/ecs/${prefix}-watcher` });
  return { ...names, executionRole: `${prefix}-watcher-execution` };
}

/**
 * SecretNamePrefix: every secret whose name starts with the prefix. `policy` takes exact secrets only, so this is
 * the one resource pattern the test writes itself (Secrets Manager appends `-` and six characters to the name, so
 * `prefix*` covers exactly the names that start with the prefix).
 */
function namePrefixResource(prefix: string, account: string, region: string): SecretResource {
  const arnPattern = `arn:${partitionOf(region)}:secretsmanager:${region}:${account}:secret:${prefix}*`;
  return { id: `${prefix}*`, arnPattern, account, region };
}

const arn = (region: string, account: string, name: string) =>
  `arn:${partitionOf(region)}:secretsmanager:${region}:${account}:secret:${name}`;

function watcherCase(
  name: string,
  where: { account: string; region: string },
  secrets: { arns: string[] } | { prefix: string },
  repository = 'secrets-init',
): Case {
  const location = where;
  const byArns = 'arns' in secrets;
  const watched = byArns
    ? secrets.arns.map((a) => secretResource(a, location))
    : [namePrefixResource(secrets.prefix, where.account, where.region)];
  return {
    name,
    template: 'watcher',
    ...where,
    parameters: {
      Prefix: 'pfx',
      Cluster: 'clu',
      ...(byArns ? { SecretArns: secrets.arns.join(',') } : { SecretNamePrefix: secrets.prefix }),
      InitImage: `${where.account}.dkr.ecr.${where.region}.amazonaws.com/${repository}:1`,
      ...(repository !== 'secrets-init' && { InitRepository: repository }),
      Subnets: 'subnet-1,subnet-2',
      SecurityGroups: 'sg-1',
    },
    input: {
      location,
      names: watcherNames('pfx', repository),
      secrets: watched,
      watchedSecrets: watched,
      parameters: [],
      watchesParameters: false,
      clusters: ['clu'],
      stateKey: secretResource('pfx/watcher-state-key', location),
    },
  };
}

function appCase(name: string, where: { account: string; region: string }, arns: string[]): Case {
  const secrets = arns.map((a) => secretResource(a, where));
  return {
    name,
    template: 'app',
    ...where,
    parameters: {
      Prefix: 'pfx',
      Cluster: 'clu',
      SecretArns: arns.join(','),
      AppImage: 'app:1',
      AppRepository: 'app-repo',
      InitImage: 'init:1',
      Subnets: 'subnet-1',
      SecurityGroups: 'sg-1',
    },
    input: {
      location: where,
      names: deployNames('pfx', { repositories: ['secrets-init', 'app-repo'] }),
      secrets,
      watchedSecrets: secrets,
      parameters: [],
      watchesParameters: false,
      clusters: [],
    },
  };
}

const US = { account: '111122223333', region: 'us-east-1' };
const EU = { account: '444455556666', region: 'eu-west-1' };
const CN = { account: '777788889999', region: 'cn-north-1' };

const CASES: Case[] = [
  watcherCase('one secret by ARN', US, { arns: [arn(US.region, US.account, 'acme/prod/app-AbCdEf')] }),
  watcherCase(
    'two secrets by ARN, another repository',
    EU,
    { arns: [arn(EU.region, EU.account, 'a-AbCdEf'), arn(EU.region, EU.account, 'b/c-123456')] },
    'team/secrets-init',
  ),
  watcherCase('secrets by name prefix', US, { prefix: 'acme/prod/' }),
  watcherCase('the aws-cn partition', CN, { arns: [arn(CN.region, CN.account, 'acme/app-AbCdEf')] }),
  appCase('one secret', US, [arn(US.region, US.account, 'acme/prod/app-AbCdEf')]),
  appCase('two secrets', EU, [arn(EU.region, EU.account, 'a-AbCdEf'), arn(EU.region, EU.account, 'b/c-123456')]),
  appCase('the aws-cn partition', CN, [arn(CN.region, CN.account, 'acme/app-AbCdEf')]),
];

/** The expected document as the template would spell it: the stack's values written back as `${...}`. */
function asTemplate(doc: PolicyDocument, c: Case): string {
  const partition = partitionOf(c.region);
  let text = formatJson(doc).replaceAll(`arn:${partition}:`, 'arn:${AWS::Partition}:');
  const values: [string, string][] = [
    [c.account, '${AWS::AccountId}'],
    [c.region, '${AWS::Region}'],
    [`:cluster/${c.parameters.Cluster}`, ':cluster/${Cluster}'],
    [`:service/${c.parameters.Cluster}/`, ':service/${Cluster}/'],
    [`${c.parameters.Prefix}-`, '${Prefix}-'],
    [`/${c.parameters.Prefix}"`, '/${Prefix}"'],
    [`:secret:${c.parameters.Prefix}/`, ':secret:${Prefix}/'],
  ];
  for (const [value, variable] of values) text = text.replaceAll(value, variable);
  return text;
}

const TEMPLATES = {
  watcher: { path: 'manifests/cloudformation/watcher.yaml', roles: WATCHER_ROLES },
  app: { path: 'manifests/cloudformation/app.yaml', roles: APP_ROLES },
};

describe('the templates grant exactly what `secrets-init policy` computes', () => {
  for (const c of CASES) {
    const { path, roles } = TEMPLATES[c.template];
    it(`${path}: ${c.name}`, () => {
      const stack = evaluateStack(readTemplate(join(ROOT, path)), {
        account: c.account,
        region: c.region,
        stackName: 'stack',
        parameters: c.parameters,
      });
      const expected = buildPolicies(c.input);
      const actualRoles = resourcesOfType(stack, 'AWS::IAM::Role');
      assert.deepEqual(
        Object.keys(actualRoles).sort(),
        Object.keys(roles).sort(),
        `${path}: its roles; a new role needs its policies from buildPolicies, listed in this test`,
      );
      for (const [id, spec] of Object.entries(roles)) {
        const role = actualRoles[id]!;
        const where = `${path} Resources.${id}`;
        assert.deepEqual(
          Object.keys(role).filter(
            (k) => !['RoleName', 'Description', 'AssumeRolePolicyDocument', 'Policies'].includes(k),
          ),
          [],
          `${where}: grants only through its inline policies (no managed policies, no boundary to keep equal)`,
        );
        const documents: [string, Json, string][] = [
          ['AssumeRolePolicyDocument', role.AssumeRolePolicyDocument!, spec.trust],
          ...((role.Policies ?? []) as JsonObject[]).map(
            (p) =>
              [
                `Policies[PolicyName=${p.PolicyName}].PolicyDocument`,
                p.PolicyDocument!,
                spec.policies[String(p.PolicyName)]!,
              ] as [string, Json, string],
          ),
        ];
        assert.deepEqual(
          ((role.Policies ?? []) as JsonObject[]).map((p) => p.PolicyName).sort(),
          Object.keys(spec.policies).sort(),
          `${where}: its inline policies`,
        );
        for (const [field, actual, file] of documents) {
          const want = expected[file];
          assert.ok(want, `buildPolicies made no ${file} for this input`);
          assert.deepEqual(
            iamCanonical(actual),
            iamCanonical(want as unknown as Json),
            `${where}.Properties.${field} is not what \`secrets-init policy\` computes (ops/policy.ts buildPolicies, ` +
              `its ${file}) for the ${c.name} stack.\n` +
              `The template is written by hand and this test is what keeps it least-privilege. If buildPolicies ` +
              `changed (a new permission for the watcher, SSM parameters, a renamed Sid), edit ${field} of ` +
              `Resources.${id} in ${path} to this (values of the stack written back as \${...}; secrets come from ` +
              `SecretArns or SecretNamePrefix):\n${asTemplate(want, c)}\n` +
              'If the template changed on purpose, change buildPolicies instead (and regenerate iam/ with ' +
              '`node dist/secrets-init.mjs policy --config examples/secrets-init.yaml --account 123456789012 ' +
              '--region us-east-1 --out iam`).',
          );
        }
      }
    });
  }
});
