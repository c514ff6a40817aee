import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { deployNames } from '../../ops/policy-names.ts';
import { ROOT } from '../helpers/cli.ts';
import { assertValidRequests, type ServiceRequest, validateRequests } from '../helpers/service-model.ts';

// Every request body the project ships, judged by the AWS service models (botocore) rather than by moto, which
// stores unknown keys and values AWS refuses. Each file is sent the way docs/deploy-by-hand.md sends it:
// `--cli-input-json` takes the file as the parameters; `file://` passes its text as one string parameter.

const names = deployNames('short-cut');
const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const json = (path: string): Record<string, unknown> => JSON.parse(text(path));

/** Every JSON file under manifests/ and iam/, by path, with the requests that carry it. */
const SHIPPED: Record<string, (path: string) => ServiceRequest[]> = {
  'manifests/ecs/app-task-definition.json': (p) => [cliInput(p, 'ecs', 'RegisterTaskDefinition')],
  'manifests/ecs/watcher-task-definition.json': (p) => [cliInput(p, 'ecs', 'RegisterTaskDefinition')],
  'manifests/scheduler/watcher-schedule.json': (p) => [cliInput(p, 'scheduler', 'CreateSchedule')],
  'manifests/events/secret-rotation-pattern.json': (p) => [
    request(p, 'events', 'PutRule', { Name: names.ruleName, State: 'ENABLED', EventPattern: text(p) }),
  ],
  'manifests/events/secret-rotation-targets.json': (p) => [
    request(p, 'events', 'PutTargets', { Rule: names.ruleName, Targets: json(p) }),
  ],
  'iam/ecs-task-trust-policy.json': (p) =>
    [names.taskRole, names.executionRole, names.watcherRole].map((RoleName) =>
      request(`${p} (${RoleName})`, 'iam', 'CreateRole', { RoleName, AssumeRolePolicyDocument: text(p) }),
    ),
  'iam/scheduler-trust-policy.json': (p) => [
    request(p, 'iam', 'CreateRole', { RoleName: names.triggerRole, AssumeRolePolicyDocument: text(p) }),
  ],
  'iam/secrets-read-policy.json': (p) => [rolePolicy(p, names.taskRole, 'secrets-read')],
  'iam/execution-role-policy.json': (p) => [rolePolicy(p, names.executionRole, 'execution')],
  'iam/watcher-policy.json': (p) => [rolePolicy(p, names.watcherRole, 'watcher')],
  'iam/scheduler-policy.json': (p) => [rolePolicy(p, names.triggerRole, 'run-watcher')],
  // An AWS Organizations service control policy: `aws organizations create-policy --content file://...`
  'manifests/scp/reserve-secrets-init-tags.json': (p) => [
    request(p, 'organizations', 'CreatePolicy', {
      Name: 'reserve-secrets-init-tags',
      Description: 'Only the watcher writes secrets-init/fingerprint; only deployers write secrets-init/secrets',
      Type: 'SERVICE_CONTROL_POLICY',
      Content: text(p),
    }),
  ],
  // The shape of the app's secret: docs/deploy-by-hand.md fills a copy and passes it as --secret-string file://...
  'iam/secret-structure-example.json': (p) => [
    request(p, 'secretsmanager', 'CreateSecret', { Name: 'short-cut/prod/app', SecretString: text(p) }),
  ],
};

function request(name: string, service: string, operation: string, params: unknown): ServiceRequest {
  return { name, service, operation, params };
}
function cliInput(path: string, service: string, operation: string): ServiceRequest {
  return request(path, service, operation, json(path));
}
function rolePolicy(path: string, RoleName: string, PolicyName: string): ServiceRequest {
  return request(path, 'iam', 'PutRolePolicy', { RoleName, PolicyName, PolicyDocument: text(path) });
}

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

describe('the service models judge a request (botocore plus the constraints it leaves to AWS)', () => {
  const schedule = json('manifests/scheduler/watcher-schedule.json');
  const task = { family: 'x', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] };
  const cases: { what: string; req: ServiceRequest; error: RegExp }[] = [
    {
      what: 'an unknown key (the Scheduler API spells awsvpcConfiguration in lower camel case)',
      req: request('bad', 'scheduler', 'CreateSchedule', {
        ...schedule,
        Target: {
          Arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
          RoleArn: 'arn:aws:iam::123456789012:role/r',
          EcsParameters: {
            TaskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/t',
            NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-1'] } },
          },
        },
      }),
      error: /Unknown parameter in Target\.EcsParameters\.NetworkConfiguration: "AwsvpcConfiguration"/,
    },
    {
      what: 'a missing required member',
      req: request('bad', 'ecs', 'RegisterTaskDefinition', { family: 'x' }),
      error: /Missing required parameter.*containerDefinitions/,
    },
    {
      what: 'a value outside an enum',
      req: request('bad', 'ecs', 'RegisterTaskDefinition', { ...task, requiresCompatibilities: ['fargate'] }),
      error: /requiresCompatibilities\[0\]: 'fargate' is not one of/,
    },
    {
      what: 'more list items than the model allows (51 tags)',
      req: request('bad', 'ecs', 'RegisterTaskDefinition', {
        ...task,
        tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })),
      }),
      error: /tags: 51 items, at most 50/,
    },
    {
      what: 'a string longer than the model allows (a 257-character tag value)',
      req: request('bad', 'ecs', 'RegisterTaskDefinition', { ...task, tags: [{ key: 'k', value: 'v'.repeat(257) }] }),
      error: /tags\[0\]\.value: length 257, at most 256/,
    },
    {
      what: 'a string outside the pattern (a comma in a tag value)',
      req: request('bad', 'ecs', 'RegisterTaskDefinition', { ...task, tags: [{ key: 'k', value: 'a,b' }] }),
      error: /tags\[0\]\.value: does not match the pattern/,
    },
    {
      what: 'an Organizations policy type outside the enum',
      req: request('bad', 'organizations', 'CreatePolicy', {
        Name: 'p',
        Description: '',
        Type: 'SCP',
        Content: '{}',
      }),
      error: /Type: 'SCP' is not one of/,
    },
    {
      what: 'a wrong type',
      req: request('bad', 'ecs', 'RegisterTaskDefinition', { ...task, cpu: 256 }),
      error: /Invalid type for parameter cpu/,
    },
  ];
  const verdicts = validateRequests([
    ...cases.map((c) => c.req),
    request('good', 'ecs', 'RegisterTaskDefinition', task),
  ]);
  for (const [i, c] of cases.entries()) {
    it(`refuses ${c.what}`, () => {
      assert.match(verdicts[i]!.errors.join('\n'), c.error);
    });
  }
  it('accepts a valid request', () => {
    assert.deepEqual(verdicts.at(-1)!.errors, []);
  });
});

describe('every request body the project ships', () => {
  it('has its request listed here (a new file under manifests/ or iam/ needs a line)', () => {
    assert.deepEqual([...jsonFilesUnder('manifests'), ...jsonFilesUnder('iam')].sort(), Object.keys(SHIPPED).sort());
  });

  it('is accepted by the AWS service models, sent the way docs/deploy-by-hand.md sends it', () => {
    assertValidRequests(Object.entries(SHIPPED).flatMap(([path, toRequests]) => toRequests(path)));
  });
});
