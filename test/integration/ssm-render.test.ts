import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import {
  leakedValues,
  removeDir,
  runCli,
  SHELLS,
  seedValues,
  snapshotDir,
  sourceInShell,
  tempDir,
  visibleNames,
} from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { assertValidRequests } from '../helpers/service-model.ts';

// SSM Parameter Store as a source, through the built CLI and the real SDK against moto's SSM, behind the limits
// proxy (startMoto) and a counting proxy. Every value seeded here is scanned for in every output.

let moto: Moto;
let proxy: AwsProxy;
let ssm: SSMClient;
let sm: SecretsManagerClient;
let work: string;

const VALUES = {
  dbUrl: 'postgres://SEEDED-db-user:SEEDED-db-pass-9f2c@db.internal/app',
  token: 'SEEDED-api-token-older-5d1e',
  tokenNew: "SEEDED-api-token-'newer'-$(not run)-7a3b",
  flags: 'SEEDED-flag-a,SEEDED-flag-b,c',
  shared: 'SEEDED-shared-from-ssm-11aa',
  sharedSecret: 'SEEDED-shared-from-secret-22bb',
  secretOnly: 'SEEDED-secret-only-value-33cc',
  random: 'SEEDED-random-value-44dd',
  tokenName: 'SEEDED-under-a-token-name-55ee',
};
/** A parameter name whose last level is a GitHub token: a value where a name should be. */
const TOKEN_NAME = 'ghp_SEEDEDaBcDeFgHiJkLmNoPqRsTuVwXyZ012345';

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  ssm = new SSMClient(clientOptions(moto.endpoint));
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  seedValues([...Object.values(VALUES), TOKEN_NAME]);
});
after(async () => {
  ssm.destroy();
  sm.destroy();
  await proxy.close();
  await moto.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.resetCounts();
  proxy.clearFaults();
  work = tempDir();
});
afterEach(() => removeDir(work));

type ParameterType = 'String' | 'StringList' | 'SecureString';
const put = (Name: string, Value: string, Type: ParameterType = 'String', Overwrite = false) =>
  ssm.send(new PutParameterCommand({ Name, Value, Type, Overwrite }));

/** A config with these `spec.sources` (YAML flow items) and required keys. */
function config(sources: string[], extra = ''): string {
  const file = join(work, 'config.yaml');
  writeFileSync(
    file,
    `apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources:\n${sources.map((s) => `    - ${s}\n`).join('')}${extra}`,
  );
  return file;
}

const out = () => join(work, 'out');
const render = (configFile: string, extra: Record<string, string> = {}) =>
  runCli(
    [],
    { ...awsEnv(proxy.endpoint), APP_ENV: 'production', SECRETS_DIR: out(), SECRETS_CONFIG: configFile, ...extra },
    { cwd: work },
  );
const check = (configFile: string) =>
  runCli(['check', '--config', configFile, '--remote'], awsEnv(proxy.endpoint), { cwd: work });

