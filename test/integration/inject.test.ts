import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { parseTaskDefinitionInput } from '../../ops/inject-input.ts';
import { lintTaskDefinition } from '../../ops/inject-lint.ts';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { assertValidRequests } from '../helpers/service-model.ts';

// biome-ignore lint/suspicious/noExplicitAny: task definitions are free-form JSON the checks reach into
type Obj = Record<string, any>;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/secrets-init:0.1.0';
const FLAGS = ['--image', IMAGE, '--secret-name', 'short-cut/prod/app', '--region', 'us-east-1'];

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

/** The real CLI in a child process, the task definition on stdin, as an operator pipes it. */
function injectCli(input: string, flags: string[]): Obj {
  const r = spawnSync(process.execPath, ['cli/bin.ts', 'inject', ...flags], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const fixtures: { what: string; td: Obj; flags: string[] }[] = [
  {
    what: 'a Fargate app with one container',
    flags: FLAGS,
    td: {
      family: 'inject-fargate',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'api',
          image: 'api:1',
          essential: true,
          user: '1000:10001',
          command: ['serve'],
          portMappings: [{ containerPort: 8000, protocol: 'tcp' }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': '/ecs/x', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'x' },
          },
        },
      ],
      tags: [{ key: 'team', value: 'core' }],
    },
  },
  {
    what: "the common case: one container running its image's own ENTRYPOINT and CMD",
    flags: FLAGS,
    td: {
      family: 'inject-image-own',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'api', image: 'api:1', essential: true, user: '1000:10001' }],
    },
  },
  {
    what: 'an EC2 task with several app containers, a sidecar and a host volume',
    flags: [...FLAGS, '--container', 'web,worker', '--required', 'OPENAI_API_KEY', '--wrap-entrypoint'],
    td: {
      family: 'inject-ec2',
      networkMode: 'bridge',
      requiresCompatibilities: ['EC2'],
      volumes: [{ name: 'cache', host: { sourcePath: '/var/cache/x' } }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.os-type == linux' }],
      containerDefinitions: [
        { name: 'proxy', image: 'envoy:1', essential: true, memory: 128 },
        {
          name: 'web',
          image: 'web:1',
          essential: true,
          memory: 256,
          entryPoint: ['/sbin/tini', '--'],
          command: ['node', 'server.js'],
          mountPoints: [{ sourceVolume: 'cache', containerPath: '/cache', readOnly: false }],
          dependsOn: [{ containerName: 'proxy', condition: 'START' }],
          environment: [{ name: 'PORT', value: '8080' }],
        },
        { name: 'worker', image: 'worker:1', essential: true, memory: 256, command: ['node', 'worker.js'] },
      ],
    },
  },
];

describe('inject output in moto', () => {
  let moto: Moto;
  let proxy: AwsProxy;
  let ecs: ECSClient;
  before(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    ecs = new ECSClient(clientOptions(proxy.endpoint));
  });
  after(async () => {
    ecs?.destroy();
    await proxy?.close();
    await moto?.stop();
  });

  async function register(td: Obj): Promise<Obj> {
    proxy.resetCounts();
    await ecs.send(new RegisterTaskDefinitionCommand(td as RegisterTaskDefinitionCommandInput));
    const [body] = proxy.bodies('RegisterTaskDefinition');
    const sorted = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sorted)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .sort()
                .map(([k, x]) => [k, sorted(x)]),
            )
          : v;
    assert.equal(
      JSON.stringify(sorted(JSON.parse(body ?? '{}')), null, 1),
      JSON.stringify(sorted(td), null, 1),
      'every field is a register-task-definition field',
    );
    const described = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: td.family, include: ['TAGS'] }),
    );
    // What `aws ecs describe-task-definition --include TAGS` prints: the SDK output less its $metadata.
    const { $metadata: _, ...printed } = described;
    return JSON.parse(JSON.stringify(printed)) as Obj;
  }

  for (const f of fixtures) {
    it(`wires ${f.what} from describe-task-definition output, registers it and round-trips`, async () => {
      const described = await register(f.td);
      const out = injectCli(JSON.stringify(described), f.flags);
      assert.deepEqual(lintTaskDefinition(out), []);
      // What inject prints is a register-task-definition input by the service model, not only by moto.
      assertValidRequests([
        { name: `inject output for ${f.what}`, service: 'ecs', operation: 'RegisterTaskDefinition', params: out },
      ]);
      const again = await register(out);
      assertContains(again.taskDefinition, Object.fromEntries(Object.entries(out).filter(([k]) => k !== 'tags')));
      assert.deepEqual(again.tags, f.td.tags ?? []);
      const containers = again.taskDefinition.containerDefinitions as Obj[];
      const init = containers.find((c) => c.name === 'secrets-init');
      assert.equal(init?.essential, false);
      assert.deepEqual(again.taskDefinition.volumes.at(-1), { name: 'secrets' });
      const wired = containers.filter((c) => (c.dependsOn ?? []).some((d: Obj) => d.containerName === 'secrets-init'));
      assert.ok(wired.length >= 1);
      for (const c of wired) {
        assert.deepEqual(c.dependsOn.at(-1), { containerName: 'secrets-init', condition: 'SUCCESS' });
        assert.deepEqual(c.mountPoints.at(-1), {
          sourceVolume: 'secrets',
          containerPath: '/run/secrets',
          readOnly: true,
        });
      }
      // Through AWS and back: the registered revision (with the defaults ECS adds) is a fixed point.
      const twice = injectCli(JSON.stringify(again), []);
      assert.deepEqual(twice, parseTaskDefinitionInput(JSON.stringify(again), 'described').taskDefinition);
    });
  }

  it('registers the committed app manifest as inject writes it from the plain definition', async () => {
    const manifest = JSON.parse(
      spawnSync('cat', ['manifests/ecs/app-task-definition.json'], { cwd: ROOT, encoding: 'utf8' }).stdout,
    ) as Obj;
    const out = injectCli(JSON.stringify(manifest), []);
    assert.deepEqual(out, manifest);
    assertValidRequests([
      { name: 'inject output for the app manifest', service: 'ecs', operation: 'RegisterTaskDefinition', params: out },
    ]);
    const got = await register(out);
    assertContains(got.taskDefinition, out);
  });
});
