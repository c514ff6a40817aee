import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { modulesIn } from '../helpers/bundle.ts';
import { BUNDLE, ROOT, removeDir, runCli, runProcess, seedValues, tempDir } from '../helpers/cli.ts';
import { traceModules } from '../helpers/module-trace.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// What a command's start-up parses: `render` is on the critical path of every ECS task start, so it must not load
// the AWS SDK in local mode, nor the ECS or SSM client or the other commands in Secrets Manager mode. Checked on the
// sources (each file a module) and on the bundle (each chunk holds the modules its metafile lists: loading a chunk
// parses them all), and the bundle's chunks are cached by the compile cache that cli/bin.ts enables.

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

/** Where a run starts, and the modules a run parsed from the files it loaded. */
const STARTS = [
  {
    name: 'the sources (node cli/bin.ts)',
    entry: join(ROOT, 'cli', 'bin.ts'),
    parsed: (files: readonly string[]) => files,
  },
  {
    name: 'the bundle (dist/secrets-init.mjs and its chunks)',
    entry: BUNDLE,
    parsed: (files: readonly string[]) => modulesIn(files).map((m) => join(ROOT, m)),
  },
];

for (const start of STARTS) {
  describe(`start-up loads what the command needs, from ${start.name}`, () => {
    for (const c of CASES) {
      test(c.name, async () => {
        const res = await traceModules([start.entry, ...c.args], { HOME: work, ...c.env() }, { cwd: work });
        assert.equal(res.code, 0, res.stderr);
        const modules = new Set(start.parsed(res.files).map(moduleOf));
        for (const m of c.loads) assert.ok(modules.has(m), `${m} is not loaded: ${[...modules].join(' ')}`);
        for (const skip of c.skips) {
          const hit = [...modules].filter((m) => (typeof skip === 'string' ? m === skip : skip.test(m)));
          assert.deepEqual(hit, [], `loads ${skip}`);
        }
      });
    }
  });
}

describe('the compile cache', () => {
  test("the image's warm-up compiles every chunk render can load, and not the other commands' chunk", async () => {
    const cache = join(work, 'warm-cache');
    const res = await runProcess(
      process.execPath,
      [join(ROOT, 'scripts', 'warm-compile-cache.mjs'), dirname(BUNDLE)],
      { PATH: process.env.PATH, NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      { cwd: work },
    );
    assert.equal(res.code, 0, res.stderr);
    const compiled = [...res.stderr.matchAll(/V8 code cache for ESM file:\/\/\S+\/chunks\/(\S+) was not initialized/g)];
    const chunks = readdirSync(join(dirname(BUNDLE), 'chunks'));
    const others = chunks.filter((c) => c.startsWith('other-commands-'));
    assert.equal(others.length, 1, `the other commands' chunk: ${chunks.join(' ')}`);
    assert.deepEqual(compiled.map((m) => m[1]).sort(), chunks.filter((c) => !others.includes(c)).sort());
  });

  test("the bundle run without NODE_COMPILE_CACHE caches its chunks for the next run (cli/bin.ts enables Node's cache first)", async () => {
    // Node's default cache directory is under os.tmpdir(), i.e. TMPDIR: one of this test's own.
    const env = { TMPDIR: join(work, 'tmp'), NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    mkdirSync(env.TMPDIR);
    const first = await runCli(['render', '--help'], env, { cwd: work, start: 'bundle' });
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(['render', '--help'], env, { cwd: work, start: 'bundle' });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /V8 code cache for ESM file:\/\/\S+\/chunks\/start-\w+\.mjs was accepted/);
  });
});
