import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type InjectOptions, injectInitContainer } from '../../ops/inject.ts';
import { parseTaskDefinitionInput, READ_ONLY_FIELDS } from '../../ops/inject-input.ts';
import { lintTaskDefinition } from '../../ops/inject-lint.ts';
import { UsageError } from '../../shared/errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: fixtures are free-form JSON that the cases reach into
type Obj = Record<string, any>;
const MANIFEST = JSON.parse(
  readFileSync(new URL('../../manifests/ecs/app-task-definition.json', import.meta.url), 'utf8'),
) as Obj;
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/secrets-init:0.1.0';
const OPTS: InjectOptions = {
  image: IMAGE,
  secretNames: ['short-cut/prod/app'],
  region: 'us-east-1',
  required: ['OPENAI_API_KEY', 'PINECONE_API_KEY', 'APP_SECRET_KEY'],
};
/** For images that contain the script but do not run it as their ENTRYPOINT. */
const WRAP: InjectOptions = { ...OPTS, wrapEntrypoint: true };
const LOGS = {
  logDriver: 'awslogs',
  options: { 'awslogs-group': '/ecs/short-cut', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'api' },
};

/** The short-cut API task definition before secrets-init: the one valid case the bad cases tweak. */
function plain(): Obj {
  return {
    family: 'short-cut-api',
    taskRoleArn: 'arn:aws:iam::123456789012:role/short-cut-task',
    executionRoleArn: 'arn:aws:iam::123456789012:role/short-cut-execution',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '512',
    memory: '1024',
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
    containerDefinitions: [
      {
        name: 'api',
        image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/short-cut:1.0.0',
        essential: true,
        user: '1000:10001',
        command: ['uvicorn', 'src.main:app', '--host', '0.0.0.0', '--port', '8000'],
        portMappings: [{ name: 'http', containerPort: 8000, protocol: 'tcp' }],
        readonlyRootFilesystem: false,
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 30,
        logConfiguration: LOGS,
      },
    ],
  };
}

/** The common case: one app container that runs its image's ENTRYPOINT and CMD (no entryPoint, no command). */
function imageOwn(): Obj {
  const td = plain();
  delete td.containerDefinitions[0].command;
  return td;
}