/** The values app.env gives these names when sourced by dash, as the entrypoint does. */
function sourced(names: string[]): Record<string, string> {
  const values = sourceInShell(SHELLS[0]!, join(out(), 'app.env'), names);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!.toString()]));
}
const renderJson = () => JSON.parse(readFileSync(join(out(), 'render.json'), 'utf8'));
/** Calls of an action on the wire, less those the account's quota refused (they were sent again). */
const sent = (action: string) => proxy.count(action) - (moto.limits.refusals()[action] ?? 0);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('render from SSM Parameter Store', () => {
  test('a path: every parameter under it, nested levels joined with _, SecureString decrypted, StringList as written', async () => {
    await put('/short-cut/prod/DATABASE_URL', VALUES.dbUrl, 'SecureString');
    await put('/short-cut/prod/api/TOKEN', VALUES.token, 'SecureString');
    await put('/short-cut/prod/api/TOKEN', VALUES.tokenNew, 'SecureString', true);
    await put('/short-cut/prod/feature/flags', VALUES.flags, 'StringList');
    await put('/short-cut/prod/db/pool/size', '10');
    // Neighbours that must not be read: another environment, and a path that merely starts with the same text.
    await put('/short-cut/staging/DATABASE_URL', 'staging-not-read');
    await put('/short-cut/prod2/DATABASE_URL', 'prod2-not-read');

    const res = await render(config(['parameterPath: /short-cut/prod/']));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(visibleNames(out()), ['app.env', 'render.json']);
    assert.deepEqual(sourced(['DATABASE_URL', 'api_TOKEN', 'feature_flags', 'db_pool_size']), {
      DATABASE_URL: VALUES.dbUrl,
      api_TOKEN: VALUES.tokenNew,
      feature_flags: VALUES.flags,
      db_pool_size: '10',
    });
    const meta = renderJson();
    assert.deepEqual(meta.keys, ['DATABASE_URL', 'api_TOKEN', 'db_pool_size', 'feature_flags']);
    assert.equal(meta.sources.length, 1);
    const { parameters, ...source } = meta.sources[0];
    assert.deepEqual(source, { type: 'ssm-path', path: '/short-cut/prod/' });
    assert.deepEqual(
      parameters.map((p: { name: string; version: number }) => [p.name, p.version]),
      [
        ['/short-cut/prod/DATABASE_URL', 1],
        ['/short-cut/prod/api/TOKEN', 2],
        ['/short-cut/prod/db/pool/size', 1],
        ['/short-cut/prod/feature/flags', 1],
      ],
    );
    for (const p of parameters) assert.match(p.lastModified, ISO);
    assert.ok(!readFileSync(join(out(), 'app.env'), 'utf8').includes('not-read'));
    assert.deepEqual(leakedValues([readFileSync(join(out(), 'render.json'), 'utf8')]), []);
  });

  test('a parameter: its key is the last level or `key`, `:1` pins a version; render.json records each', async () => {
    await put('/short-cut/prod/APP_SECRET_KEY', VALUES.token, 'SecureString');
    await put('/short-cut/prod/APP_SECRET_KEY', VALUES.tokenNew, 'SecureString', true);
    await put('PLAIN_NAME', VALUES.flags);
    const res = await render(
      config([
        'parameter: /short-cut/prod/APP_SECRET_KEY',
        '{ parameter: "/short-cut/prod/APP_SECRET_KEY:1", key: OLD_APP_SECRET_KEY }',
        'parameter: PLAIN_NAME',
      ]),
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(sourced(['APP_SECRET_KEY', 'OLD_APP_SECRET_KEY', 'PLAIN_NAME']), {
      APP_SECRET_KEY: VALUES.tokenNew,
      OLD_APP_SECRET_KEY: VALUES.token,
      PLAIN_NAME: VALUES.flags,
    });
    const records = renderJson().sources.map(({ lastModified, ...r }: { lastModified: string }) => {
      assert.match(lastModified, ISO);
      return r;
    });
    assert.deepEqual(records, [
      {
        type: 'ssm-parameter',
        parameter: '/short-cut/prod/APP_SECRET_KEY',
        name: '/short-cut/prod/APP_SECRET_KEY',
        version: 2,
      },
      {
        type: 'ssm-parameter',
        parameter: '/short-cut/prod/APP_SECRET_KEY:1',
        name: '/short-cut/prod/APP_SECRET_KEY',
        version: 1,
      },
      { type: 'ssm-parameter', parameter: 'PLAIN_NAME', name: 'PLAIN_NAME', version: 1 },
    ]);
    assert.deepEqual(leakedValues([readFileSync(join(out(), 'render.json'), 'utf8')]), []);
  });

  test('keys and rename on a path: only the keys named, renamed; render.json records only what was taken', async () => {
    await put('/short-cut/prod/db/url', VALUES.dbUrl, 'SecureString');
    await put('/short-cut/prod/db/pool', '10');
    await put('/short-cut/prod/other', VALUES.flags);
    const res = await render(
      config(['{ parameterPath: /short-cut/prod, keys: [db_url, db_pool], rename: { db_url: DATABASE_URL } }']),
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(renderJson().keys, ['DATABASE_URL', 'db_pool']);
    assert.deepEqual(sourced(['DATABASE_URL', 'db_pool']), { DATABASE_URL: VALUES.dbUrl, db_pool: '10' });
    assert.deepEqual(
      renderJson().sources[0].parameters.map((p: { name: string }) => p.name),
      ['/short-cut/prod/db/pool', '/short-cut/prod/db/url'],
    );
  });

  test('merges with Secrets Manager in the order written, later wins, both ways', async () => {
    await put('/short-cut/prod/SHARED', VALUES.shared, 'SecureString');
    await put('/short-cut/prod/SSM_ONLY', VALUES.dbUrl);
    await sm.send(
      new CreateSecretCommand({
        Name: 'short-cut/prod/app',
        SecretString: JSON.stringify({ SHARED: VALUES.sharedSecret, SECRET_ONLY: VALUES.secretOnly }),
      }),
    );
    for (const [order, winner] of [
      [['short-cut/prod/app', 'parameterPath: /short-cut/prod/'], VALUES.shared],
      [['parameterPath: /short-cut/prod/', 'short-cut/prod/app'], VALUES.sharedSecret],
    ] as const) {
      const res = await render(config([...order]));
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(sourced(['SHARED', 'SSM_ONLY', 'SECRET_ONLY']), {
        SHARED: winner,
        SSM_ONLY: VALUES.dbUrl,
        SECRET_ONLY: VALUES.secretOnly,
      });
      assert.deepEqual(
        renderJson().sources.map((s: { type: string }) => s.type),
        order.map((o) => (o.startsWith('parameterPath') ? 'ssm-path' : 'secretsmanager')),
      );
    }
    assert.deepEqual(leakedValues(), []);
  });

  test('a missing parameter is exit 3 naming it, an empty path too unless optional; nothing is written', async () => {
    await put('/short-cut/prod/PRESENT', VALUES.dbUrl);
    const cases: [string[], RegExp][] = [
      [
        ['parameter: /short-cut/prod/PRESENT', 'parameter: /short-cut/prod/MISSING'],
        /^secrets-init render: reading parameter "\/short-cut\/prod\/MISSING": ParameterNotFound \(listed in InvalidParameters: no such parameter, version or label\)\n$/,
      ],
      [
        ['parameter: "/short-cut/prod/PRESENT:7"'],
        /reading parameter "\/short-cut\/prod\/PRESENT:7": ParameterNotFound/,
      ],
      [
        ['parameterPath: /short-cut/empty/'],
        /^secrets-init render: reading parameter path "\/short-cut\/empty\/": no parameter under the path \(say optional: true if it may be empty\)\n$/,
      ],
    ];
    for (const [sources, message] of cases) {
      const res = await render(config(sources));
      assert.equal(res.code, 3, res.stderr);
      assert.match(res.stderr, message);
      assert.equal(existsSync(out()), false, 'nothing written');
    }
    const res = await render(
      config(['parameter: /short-cut/prod/PRESENT', '{ parameterPath: /short-cut/empty/, optional: true }']),
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(renderJson().sources[1], { type: 'ssm-path', path: '/short-cut/empty/', parameters: [] });
    assert.deepEqual(leakedValues(), []);
  });

  test('pages past one answer: 23 parameters under a path, 12 named ones in two GetParameters calls', async () => {
    for (let i = 0; i < 23; i++) await put(`/short-cut/prod/many/P${String(i).padStart(2, '0')}`, `value-${i}`);
    for (let i = 0; i < 12; i++) await put(`/short-cut/prod/one/N${i}`, `named-${i}`);
    const named = Array.from({ length: 12 }, (_, i) => `parameter: /short-cut/prod/one/N${i}`);
    proxy.resetCounts();
    const res = await render(config(['parameterPath: /short-cut/prod/many/', ...named]));
    assert.equal(res.code, 0, res.stderr);
    const keys = renderJson().keys as string[];
    assert.equal(keys.length, 35);
    assert.equal(sourced(['P22', 'N11']).P22, 'value-22');
    // 10 a page: 10, 10, 3 (moto then answers no token; AWS may answer fewer a page, and the loop follows tokens).
    assert.ok(sent('GetParametersByPath') >= 3, `${sent('GetParametersByPath')} pages`);
    assert.equal(sent('GetParameters'), 2);
    const sizes = proxy.bodies('GetParameters').map((b) => JSON.parse(b).Names.length as number);
    assert.deepEqual([...new Set(sizes)].sort(), [10, 2].sort(), 'ten names, then two');
    // What the SDK sent, judged by the AWS service model rather than by moto.
    assertValidRequests(
      [
        ...proxy.bodies('GetParameters').map((b) => ['GetParameters', b]),
        ...proxy.bodies('GetParametersByPath').map((b) => ['GetParametersByPath', b]),
      ].map(([operation, body], i) => ({
        name: `${operation} #${i}`,
        service: 'ssm',
        operation: operation!,
        params: JSON.parse(body!),
      })),
    );
  });

  test('throttled reads are retried until they go through (the account shares 40 reads a second)', async () => {
    await put('/short-cut/prod/DATABASE_URL', VALUES.dbUrl, 'SecureString');
    await put('/short-cut/prod/ONE', VALUES.flags);
    // More than the SDK's own 4 attempts: the render's own back-off takes over, as for GetSecretValue.
    proxy.addFault({ action: 'GetParametersByPath', kind: 'throttle', times: 5 });
    proxy.addFault({ action: 'GetParameters', kind: 'throttle', times: 5 });
    const res = await render(config(['parameterPath: /short-cut/prod/', 'parameter: /short-cut/prod/ONE']));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(sent('GetParametersByPath'), 6);
    assert.equal(sent('GetParameters'), 6);
  });

  test('access denied is exit 3 naming the source and the action', async () => {
    await put('/short-cut/prod/DATABASE_URL', VALUES.dbUrl, 'SecureString');
    proxy.addFault({ action: 'GetParametersByPath', kind: 'accessDenied' });
    const res = await render(config(['parameterPath: /short-cut/prod/']));
    assert.equal(res.code, 3);
    assert.equal(
      res.stderr,
      'secrets-init render: reading parameter path "/short-cut/prod/": AccessDeniedException (ssm:GetParametersByPath, or kms:Decrypt of a SecureString, denied)\n',
    );
  });
});

describe('the hardening rules hold for the keys a path gives', () => {
  test('a parameter named like a shell variable (/p/RANDOM) is exit 4 and nothing is written', async () => {
    await put('/short-cut/prod/OK', VALUES.dbUrl);
    await put('/short-cut/prod/RANDOM', VALUES.random, 'SecureString');
    const res = await render(config(['parameterPath: /short-cut/prod/']));
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /key "RANDOM" from parameter path "\/short-cut\/prod\/" is .*rename it/);
    assert.equal(existsSync(out()), false);
    // Renamed, it renders.
    const renamed = await render(config(['{ parameterPath: /short-cut/prod/, rename: { RANDOM: APP_RANDOM } }']));
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.equal(sourced(['APP_RANDOM']).APP_RANDOM, VALUES.random);
    assert.deepEqual(leakedValues(), []);
  });

  test('a parameter whose name is a token is refused (exit 4) and its name is never shown, by render or check', async () => {
    await put('/short-cut/prod/OK', VALUES.dbUrl);
    await put(`/short-cut/prod/${TOKEN_NAME}`, VALUES.tokenName, 'SecureString');
    const configFile = config(['parameterPath: /short-cut/prod/']);
    const res = await render(configFile);
    assert.equal(res.code, 4, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(
        `a ${TOKEN_NAME.length}-character key \\(not shown\\) from parameter path "/short-cut/prod/" looks like a credential`,
      ),
    );
    const checked = await check(configFile);
    assert.equal(checked.code, 4, checked.stdout + checked.stderr);
    assert.match(
      checked.stdout,
      new RegExp(
        `parameter path "/short-cut/prod/": readable, keys: OK, \\(a ${TOKEN_NAME.length}-character key, not shown\\)`,
      ),
    );
    assert.deepEqual(leakedValues(), [], 'neither the name nor any value is in any output');
  });
});

describe('check --remote with parameters', () => {
  test('one verdict per source, key names only; a missing one is exit 3', async () => {
    await put('/short-cut/prod/DATABASE_URL', VALUES.dbUrl, 'SecureString');
    await put('/short-cut/prod/db/pool', '10');
    const good = config(
      ['parameter: /short-cut/prod/DATABASE_URL', 'parameterPath: /short-cut/prod/db/'],
      '  required: [DATABASE_URL]\n',
    );
    const before = snapshotDir(work);
    const res = await check(good);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /^parameter "\/short-cut\/prod\/DATABASE_URL": readable, version 1, keys: DATABASE_URL$/m);
    assert.match(res.stdout, /^parameter path "\/short-cut\/prod\/db\/": readable, keys: pool$/m);
    assert.match(res.stdout, /^app.env variables: DATABASE_URL, pool$/m);
    assert.deepEqual(snapshotDir(work), before, 'check writes nothing');

    const bad = config([
      'parameter: /short-cut/prod/DATABASE_URL',
      'parameter: /short-cut/prod/NOPE',
      'parameterPath: /short-cut/none/',
    ]);
    const res2 = await check(bad);
    assert.equal(res2.code, 3, res2.stdout + res2.stderr);
    assert.match(res2.stdout, /^parameter "\/short-cut\/prod\/NOPE": ParameterNotFound/m);
    assert.match(res2.stdout, /^parameter path "\/short-cut\/none\/": no parameter under the path/m);
    assert.equal(sent('GetParameters'), 2, 'one GetParameters a check (the two names in one call)');
    assert.deepEqual(leakedValues(), []);
  });
});
