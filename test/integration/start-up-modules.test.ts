import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ROOT, removeDir, seedValues, tempDir } from '../helpers/cli.ts';
import { traceModules } from '../helpers/module-trace.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// What a command's start-up parses: `render` is on the critical path of every ECS task start, so it must not load
// the AWS SDK in local mode, nor the ECS or SSM client or the other commands in Secrets Manager mode. Checked on the
// sources (each file a module).

let moto: Moto;
let work: string;
const SECRET = 'start-up/app';
const VALUE = 'SEEDED-start-up-modules-value-3c9e';

before(async () => {
  moto = await startMoto();
  work = tempDir('secrets-init-start-up-');
  writeFileSync(join(work, '.env'), 'LOCAL_ONE=1\n');
  seedValues([VALUE]);
  const sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  try {
    await sm.send(new CreateSecretCommand({ Name: SECRET, SecretString: JSON.stringify({ APP_TOKEN: VALUE }) }));
  } finally {
    sm.destroy();
  }
});
after(async () => {
  await moto?.stop();
  if (work) removeDir(work);
});

/** A loaded file as a module name: the package under node_modules (`@aws-sdk/client-ecs`), else the project path. */
function moduleOf(file: string): string {
  const pkg = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file)?.[1];
  return pkg ? pkg.replace('\\', '/') : relative(ROOT, file);
}

const SDK = /^@(aws-sdk|smithy)\//;
const OTHER_COMMANDS = [
  'cli/watch-command.ts',
  'cli/inject-command.ts',
  'cli/policy-command.ts',
  'cli/check-command.ts',
];
const ECS_AND_SSM = ['@aws-sdk/client-ecs', '@aws-sdk/client-ssm'];

interface Case {
  /** What the test name says it checks. */
  readonly name: string;
  readonly args: readonly string[];
  readonly env: () => Record<string, string>;
  /** Modules it must load (a control that the trace sees them). */
  readonly loads: readonly string[];
  /** Modules it must not load; `SDK` is any module of the AWS SDK. */
  readonly skips: readonly (string | RegExp)[];
}

const CASES: readonly Case[] = [
  {
    name: '`render --help` loads the render command and no AWS SDK module, other command, yaml or chokidar',
    args: ['render', '--help'],
    env: () => ({}),
    loads: ['cli/render-command.ts'],
    skips: [SDK, ...OTHER_COMMANDS, 'yaml', 'chokidar'],
  },
  {
    name: '`render` in local mode loads dotenv and no AWS SDK module, other command, yaml or chokidar',
    args: ['render'],
    env: () => ({ APP_ENV: 'local', SECRETS_DIR: join(work, 'local') }),
    loads: ['cli/render-command.ts', 'dotenv'],
    skips: [SDK, ...OTHER_COMMANDS, 'yaml', 'chokidar'],
  },
  {
    name: '`render` from Secrets Manager loads its client and neither the ECS nor the SSM client nor another command',
    args: ['render'],
    env: () => ({
      ...awsEnv(moto.endpoint),
      APP_ENV: 'production',
      SECRET_NAME: SECRET,
      SECRETS_DIR: join(work, 'production'),
    }),
    loads: ['@aws-sdk/client-secrets-manager'],
    skips: [...ECS_AND_SSM, ...OTHER_COMMANDS, 'yaml', 'chokidar'],
  },
  {
    name: '`watch --help` loads the ECS client (the control: the trace sees a client when it is loaded)',
    args: ['watch', '--help'],
    env: () => ({}),
    loads: ['cli/watch-command.ts', '@aws-sdk/client-ecs'],
    skips: [],
  },
];

describe('start-up loads what the command needs, from the sources', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const res = await traceModules(
        [join(ROOT, 'cli', 'bin.ts'), ...c.args],
        { HOME: work, ...c.env() },
        { cwd: work },
      );
      assert.equal(res.code, 0, res.stderr);
      const modules = new Set(res.files.map(moduleOf));
      for (const m of c.loads) assert.ok(modules.has(m), `${m} is not loaded: ${[...modules].join(' ')}`);
      for (const skip of c.skips) {
        const hit = [...modules].filter((m) => (typeof skip === 'string' ? m === skip : skip.test(m)));
        assert.deepEqual(hit, [], `loads ${skip}`);
      }
    });
  }
});
