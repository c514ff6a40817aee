import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import {
  cliArgs,
  debrisIn,
  leakedValues,
  ROOT,
  removeDir,
  runCli as runCliIn,
  SHELLS,
  seedValues,
  snapshotDir,
  sourceInShell,
  tempDir,
  visibleNames,
} from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { nodeAsOtherUser, OTHER_UID } from '../helpers/other-user.ts';
import { SEED_SECRET, SEED_SECRET_NAME, SEED_VALUES } from '../helpers/seed.ts';

let moto: Moto;
let proxy: AwsProxy;
let sm: SecretsManagerClient;
let work: string;

/** Runs the built CLI in the test's own directory, so only a dotenv file the test wrote is ever found. */
const runCli = (args: string[], e: Record<string, string | undefined>, o: { uid?: number } = {}) =>
  runCliIn(args, e, { cwd: work, ...o });

const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...awsEnv(proxy.endpoint),
  APP_ENV: 'production',
  SECRETS_DIR: join(work, 'out'),
  ...extra,
});

async function createSecret(name: string, value: Record<string, unknown> | string | Uint8Array): Promise<string> {
  const body =
    value instanceof Uint8Array
      ? { SecretBinary: value }
      : { SecretString: typeof value === 'string' ? value : JSON.stringify(value) };
  const out = await sm.send(new CreateSecretCommand({ Name: name, ...body }));
  return out.ARN!;
}

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  seedValues(SEED_VALUES);
});
after(async () => {
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

describe('render against Secrets Manager (moto, real SDK, the built CLI)', () => {
  test('renders the seed secret into app.env, gcp-credentials.json and render.json', async () => {
    const arn = await createSecret(SEED_SECRET_NAME, SEED_SECRET);
    const res = await runCli(
      [],
      env({ SECRET_NAME: SEED_SECRET_NAME, SECRETS_REQUIRED: 'OPENAI_API_KEY,MILVUS_PORT' }),
    );
    assert.equal(res.code, 0, res.stderr);
    const out = join(work, 'out');
    assert.deepEqual(visibleNames(out), ['app.env', 'gcp-credentials.json', 'render.json']);
    assert.deepEqual(debrisIn(out), []);

    const names = Object.keys(SEED_SECRET).filter((k) => k !== 'GOOGLE_APPLICATION_CREDENTIALS_JSON');
    const values = sourceInShell(SHELLS[0]!, join(out, 'app.env'), [
      ...names,
      'GOOGLE_APPLICATION_CREDENTIALS',
      'GOOGLE_APPLICATION_CREDENTIALS_JSON',
    ]);
    for (const [i, n] of names.entries()) assert.ok(values[i]!.equals(Buffer.from(SEED_SECRET[n]!)), `${n} differs`);
    assert.equal(values[names.length]!.toString(), join(out, 'gcp-credentials.json'));
    assert.equal(values[names.length + 1]!.toString(), '', 'the GCP JSON is not in app.env');
    assert.ok(!readFileSync(join(out, 'app.env'), 'utf8').includes('PRIVATE KEY'), 'private key only in its own file');

    const gcp = readFileSync(join(out, 'gcp-credentials.json'), 'utf8');
    assert.equal(gcp, SEED_SECRET.GOOGLE_APPLICATION_CREDENTIALS_JSON);
    for (const f of ['app.env', 'gcp-credentials.json', 'render.json']) {
      assert.equal(statSync(join(out, f)).mode & 0o777, 0o440, `${f} mode`);
    }

    const meta = JSON.parse(readFileSync(join(out, 'render.json'), 'utf8'));
    assert.equal(meta.sources[0].arn, arn);
    assert.equal(meta.sources[0].secretId, SEED_SECRET_NAME);
    assert.match(meta.sources[0].versionId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(meta.sources[0].versionStages, ['AWSCURRENT']);
    assert.deepEqual(meta.keys, [...names, 'GOOGLE_APPLICATION_CREDENTIALS'].sort());
    const digest = (f: string) =>
      createHash('sha256')
        .update(readFileSync(join(out, f)))
        .digest('hex');
    assert.equal(meta.files['app.env'].sha256, digest('app.env'));
    assert.equal(meta.files['gcp-credentials.json'].sha256, digest('gcp-credentials.json'));
    assert.deepEqual(leakedValues([readFileSync(join(out, 'render.json'), 'utf8')]), []);
  });

  test('reads 25 secrets with exactly 2 BatchGetSecretValue calls and no GetSecretValue', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      ids.push(`app/part-${i}`);
      await createSecret(`app/part-${i}`, { [`KEY_${i}`]: `value-${i}` });
    }
    const res = await runCli([], env({ SECRET_NAME: ids.join(',') }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(proxy.count('BatchGetSecretValue'), 2);
    assert.equal(proxy.count('GetSecretValue'), 0);
    const sizes = proxy.bodies('BatchGetSecretValue').map((b) => JSON.parse(b).SecretIdList.length);
    assert.deepEqual(
      sizes.sort((a, b) => b - a),
      [20, 5],
    );
    const env25 = readFileSync(join(work, 'out', 'app.env'), 'utf8');
    for (let i = 0; i < 25; i++) assert.ok(env25.includes(`export KEY_${i}='value-${i}'`));
  });

  test('later secrets win over earlier ones, and Secrets Manager over the dotenv file', async () => {
    await createSecret('base', { A: 'from-base', B: 'from-base', ONLY_BASE: '1' });
    await createSecret('override', { B: 'from-override', C: 'from-override' });
    writeFileSync(join(work, '.env'), 'A=from-dotenv\nC=from-dotenv\nD=from-dotenv\n');
    const res = await runCli([], env({ SECRET_NAME: 'base,override', DOTENV_PATH: join(work, '.env') }));
    assert.equal(res.code, 0, res.stderr);
    const [a, b, c, d, only] = sourceInShell(SHELLS[0]!, join(work, 'out', 'app.env'), [
      'A',
      'B',
      'C',
      'D',
      'ONLY_BASE',
    ]);
    assert.deepEqual([a, b, c, d, only].map(String), [
      'from-base',
      'from-override',
      'from-override',
      'from-dotenv',
      '1',
    ]);
    const meta = JSON.parse(readFileSync(join(work, 'out', 'render.json'), 'utf8'));
    assert.deepEqual(
      meta.sources.map((s: { type: string; secretId?: string }) => s.secretId ?? s.type),
      ['dotenv', 'base', 'override'],
    );
  });

  test('versionStage and versionId pins read exactly that version with GetSecretValue', async () => {
    await createSecret('pinned', { V: 'one' });
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: 'pinned', SecretString: '{"V":"two"}' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'pinned', SecretString: '{"V":"three"}' }));
    const config = join(work, 'config.yaml');
    const write = (source: string) =>
      writeFileSync(config, `apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources:\n    - ${source}\n`);

    write('{ secretId: pinned, versionStage: AWSPREVIOUS }');
    let res = await runCli([], env({ SECRETS_CONFIG: config }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(String(sourceInShell(SHELLS[0]!, join(work, 'out', 'app.env'), ['V'])[0]), 'two');

    write(`{ secretId: pinned, versionId: ${v2.VersionId} }`);
    res = await runCli([], env({ SECRETS_CONFIG: config }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(String(sourceInShell(SHELLS[0]!, join(work, 'out', 'app.env'), ['V'])[0]), 'two');

    write('pinned');
    res = await runCli([], env({ SECRETS_CONFIG: config }));
    assert.equal(String(sourceInShell(SHELLS[0]!, join(work, 'out', 'app.env'), ['V'])[0]), 'three');
    assert.equal(proxy.count('GetSecretValue'), 2, 'pins use GetSecretValue');
    assert.equal(proxy.count('BatchGetSecretValue'), 1, 'the unpinned source uses BatchGet');
  });

  test('key subsets, renames and file mappings from the config', async () => {
    await createSecret('tls', { CERT: '-----BEGIN CERTIFICATE-----\nseeded\n', KEY_PEM: 'k', NOISE: 'n' });
    const config = join(work, 'config.yaml');
    writeFileSync(
      config,
      [
        'apiVersion: secrets-init/v1',
        'kind: SecretsInit',
        'spec:',
        '  sources:',
        '    - secretId: tls',
        '      keys: [CERT, KEY_PEM]',
        '      rename: { KEY_PEM: TLS_KEY }',
        '  files:',
        '    - { fromKey: CERT, path: tls.crt, mode: "0400", envVar: TLS_CERT_FILE }',
        '  output: { mode: "0440" }',
        '',
      ].join('\n'),
    );
    const res = await runCli([], env({ SECRETS_CONFIG: config }));
    assert.equal(res.code, 0, res.stderr);
    const out = join(work, 'out');
    assert.equal(readFileSync(join(out, 'tls.crt'), 'utf8'), '-----BEGIN CERTIFICATE-----\nseeded\n');
    assert.equal(statSync(join(out, 'tls.crt')).mode & 0o777, 0o400);
    const [file, key, noise, cert] = sourceInShell(SHELLS[0]!, join(out, 'app.env'), [
      'TLS_CERT_FILE',
      'TLS_KEY',
      'NOISE',
      'CERT',
    ]);
    assert.deepEqual([file, key, noise, cert].map(String), [join(out, 'tls.crt'), 'k', '', '']);
  });

  test('numbers keep their JSON text: top-level ones in app.env, nested ones in a mapped file', async () => {
    // Each of these changes when it passes through a double: 109876543210987660000, null, 1.5, 0, 1e-7.
    const numbers = ['109876543210987654321', '1e400', '1.50', '-0', '1E-7', '0.1e+0010', '-12345678901234567890.5'];
    await createSecret(
      'numbers',
      `{"PORT":${numbers[0]},"CONFIG":{"ids":[${numbers.join(',')}],"limits":{"max":${numbers[1]},"ratio":${numbers[2]}}}}`,
    );
    const config = join(work, 'config.yaml');
    writeFileSync(
      config,
      'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [numbers]\n  files:\n    - { fromKey: CONFIG, path: config.json }\n',
    );
    const res = await runCli([], env({ SECRETS_CONFIG: config }));
    assert.equal(res.code, 0, res.stderr);
    const [port] = sourceInShell(SHELLS[0]!, join(work, 'out', 'app.env'), ['PORT']);
    assert.equal(String(port), numbers[0]);
    assert.equal(
      readFileSync(join(work, 'out', 'config.json'), 'utf8'),
      `{\n  "ids": [\n${numbers.map((n) => `    ${n}`).join(',\n')}\n  ],\n  "limits": {\n    "max": 1e400,\n    "ratio": 1.50\n  }\n}\n`,
    );
  });

  test('APP_ENV=local makes no AWS call at all (no credentials, no endpoint) and succeeds', async () => {
    writeFileSync(join(work, '.env'), 'LOCAL_KEY=local-value\n');
    const res = await runCli([], { APP_ENV: 'local', SECRETS_DIR: join(work, 'out') });
    assert.equal(res.code, 0, res.stderr);
    assert.match(readFileSync(join(work, 'out', 'app.env'), 'utf8'), /^export LOCAL_KEY='local-value'\n$/);
    // With an endpoint and credentials present, still nothing reaches it.
    const res2 = await runCli([], { ...env(), APP_ENV: 'local', DOTENV_PATH: join(work, '.env') });
    assert.equal(res2.code, 0, res2.stderr);
    assert.deepEqual(proxy.counts(), {});
  });

  test('a dotenv value whose quote is never closed fails (exit 4) naming the key and line, not the text', async () => {
    writeFileSync(join(work, '.env'), 'A=1\nKEY="-----BEGIN PRIVATE KEY-----\nqZSEEDEDTopSecretTail==\nB=2\n');
    seedValues(['qZSEEDEDTopSecretTail']);
    const res = await runCli([], { APP_ENV: 'local', SECRETS_DIR: join(work, 'out') });
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /a quote is opened and never closed: key "KEY" \(line 2\)/);
    assert.deepEqual(leakedValues(), []);
  });

  test('a dotenv file saved with CRLF line endings renders exactly the files of its LF twin', async () => {
    // The example file plus every construct whose end of line matters: quoted values over several lines,
    // `export`, empty values, a comment after a value, spaces before the line end, blank and comment lines.
    const lf = [
      readFileSync(join(ROOT, 'examples', '.env'), 'utf8').trimEnd(),
      '',
      '# more constructs',
      'export EXPORTED=exported value',
      'EMPTY=',
      'EMPTY_QUOTED=""',
      'SPACED=  padded value   ',
      "SINGLE='single quoted #not a comment'",
      'COMMENTED=value # a comment',
      'MULTILINE="-----BEGIN KEY-----',
      'line two',
      '-----END KEY-----"',
      'ESCAPED="a\\nb"',
      'LAST=last',
      '',
    ].join('\n');
    const crlf = lf.replaceAll('\n', '\r\n');
    assert.ok(crlf.includes('\r\n') && !lf.includes('\r'));
    // One output directory for both: app.env names the GCP key file by its path there.
    const out = join(work, 'out');
    const render = async (name: string, text: string) => {
      writeFileSync(join(work, name), text);
      const res = await runCli([], { APP_ENV: 'local', DOTENV_PATH: join(work, name), SECRETS_DIR: out });
      assert.equal(res.code, 0, res.stderr);
      const read = (file: string) => readFileSync(join(out, file), 'utf8');
      return { appEnv: read('app.env'), gcp: read('gcp-credentials.json'), keys: JSON.parse(read('render.json')).keys };
    };
    const fromLf = await render('lf.env', lf);
    const fromCrlf = await render('crlf.env', crlf);
    assert.equal(fromCrlf.appEnv, fromLf.appEnv);
    assert.equal(fromCrlf.gcp, fromLf.gcp);
    assert.deepEqual(fromCrlf.keys, fromLf.keys);
    assert.ok(!fromCrlf.appEnv.includes('\r'), 'no carriage return reaches app.env');
    assert.match(fromCrlf.appEnv, /^export MULTILINE='-----BEGIN KEY-----\nline two\n-----END KEY-----'$/m);
  });

  test('a dotenv file that is not valid UTF-8 fails (exit 4) naming key and line, never the bytes, whatever the encoding', async () => {
    const secret = 'SEEDED-dotenv-pass';
    seedValues([secret]);
    const ascii = (t: string) => Buffer.from(t, 'latin1');
    const cases: [string, Buffer, string][] = [
      ['Latin-1', Buffer.concat([ascii(`A=1\nDB_PASSWORD=${secret}-caf\xe9\n`)]), 'key "DB_PASSWORD" (line 2)'],
      ['Windows-1252 quotes', ascii(`A=1\nB=2\nQUOTE=\x93${secret}\x94\n`), 'key "QUOTE" (line 3)'],
      ['UTF-16LE with a BOM', Buffer.from(`\ufeffTOKEN=${secret}\n`, 'utf16le'), 'line 1'],
      [
        'a multi-byte sequence cut short inside a quoted value',
        Buffer.concat([ascii(`PEM="-----BEGIN\n${secret}`), Buffer.from([0xe2, 0x82]), ascii('\n-----END"\n')]),
        'key "PEM" (line 2)',
      ],
      [
        'a UTF-8-encoded surrogate (CESU-8)',
        Buffer.concat([ascii(`S=${secret}`), Buffer.from([0xed, 0xa0, 0xbd])]),
        'key "S" (line 1)',
      ],
      ['an overlong "/"', Buffer.concat([ascii(`P=${secret}`), Buffer.from([0xc0, 0xaf])]), 'key "P" (line 1)'],
      ['CRLF line ends', ascii(`A=1\r\nB=2\r\nC=${secret}\xff\r\n`), 'key "C" (line 3)'],
    ];
    for (const [name, bytes, where] of cases) {
      writeFileSync(join(work, '.env'), bytes);
      const res = await runCli([], { APP_ENV: 'local', SECRETS_DIR: join(work, 'out') });
      assert.equal(res.code, 4, `${name}: ${res.stderr}`);
      const dotenv = join(work, '.env');
      assert.equal(
        res.stderr,
        `secrets-init render: invalid secrets: dotenv "${dotenv}": not valid UTF-8 (save it as UTF-8): ${where}\n`,
        name,
      );
      assert.ok(!existsSync(join(work, 'out', 'app.env')), `${name}: nothing written`);
    }
    assert.deepEqual(leakedValues(), []);
  });

  test('rendering the same input twice rewrites nothing', async () => {
    await createSecret(SEED_SECRET_NAME, SEED_SECRET);
    assert.equal((await runCli([], env({ SECRET_NAME: SEED_SECRET_NAME }))).code, 0);
    const before = snapshotDir(join(work, 'out'));
    await new Promise((r) => setTimeout(r, 20));
    const res = await runCli([], env({ SECRET_NAME: SEED_SECRET_NAME }));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(snapshotDir(join(work, 'out')), before, 'no file rewritten (mtimes included)');
    assert.match(res.stdout, /"changed":false/);
  });
});

interface FailureCase {
  readonly name: string;
  readonly setup?: () => Promise<void>;
  readonly env: () => Record<string, string>;
  readonly code: number;
  readonly line: RegExp;
  readonly maxMs?: number;
  readonly uid?: number;
  readonly after?: () => void;
}

const failures: FailureCase[] = [
  {
    name: 'a missing secret',
    env: () => env({ SECRET_NAME: 'short-cut/prod/missing' }),
    code: 3,
    line: /"short-cut\/prod\/missing": ResourceNotFoundException/,
  },
  {
    name: 'a deleted secret',
    setup: async () => {
      await createSecret('gone', { A: 'SEEDED-deleted-value-1' });
      await sm.send(new DeleteSecretCommand({ SecretId: 'gone', RecoveryWindowInDays: 7 }));
    },
    env: () => env({ SECRET_NAME: 'gone' }),
    code: 3,
    line: /"gone": /,
  },
  {
    name: 'BatchGet Errors[] for one of several secrets',
    setup: async () => {
      await createSecret('present', { A: 'SEEDED-present-value-1' });
    },
    env: () => env({ SECRET_NAME: 'present,absent' }),
    code: 3,
    line: /^secrets-init render: reading secret "absent": ResourceNotFoundException[^;]*$/,
  },
  {
    name: 'a secret that is not a JSON object',
    setup: async () => void (await createSecret('list', '["SEEDED-array-value-1"]')),
    env: () => env({ SECRET_NAME: 'list' }),
    code: 4,
    line: /secret "list" is not a JSON object/,
  },
  {
    name: 'a secret that is not JSON',
    setup: async () => void (await createSecret('plain', 'SEEDED-plain-text-value')),
    env: () => env({ SECRET_NAME: 'plain' }),
    code: 4,
    line: /secret "plain" is not JSON/,
  },
  {
    name: 'a nested value',
    setup: async () => void (await createSecret('nested', { DB: { password: 'SEEDED-nested-pass' } })),
    env: () => env({ SECRET_NAME: 'nested' }),
    code: 4,
    line: /key "DB" from secret "nested" holds a nested value/,
  },
  {
    name: 'SecretBinary',
    setup: async () => void (await createSecret('bin', Buffer.from('SEEDED-binary-value'))),
    env: () => env({ SECRET_NAME: 'bin' }),
    code: 4,
    line: /secret "bin" holds SecretBinary/,
  },
  {
    name: 'an invalid key name',
    setup: async () => void (await createSecret('badkey', { 'MY-KEY': 'SEEDED-badkey-value' })),
    env: () => env({ SECRET_NAME: 'badkey' }),
    code: 4,
    line: /a 6-character key \(not shown\) from secret "badkey" is not a valid variable name/,
  },
  {
    name: 'key and value swapped in the console (the "key" is a secret)',
    setup: async () => void (await createSecret('swapped', { 'sk-proj-SEEDED-swapped-key': 'OPENAI_API_KEY' })),
    env: () => env({ SECRET_NAME: 'swapped' }),
    code: 4,
    line: /a 26-character key \(not shown\) from secret "swapped" is not a valid variable name/,
  },
  {
    name: 'a deny-listed key',
    setup: async () => void (await createSecret('deny', { LD_PRELOAD: '/tmp/SEEDED-evil.so' })),
    env: () => env({ SECRET_NAME: 'deny' }),
    code: 4,
    line: /key "LD_PRELOAD" from secret "deny" is on the deny list/,
  },
  {
    name: 'a NUL in a value',
    setup: async () => void (await createSecret('nul', { TOKEN: 'SEEDED-before\u0000after' })),
    env: () => env({ SECRET_NAME: 'nul' }),
    code: 4,
    line: /key "TOKEN" from secret "nul" contains a NUL byte/,
  },
  {
    name: 'a missing required key',
    setup: async () => void (await createSecret(SEED_SECRET_NAME, SEED_SECRET)),
    env: () => env({ SECRET_NAME: SEED_SECRET_NAME, SECRETS_REQUIRED: 'OPENAI_API_KEY,STRIPE_KEY,EMPTY_ONE' }),
    code: 4,
    line: /required keys missing or empty: STRIPE_KEY, EMPTY_ONE/,
  },
  {
    name: 'unparsable GCP JSON',
    setup: async () =>
      void (await createSecret('gcp', {
        GOOGLE_APPLICATION_CREDENTIALS_JSON: '{"type": "service_account", SEEDED-broken',
      })),
    env: () => env({ SECRET_NAME: 'gcp' }),
    code: 4,
    line: /key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from secret "gcp" is not a JSON object/,
  },
  {
    name: 'a dotenv file underneath that is not valid UTF-8',
    setup: async () => {
      await createSecret(SEED_SECRET_NAME, SEED_SECRET);
      writeFileSync(join(work, 'latin1.env'), Buffer.from('A=1\nLEGACY_PASS=SEEDED-latin1-caf\xe9\n', 'latin1'));
    },
    env: () => env({ SECRET_NAME: SEED_SECRET_NAME, DOTENV_PATH: join(work, 'latin1.env') }),
    code: 4,
    line: /^secrets-init render: invalid secrets: dotenv "[^"]+latin1.env": not valid UTF-8 \(save it as UTF-8\): key "LEGACY_PASS" \(line 2\)$/,
    after: () => assert.deepEqual(proxy.counts(), {}, 'refused before any AWS call'),
  },
  {
    name: 'an unwritable output directory',
    setup: async () => void (await createSecret(SEED_SECRET_NAME, SEED_SECRET)),
    env: () => env({ SECRET_NAME: SEED_SECRET_NAME }),
    uid: OTHER_UID,
    code: 5,
    line: /writing into "[^"]+\/out": EACCES/,
  },
  {
    name: 'an endpoint that never answers',
    setup: async () => proxy.addFault({ action: '*', kind: 'stall' }),
    env: () => env({ SECRET_NAME: SEED_SECRET_NAME, SECRETS_TIMEOUT: '3s' }),
    code: 3,
    line: /deadline of 3s exceeded/,
    maxMs: 8000,
  },
  {
    name: 'APP_ENV unset',
    env: () => {
      const { APP_ENV: _, ...rest } = env({ SECRET_NAME: SEED_SECRET_NAME });
      return rest;
    },
    code: 2,
    line: /APP_ENV is required/,
  },
  {
    name: 'production without AWS_REGION',
    env: () => {
      const { AWS_REGION: _, ...rest } = env({ SECRET_NAME: SEED_SECRET_NAME });
      return rest;
    },
    code: 2,
    line: /AWS_REGION \(or AWS_DEFAULT_REGION\) is required when APP_ENV=production/,
    after: () => assert.deepEqual(proxy.counts(), {}, 'failed before any network call'),
  },
  ...['4294967295:10001', '65532:4294967295', '4294967296', '99999999999999999999:1'].map(
    (owner): FailureCase => ({
      name: `owner ${owner} (chown's "unchanged" or out of range)`,
      env: () => env({ SECRET_NAME: SEED_SECRET_NAME, SECRETS_FILE_OWNER: owner }),
      code: 2,
      line: /SECRETS_FILE_OWNER: ids must be 0 to 4294967294/,
      after: () => assert.deepEqual(proxy.counts(), {}, 'failed before any network call'),
    }),
  ),
];

describe('every failure exits with its code, names the thing, and leaves the previous render untouched', () => {
  for (const c of failures) {
    test(`${c.name} -> exit ${c.code}`, async () => {
      // A previous good render into the same directory.
      await createSecret('previous', { PREVIOUS: 'SEEDED-previous-value' });
      seedValues(['SEEDED-previous-value']);
      const out = join(work, 'out');
      assert.equal((await runCli([], env({ SECRET_NAME: 'previous' }))).code, 0);
      if (c.uid !== undefined) {
        chmodSync(work, 0o755);
        chownSync(out, 0, 0);
        chmodSync(out, 0o755);
      }
      const before = snapshotDir(out);
      proxy.resetCounts();
      await c.setup?.();
      proxy.resetCounts();

      const res = await runCli([], c.env(), c.uid === undefined ? {} : { uid: c.uid });
      assert.equal(res.code, c.code, `exit code; stderr: ${res.stderr}`);
      const lines = res.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line on stderr, got: ${res.stderr}`);
      assert.match(lines[0]!, c.line);
      assert.deepEqual(snapshotDir(out), before, 'output directory byte-for-byte unchanged');
      if (c.maxMs) assert.ok(res.ms < c.maxMs, `ended within the deadline (${res.ms} ms)`);
      c.after?.();
      seedValues(SEED_VALUES.concat(['SEEDED-deleted-value-1', 'SEEDED-present-value-1', 'SEEDED-array-value-1']));
      seedValues([
        'SEEDED-latin1-caf',
        'SEEDED-plain-text-value',
        'SEEDED-nested-pass',
        'SEEDED-binary-value',
        'SEEDED-badkey-value',
      ]);
      seedValues(['/tmp/SEEDED-evil.so', 'SEEDED-before', 'SEEDED-broken', 'sk-proj-SEEDED-swapped-key']);
      assert.deepEqual(leakedValues(), [], 'no seeded value in any output');
    });
  }

  test('SIGTERM while reading exits 143 (a stop, not a source failure) and changes nothing', async () => {
    await createSecret('previous', { PREVIOUS: 'SEEDED-previous-value' });
    const out = join(work, 'out');
    assert.equal((await runCli([], env({ SECRET_NAME: 'previous' }))).code, 0);
    const before = snapshotDir(out);
    proxy.addFault({ action: '*', kind: 'stall' });
    const child = spawn(process.execPath, cliArgs([]), {
      cwd: work,
      env: { PATH: process.env.PATH, ...env({ SECRET_NAME: 'previous' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.resume();
    await new Promise((r) => setTimeout(r, 800));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 143, stderr);
    assert.match(stderr.trim(), /^secrets-init render: stopped by SIGTERM before writing; nothing was changed$/);
    assert.deepEqual(snapshotDir(out), before);
  });

  test('BatchGet denied: falls back to GetSecretValue per secret and succeeds', async () => {
    await createSecret('one', { ONE: '1' });
    await createSecret('two', { TWO: '2' });
    proxy.addFault({ action: 'BatchGetSecretValue', kind: 'accessDenied' });
    const res = await runCli([], env({ SECRET_NAME: 'one,two' }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(proxy.count('BatchGetSecretValue'), 1);
    assert.equal(proxy.count('GetSecretValue'), 2);
    assert.match(res.stdout, /"event":"batch.denied"/);
    assert.equal(readFileSync(join(work, 'out', 'app.env'), 'utf8'), "export ONE='1'\nexport TWO='2'\n");
  });
});

test('setpriv-free uid switch works for the unwritable-directory case', () => {
  // The unwritable case runs the CLI as uid 65534 through spawn's uid option; prove that uid is real.
  assert.equal(nodeAsOtherUser('process.stdout.write(String(process.getuid()))'), String(OTHER_UID));
});
