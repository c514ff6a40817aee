import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type CliStart,
  leakedValues,
  ROOT,
  removeDir,
  runCli,
  runProcess,
  SNAPSHOT_BLOB,
  seedValues,
  tempDir,
} from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { SEED_SECRET, SEED_SECRET_NAME, SEED_VALUES } from '../helpers/seed.ts';

// The CLI started from its V8 startup snapshot (`node --snapshot-blob dist/secrets-init.blob -- ARGS`), the variant
// the bench measures beside the bundle (docs/performance.md). Every integration test can run this way
// (TEST_CLI_START=snapshot, `npm run test:snapshot`); here is what only a snapshot can get wrong: node's own option
// parsing in front of the CLI's, and state frozen at build time (the module state of everything evaluated then)
// instead of this run's.

let moto: Moto;
let sm: SecretsManagerClient;
let work: string;

before(async () => {
  moto = await startMoto();
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  seedValues(SEED_VALUES);
  await sm.send(new CreateSecretCommand({ Name: SEED_SECRET_NAME, SecretString: JSON.stringify(SEED_SECRET) }));
});
after(async () => {
  sm.destroy();
  await moto.stop();
  assert.deepEqual(leakedValues(), [], 'a seeded secret value appeared in an output');
});
beforeEach(() => {
  work = tempDir();
});
afterEach(() => removeDir(work));

const fromSnapshot = (args: string[], env: Record<string, string>) =>
  runCli(args, env, { cwd: work, start: 'snapshot' });

/** JSON log lines of a run's stdout. */
const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('arguments: `--` ends node options, so every flag reaches the CLI', () => {
  const cases: { name: string; args: string[]; stdout: RegExp }[] = [
    { name: '--help', args: ['--help'], stdout: /^Usage: secrets-init \[COMMAND\]/ },
    { name: 'render --help', args: ['render', '--help'], stdout: /^Usage: secrets-init render/ },
    { name: 'watch --help', args: ['watch', '--help'], stdout: /^Usage: secrets-init watch/ },
    { name: 'check --help', args: ['check', '--help'], stdout: /^Usage: secrets-init check/ },
  ];
  for (const c of cases) {
    test(`${c.name} prints the CLI's usage`, async () => {
      const res = await fromSnapshot(c.args, {});
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, c.stdout);
    });
  }

  test('--app-env local renders the dotenv file of the working directory', async () => {
    writeFileSync(join(work, '.env'), 'GREETING=hello\n');
    const res = await fromSnapshot(['render', '--app-env', 'local', '--output-dir', 'out'], {});
    assert.equal(res.code, 0, res.stderr);
    assert.equal(readFileSync(join(work, 'out', 'app.env'), 'utf8'), "export GREETING='hello'\n");
  });

  test('without `--`, node takes --app-env for its own option and never starts the CLI', () => {
    // Why the image's ENTRYPOINT ends with `--`.
    const res = spawnSync(process.execPath, ['--snapshot-blob', SNAPSHOT_BLOB, '--app-env', 'local'], { cwd: work });
    assert.notEqual(res.status, 0);
    assert.match(res.stderr.toString(), /bad option: --app-env/);
  });
});

describe('a render from the snapshot writes what the bundle writes', () => {
  const render = async (start: CliStart, env: Record<string, string>) => {
    const out = join(work, start);
    const res = await runCli([], { ...env, SECRETS_DIR: out }, { cwd: work, start });
    assert.equal(res.code, 0, `${start}: ${res.stderr}`);
    const { renderedAt, files, ...meta } = JSON.parse(readFileSync(join(out, 'render.json'), 'utf8'));
    assert.ok(renderedAt);
    // app.env names the GCP key file, in the output directory: the only bytes that differ (and so its digest).
    const appEnv = readFileSync(join(out, 'app.env'), 'utf8').replaceAll(out, 'OUT');
    const { sha256, ...appEnvFile } = files['app.env'];
    assert.ok(sha256);
    return { appEnv, meta, files: { ...files, 'app.env': appEnvFile } };
  };

  test('production: the seed secret from Secrets Manager (moto)', async () => {
    const env = { ...awsEnv(moto.endpoint), APP_ENV: 'production', SECRET_NAME: SEED_SECRET_NAME };
    const bundle = await render('bundle', env);
    assert.deepEqual(await render('snapshot', env), bundle);
    assert.match(bundle.appEnv, /^export OPENAI_API_KEY=/m);
  });

  test('local: the example dotenv file', async () => {
    writeFileSync(join(work, '.env'), readFileSync(join(ROOT, 'examples', '.env')));
    const bundle = await render('bundle', { APP_ENV: 'local' });
    assert.deepEqual(await render('snapshot', { APP_ENV: 'local' }), bundle);
  });
});

describe('nothing of the build survives into a run', () => {
  /** An endpoint that records each request's headers and answers ResourceNotFoundException (render exits 3). */
  async function recordingEndpoint() {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      seen,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  test('each run has its own SDK invocation ids, its own clock in the signature and logs, and no pid or hostname', async () => {
    const server = await recordingEndpoint();
    try {
      const runs = [];
      for (let i = 0; i < 2; i++) {
        const from = Math.floor(Date.now() / 1000) * 1000;
        const res = await fromSnapshot([], {
          ...awsEnv(server.endpoint),
          APP_ENV: 'production',
          SECRET_NAME: `missing/${i}`,
          SECRETS_DIR: join(work, 'out'),
        });
        const to = Date.now();
        assert.equal(res.code, 3, res.stderr);
        runs.push({ from, to, res });
      }
      const ids = server.seen.map((h) => h['amz-sdk-invocation-id']);
      assert.equal(ids.length, 2, 'one call per run');
      assert.notEqual(ids[0], ids[1], 'invocation ids are drawn at run time, not replayed from the build');
      for (const [i, { from, to, res }] of runs.entries()) {
        // x-amz-date signs the request: a clock frozen at build time would be refused by AWS.
        const signed = String(server.seen[i]!['x-amz-date']).replace(
          /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
          '$1-$2-$3T$4:$5:$6Z',
        );
        assert.ok(Date.parse(signed) >= from && Date.parse(signed) <= to, `run ${i}: signed at ${signed}`);
        const lines = logLines(res.stdout);
        assert.ok(lines.length > 0, `run ${i}: no log line`);
        for (const line of lines) {
          const time = Date.parse(String(line.time));
          assert.ok(time >= from && time <= to, `run ${i}: logged at ${line.time}`);
          // pino's default base holds a pid and hostname read when pino is evaluated: at build time here.
          assert.equal('pid' in line, false, `run ${i}: a pid in ${JSON.stringify(line)}`);
          assert.equal('hostname' in line, false, `run ${i}: a hostname in ${JSON.stringify(line)}`);
        }
      }
    } finally {
      await server.close();
    }
  });
});

describe('scripts/snapshot-blob.cjs', () => {
  test('refuses a script that loads a built-in Node has not verified for snapshots, and leaves no blob', async () => {
    const script = join(work, 'entry.cjs');
    const blob = join(work, 'entry.blob');
    writeFileSync(
      script,
      "require('node:vm');\nrequire('node:v8').startupSnapshot.setDeserializeMainFunction(() => {});\n",
    );
    const res = await runProcess(process.execPath, [join(ROOT, 'scripts', 'snapshot-blob.cjs'), script, blob], {
      PATH: process.env.PATH,
    });
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /snapshot-blob: .*entry\.blob: an unverified built-in was loaded at build time/);
    assert.equal(existsSync(blob), false);
  });
});