/** Two app containers, a firelens log router, an extra volume and fields inject does not own. */
function rich(): Obj {
  return {
    family: 'rich',
    taskRoleArn: 'arn:aws:iam::123456789012:role/rich-task',
    networkMode: 'awsvpc',
    containerDefinitions: [
      {
        name: 'log-router',
        image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable',
        essential: true,
        firelensConfiguration: { type: 'fluentbit' },
        memoryReservation: 50,
      },
      {
        name: 'web',
        image: 'web:1',
        essential: true,
        entryPoint: ['/sbin/tini', '--'],
        command: ['node', 'server.js'],
        environment: [
          { name: 'PORT', value: '8080' },
          { name: 'TOKEN_URL', value: 'https://auth.example/token' },
        ],
        mountPoints: [{ sourceVolume: 'cache', containerPath: '/cache', readOnly: false }],
        dependsOn: [{ containerName: 'log-router', condition: 'START' }],
        healthCheck: { command: ['CMD-SHELL', 'wget -qO- localhost:8080/health || exit 1'], interval: 30 },
        ulimits: [{ name: 'nofile', softLimit: 65536, hardLimit: 65536 }],
        dockerLabels: { team: 'core' },
        secrets: [{ name: 'LEGACY_DB_URL', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/db-url' }],
        memory: 512,
        logConfiguration: { logDriver: 'awsfirelens', options: { Name: 'cloudwatch' } },
      },
      {
        name: 'worker',
        image: 'worker:1',
        essential: true,
        command: ['node', 'worker.js'],
        memory: 256,
      },
    ],
    volumes: [{ name: 'cache', host: { sourcePath: '/var/cache/rich' } }],
    placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' }],
    requiresCompatibilities: ['EC2'],
    pidMode: 'task',
    tags: [{ key: 'team', value: 'core' }],
  };
}

/**
 * From the ECS service model botocore ships (installed with the aws CLI): the members of the described
 * `TaskDefinition` that `RegisterTaskDefinitionRequest` lacks, and the top level of DescribeTaskDefinition's output.
 */
function botocoreEcs(): { readOnly: string[]; describeOutput: string[] } {
  const py = [
    'import json, botocore.session',
    "m = botocore.session.get_session().get_service_model('ecs')",
    "td = m.shape_for('TaskDefinition').members",
    "reg = m.operation_model('RegisterTaskDefinition').input_shape.members",
    "out = m.operation_model('DescribeTaskDefinition').output_shape.members",
    "print(json.dumps({'readOnly': [k for k in td if k not in reg], 'describeOutput': list(out)}))",
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, `botocore (python3, installed with the aws CLI) is needed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const inject = (td: Obj, o: InjectOptions = OPTS) => {
  const r = injectInitContainer(td, o);
  return { ...r, taskDefinition: r.taskDefinition as Obj };
};
const container = (td: Obj, name: string): Obj => td.containerDefinitions.find((c: Obj) => c.name === name);

describe('inject', () => {
  it('turns the plain short-cut task definition into the committed manifest (wrapping the command)', () => {
    assert.deepEqual(inject(plain(), WRAP).taskDefinition, MANIFEST);
  });

  it("wires the common case (no entryPoint, no command: the image's own) without touching the command", () => {
    const input = imageOwn();
    const r = inject(input);
    const out = r.taskDefinition;
    assert.deepEqual(r.wired, ['api']);
    assert.deepEqual(
      out.containerDefinitions.map((c: Obj) => c.name),
      ['secrets-init', 'api'],
    );
    assert.deepEqual(out.volumes, [{ name: 'secrets' }]);
    const api = container(out, 'api');
    assert.equal(api.entryPoint, undefined, 'the image ENTRYPOINT (secrets-entrypoint) runs');
    assert.equal(api.command, undefined, 'the image CMD runs');
    assert.deepEqual(api.mountPoints, [{ sourceVolume: 'secrets', containerPath: '/run/secrets', readOnly: true }]);
    assert.deepEqual(api.dependsOn, [{ containerName: 'secrets-init', condition: 'SUCCESS' }]);
    const { mountPoints: _m, dependsOn: _d, environment: _e, ...rest } = api;
    const { environment: _ie, ...inputRest } = input.containerDefinitions[0];
    assert.deepEqual(rest, inputRest, 'every other field of the app container as it was');
    assert.deepEqual(lintTaskDefinition(out, { requiredKeys: OPTS.required }), []);
    assert.ok(r.notes.some((n) => n.includes('"api"') && n.includes("image's ENTRYPOINT must be")));
  });

  it("keeps a container's command and leaves its entryPoint unset: the image's ENTRYPOINT runs the command", () => {
    const out = inject(plain()).taskDefinition;
    assert.equal(container(out, 'api').entryPoint, undefined);
    assert.deepEqual(container(out, 'api').command, plain().containerDefinitions[0].command);
    const { entryPoint: _, ...manifestApi } = container(MANIFEST, 'api');
    assert.deepEqual(container(out, 'api'), manifestApi, 'the committed manifest without its explicit entryPoint');
  });

  it('treats an empty entryPoint as none (Docker and ECS run the image ENTRYPOINT)', () => {
    const td = imageOwn();
    td.containerDefinitions[0].entryPoint = [];
    assert.deepEqual(container(inject(td).taskDefinition, 'api').entryPoint, []);
    const withCommand = plain();
    withCommand.containerDefinitions[0].entryPoint = [];
    assert.deepEqual(container(inject(withCommand, WRAP).taskDefinition, 'api').entryPoint, [
      '/usr/local/bin/secrets-entrypoint',
    ]);
  });

  it('leaves the committed manifest exactly as it is, key order included', () => {
    const out = inject(MANIFEST, {}).taskDefinition;
    assert.equal(JSON.stringify(out), JSON.stringify(MANIFEST));
  });

  const inputs: [string, () => Obj, InjectOptions][] = [
    ['a plain Fargate task definition', plain, OPTS],
    ['a plain Fargate task definition, wrapped', plain, WRAP],
    ["the image's own ENTRYPOINT and CMD", imageOwn, OPTS],
    ['several app containers', rich, { ...WRAP, containers: ['web', 'worker'] }],
    ['an EC2 task definition without task memory', rich, { ...OPTS, containers: ['worker'] }],
    ['no SECRETS_REQUIRED', plain, { ...OPTS, required: undefined }],
  ];
  for (const [what, make, options] of inputs) {
    it(`is idempotent on ${what}`, () => {
      const once = inject(make(), options).taskDefinition;
      const twice = inject(once, options).taskDefinition;
      assert.equal(JSON.stringify(twice), JSON.stringify(once));
      const bare = inject(once, {}).taskDefinition;
      assert.equal(JSON.stringify(bare), JSON.stringify(once), 'a re-run without flags changes nothing either');
    });
  }

  it('does not modify its input', () => {
    const input = rich();
    const before = JSON.stringify(input);
    inject(input, { ...WRAP, containers: ['web'] });
    assert.equal(JSON.stringify(input), before);
  });

  it('keeps every field it does not own, in its place', () => {
    const input = rich();
    const out = inject(input, { ...WRAP, containers: ['web', 'worker'] }).taskDefinition;
    assert.deepEqual(Object.keys(out), [...Object.keys(input)], 'top-level keys and their order');
    for (const key of Object.keys(input)) {
      if (key === 'containerDefinitions' || key === 'volumes') continue;
      assert.deepEqual(out[key], input[key], key);
    }
    assert.deepEqual(out.volumes[0], input.volumes[0], 'the other volume');
    assert.deepEqual(
      out.containerDefinitions.slice(1).map((c: Obj) => c.name),
      input.containerDefinitions.map((c: Obj) => c.name),
      'containers keep their order after the init container',
    );
    const OWNED = ['entryPoint', 'environment', 'mountPoints', 'dependsOn'];
    for (const before of input.containerDefinitions as Obj[]) {
      const after = container(out, before.name);
      assert.deepEqual(Object.keys(after).slice(0, Object.keys(before).length), Object.keys(before), before.name);
      for (const [k, v] of Object.entries(before)) {
        if (OWNED.includes(k)) {
          // Lists inject extends keep their entries, in order, first.
          if (k !== 'entryPoint') assert.deepEqual(after[k].slice(0, v.length), v, `${before.name}.${k}`);
        } else assert.deepEqual(after[k], v, `${before.name}.${k}`);
      }
    }
    assert.deepEqual(container(out, 'log-router'), input.containerDefinitions[0], 'the log router is not wired');
  });

  it('puts the entrypoint in front of an existing entry point when told to wrap', () => {
    const out = inject(rich(), { ...WRAP, containers: ['web'] }).taskDefinition;
    assert.deepEqual(container(out, 'web').entryPoint, ['/usr/local/bin/secrets-entrypoint', '/sbin/tini', '--']);
    assert.deepEqual(container(out, 'web').command, ['node', 'server.js']);
  });

  it('wires several app containers, each waiting for the init container', () => {
    const out = inject(rich(), { ...WRAP, containers: ['web', 'worker'] }).taskDefinition;
    for (const name of ['web', 'worker']) {
      const c = container(out, name);
      assert.deepEqual(c.dependsOn.at(-1), { containerName: 'secrets-init', condition: 'SUCCESS' }, name);
      assert.deepEqual(c.mountPoints.at(-1), {
        sourceVolume: 'secrets',
        containerPath: '/run/secrets',
        readOnly: true,
      });
      assert.equal(c.entryPoint[0], '/usr/local/bin/secrets-entrypoint');
    }
    assert.deepEqual(lintTaskDefinition(out), []);
  });

  it('remembers the wired containers on a re-run without --container', () => {
    const once = inject(rich(), { ...WRAP, containers: ['web', 'worker'] });
    const again = inject(once.taskDefinition, {});
    assert.deepEqual(again.wired, ['web', 'worker']);
  });

  it('adds a container to an already wired task definition', () => {
    const once = inject(rich(), { ...WRAP, containers: ['web'] }).taskDefinition;
    assert.equal(container(once, 'worker').dependsOn, undefined);
    const more = inject(once, { containers: ['worker'] });
    assert.deepEqual(more.wired, ['web', 'worker']);
  });

  it('updates what it owns on a re-run with new flags, and nothing else', () => {
    const once = inject(plain()).taskDefinition;
    const next = inject(once, { image: `${IMAGE.replace('0.1.0', '0.2.0')}`, secretNames: ['a', 'b'] }).taskDefinition;
    const init = container(next, 'secrets-init');
    assert.equal(init.image.endsWith(':0.2.0'), true);
    assert.deepEqual(
      init.environment.find((e: Obj) => e.name === 'SECRET_NAME'),
      { name: 'SECRET_NAME', value: 'a,b' },
    );
    init.image = IMAGE;
    init.environment.find((e: Obj) => e.name === 'SECRET_NAME').value = 'short-cut/prod/app';
    assert.equal(JSON.stringify(next), JSON.stringify(once));
  });

  it('makes the init container not essential, non-root, read-only, writing the volume', () => {
    const init = container(inject(plain()).taskDefinition, 'secrets-init');
    assert.equal(init.essential, false);
    assert.equal(init.user, '65532:10001');
    assert.equal(init.readonlyRootFilesystem, true);
    assert.deepEqual(init.command, ['render']);
    assert.deepEqual(init.mountPoints, [{ sourceVolume: 'secrets', containerPath: '/run/secrets', readOnly: false }]);
    assert.deepEqual(init.logConfiguration, LOGS, 'logs where the app logs');
    assert.equal(init.secrets, undefined);
  });

  it('limits the memory of the init container when the task has no task-level memory', () => {
    const out = inject(rich(), { ...OPTS, containers: ['worker'] }).taskDefinition;
    assert.equal(container(out, 'secrets-init').memory, 256);
    assert.equal(container(inject(plain()).taskDefinition, 'secrets-init').memory, undefined);
  });

  it('notes what the operator should check, naming no value', () => {
    const r = inject(rich(), { ...WRAP, containers: ['web', 'worker'] });
    assert.ok(r.notes.some((n) => n.includes('"worker"') && n.includes('ENTRYPOINT')));
    assert.ok(r.notes.some((n) => n.includes('"web"') && n.includes('ECS "secrets"')));
    assert.ok(!r.notes.join('\n').includes('parameter/db-url'));
  });

  it('notes an app container without a user: the image user must be in the files group', () => {
    const td = plain();
    const app = (td.containerDefinitions as Record<string, unknown>[]).find((c) => c.name === 'api')!;
    delete app.user;
    const r = inject(td);
    assert.ok(r.notes.some((n) => n.includes('"api"') && n.includes('no "user" set') && n.includes('10001')));
  });

  it('fixes a dependsOn on the init container to SUCCESS and its mount to read-only', () => {
    const td = inject(plain()).taskDefinition;
    const api = container(td, 'api');
    api.dependsOn[0].condition = 'START';
    api.mountPoints[0].readOnly = false;
    const out = inject(td, {}).taskDefinition;
    assert.equal(container(out, 'api').dependsOn[0].condition, 'SUCCESS');
    assert.equal(container(out, 'api').mountPoints[0].readOnly, true);
  });

  it('names containers in problems by their place in the input, not in its output', () => {
    const problem = (td: Obj, o: InjectOptions) => {
      try {
        inject(td, o);
      } catch (err) {
        return (err as Error).message;
      }
      return assert.fail('expected a refusal');
    };
    const td = rich(); // log-router [0], web [1], worker [2]; the init container will be added in front
    td.containerDefinitions[2].environment = [{ name: 'DB_PASSWORD', value: 'x' }];
    assert.match(
      problem(td, { ...OPTS, containers: ['worker'] }),
      /containerDefinitions\[2\] "worker"\.environment\[0\]: "DB_PASSWORD" looks like a secret/,
    );
    // Already wired (the init container is in the input at [0]): the input's numbers are the output's.
    const wired = inject(plain()).taskDefinition;
    container(wired, 'api').environment.push({ name: 'DB_PASSWORD', value: 'x' });
    assert.match(problem(wired, {}), /containerDefinitions\[1\] "api"\.environment\[1\]: "DB_PASSWORD"/);
  });

  it('accepts a name that only looks like a secret when told so', () => {
    const td = plain();
    td.containerDefinitions[0].environment = [{ name: 'PUBLIC_API_KEY', value: 'pk_live_is_public' }];
    assert.throws(() => inject(td), /PUBLIC_API_KEY.*looks like a secret/s);
    assert.doesNotThrow(() => inject(td, { ...OPTS, allowEnv: ['PUBLIC_API_KEY'] }));
  });
});

describe('inject refuses what it cannot wire', () => {
  const cases: [string, (td: Obj) => void, InjectOptions, RegExp][] = [
    ['no containers', (td) => (td.containerDefinitions = []), OPTS, /at least one container/],
    [
      'a container without a name',
      (td) => delete td.containerDefinitions[0].name,
      OPTS,
      /must be an object with a name/,
    ],
    [
      'two containers with one name',
      (td) => td.containerDefinitions.push({ ...td.containerDefinitions[0] }),
      OPTS,
      /"api" is used twice/,
    ],
    [
      'a foreign container named secrets-init',
      (td) => td.containerDefinitions.push({ name: 'secrets-init', image: 'x', essential: false }),
      OPTS,
      /exists but is not a secrets-init container/,
    ],
    [
      'a secrets volume with a host path',
      (td) => (td.volumes = [{ name: 'secrets', host: { sourcePath: '/srv/secrets' } }]),
      OPTS,
      /volume "secrets" exists with a host path/,
    ],
    [
      'a secrets volume on EFS',
      (td) => (td.volumes = [{ name: 'secrets', efsVolumeConfiguration: { fileSystemId: 'fs-1' } }]),
      OPTS,
      /with EFS/,
    ],
    [
      '/run/secrets mounted from another volume',
      (td) => {
        td.volumes = [{ name: 'other' }];
        td.containerDefinitions[0].mountPoints = [{ sourceVolume: 'other', containerPath: '/run/secrets' }];
      },
      OPTS,
      /already mounted from volume "other"/,
    ],
    [
      'the secrets volume mounted elsewhere',
      (td) => {
        td.volumes = [{ name: 'secrets' }];
        td.containerDefinitions[0].mountPoints = [{ sourceVolume: 'secrets', containerPath: '/secrets' }];
      },
      OPTS,
      /at \/secrets, not \/run\/secrets/,
    ],
    ['an unknown --container', () => {}, { ...OPTS, containers: ['nope'] }, /--container "nope": no such container/],
    ['--container secrets-init', () => {}, { ...OPTS, containers: ['secrets-init'] }, /that is the init container/],
    [
      'several essential containers and no --container',
      (td) => td.containerDefinitions.push({ name: 'worker', image: 'w', essential: true, command: ['w'] }),
      OPTS,
      /several app containers \(api, worker\)/,
    ],
    [
      'no essential container',
      (td) => (td.containerDefinitions[0].essential = false),
      OPTS,
      /no essential app container/,
    ],
    [
      'to wrap an app container with neither entryPoint nor command',
      (td) => delete td.containerDefinitions[0].command,
      WRAP,
      /neither entryPoint nor command; --wrap-entrypoint replaces/,
    ],
    [
      'an entryPoint that bypasses the image ENTRYPOINT, unless told to wrap',
      (td) => (td.containerDefinitions[0].entryPoint = ['/sbin/tini', '--']),
      OPTS,
      /entryPoint \("\/sbin\/tini"\) replaces the image's ENTRYPOINT.*--wrap-entrypoint/,
    ],
    [
      'a Windows task',
      (td) => (td.runtimePlatform.operatingSystemFamily = 'WINDOWS_SERVER_2022_CORE'),
      OPTS,
      /Windows tasks are not supported/,
    ],
    [
      'a secret in plain environment',
      (td) => (td.containerDefinitions[0].environment = [{ name: 'OPENAI_API_KEY', value: 'sk-live' }]),
      OPTS,
      /"OPENAI_API_KEY" looks like a secret/,
    ],
    [
      'a required key in plain environment, whatever its name',
      (td) => (td.containerDefinitions[0].environment = [{ name: 'MILVUS_HOST', value: 'h' }]),
      { ...OPTS, required: ['MILVUS_HOST'] },
      /"MILVUS_HOST" looks like a secret/,
    ],
    [
      'an app SECRETS_DIR pointing elsewhere',
      (td) => (td.containerDefinitions[0].environment = [{ name: 'SECRETS_DIR', value: '/secrets' }]),
      OPTS,
      /SECRETS_DIR is "\/secrets"/,
    ],
    ['no --image', () => {}, { ...OPTS, image: undefined }, /--image is required/],
    ['no --secret-name', () => {}, { ...OPTS, secretNames: undefined }, /--secret-name is required/],
    ['no --region', () => {}, { ...OPTS, region: undefined }, /--region is required/],
    ['a named init user', () => {}, { ...OPTS, initUser: 'node' }, /must be numeric uid:gid/],
    ['a world-readable file mode', () => {}, { ...OPTS, fileMode: '0444' }, /no access for others/],
    ['a secret name with a comma', () => {}, { ...OPTS, secretNames: ['a,b'] }, /comma or space/],
    [
      'mountPoints that is not a list',
      (td) => (td.containerDefinitions[0].mountPoints = { sourceVolume: 'x' }),
      OPTS,
      /mountPoints must be a list/,
    ],
  ];
  for (const [what, tweak, options, message] of cases) {
    it(`refuses ${what}`, () => {
      const td = plain();
      tweak(td);
      assert.throws(
        () => inject(td, options),
        (err: unknown) => err instanceof UsageError && message.test(err.message),
      );
    });
  }
});

describe('parseTaskDefinitionInput', () => {
  const described = () => ({
    taskDefinition: {
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/short-cut-api:4',
      ...plain(),
      revision: 4,
      status: 'ACTIVE',
      requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.task-iam-role' }],
      compatibilities: ['EC2', 'FARGATE'],
      registeredAt: '2026-01-02T03:04:05.000Z',
      deregisteredAt: '2026-02-02T03:04:05.000Z',
      // a revision being deleted still describes; register refuses the field
      deleteRequestedAt: '2026-03-02T03:04:05.000Z',
      registeredBy: 'arn:aws:sts::123456789012:assumed-role/deployer/ci',
    },
    tags: [{ key: 'team', value: 'core' }],
  });

  it('turns describe-task-definition output into a register input', () => {
    const { taskDefinition, from } = parseTaskDefinitionInput(JSON.stringify(described()), 'stdin');
    assert.equal(from, 'describe');
    assert.deepEqual(taskDefinition, { ...plain(), tags: [{ key: 'team', value: 'core' }] });
  });

  it("drops exactly the fields of ECS's TaskDefinition shape that RegisterTaskDefinition does not take (botocore)", () => {
    const model = botocoreEcs();
    assert.deepEqual([...READ_ONLY_FIELDS].sort(), model.readOnly.sort());
    assert.deepEqual(model.describeOutput.sort(), ['tags', 'taskDefinition'], 'the top level inject accepts');
  });

  it('accepts the bare taskDefinition object (--query taskDefinition)', () => {
    const { taskDefinition } = parseTaskDefinitionInput(JSON.stringify(described().taskDefinition), 'stdin');
    assert.deepEqual(taskDefinition, plain());
  });

  it('takes a register input as it is', () => {
    const { taskDefinition, from } = parseTaskDefinitionInput(JSON.stringify(rich()), 'f');
    assert.equal(from, 'register');
    assert.deepEqual(taskDefinition, rich());
  });

  for (const [what, text, message] of [
    ['text that is not JSON', 'family: x', /not JSON/],
    ['a JSON array', '[]', /expected a JSON object/],
    ['JSON without containerDefinitions', '{"family":"x"}', /no containerDefinitions/],
    ['an empty containerDefinitions', '{"containerDefinitions":[]}', /containerDefinitions is empty/],
    ['a describe output with a foreign field', '{"taskDefinition":{"containerDefinitions":[{}]},"x":1}', /"x"/],
    ['a taskDefinition that is not an object', '{"taskDefinition":"arn:..."}', /must be an object/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => parseTaskDefinitionInput(text, 'in.json'),
        (err: unknown) => err instanceof UsageError && message.test(err.message) && err.message.startsWith('in.json'),
      );
    });
  }
});
