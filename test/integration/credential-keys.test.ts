// Keys that are really values (a secret whose keys and values were swapped in the console): for every credential
// shape, render refuses it (exit 4) and neither render nor check ever shows it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { leakedValues, removeDir, runCli, seedValues, tempDir } from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

let moto: Moto;
let sm: SecretsManagerClient;
let work: string;

before(async () => {
  moto = await startMoto();
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  work = tempDir();
});
after(async () => {
  sm.destroy();
  await moto.stop();
  removeDir(work);
});
beforeEach(() => moto.reset());

const base62 = (n: number) => {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => a[b % 62]).join('');
};

/** One credential of each shape that is also a valid variable name, swapped into the key. */
const shapes: readonly [string, string][] = [
  ['a GitHub token', `ghp_${base62(36)}`],
  ['a fine-grained GitHub token', `github_pat_${base62(22)}_${base62(59)}`],
  ['a Stripe live key', `sk_live_${base62(24)}`],
  ['an npm token', `npm_${base62(36)}`],
  ['a Pinecone key', `pcsk_${base62(20)}_${base62(40)}`],
  ['a Hugging Face token', `hf_${base62(34)}`],
  ['a Google API key', `AIzaSy${base62(33)}`],
  ['an AWS access key id', `AKIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`],
  ['a hex key that starts with a letter', `f${randomBytes(20).toString('hex')}`],
  ['a base62 key without a prefix', `Q${base62(39)}`],
];

for (const [what, token] of shapes) {
  test(`${what} as a key: render exits 4 showing its length only; check never prints it`, async () => {
    seedValues([token]);
    await sm.send(
      new CreateSecretCommand({ Name: 'swapped', SecretString: JSON.stringify({ [token]: 'GITHUB_TOKEN', OK: '1' }) }),
    );
    const out = join(work, 'out');
    const env = { ...awsEnv(moto.endpoint), APP_ENV: 'production', SECRET_NAME: 'swapped', SECRETS_DIR: out };
    const res = await runCli([], env, { cwd: work });
    assert.equal(res.code, 4, res.stderr);
    assert.match(
      res.stderr,
      new RegExp(`a ${token.length}-character key \\(not shown\\) from secret "swapped" looks like a credential`),
    );
    assert.equal(existsSync(join(out, 'render.json')), false, 'no render.json names it');

    const config = join(work, 'config.yaml');
    writeFileSync(config, 'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [swapped]\n');
    const checked = await runCli(['check', '--config', config, '--remote'], awsEnv(moto.endpoint), { cwd: work });
    assert.equal(checked.code, 4, checked.stdout);
    assert.match(checked.stdout, new RegExp(`\\(a ${token.length}-character key, not shown\\)`));
    assert.deepEqual(leakedValues(), [], 'the token is in no output');
  });
}

test('a name that only looks like a credential can be allowed by writing it in spec.allowKeys', async () => {
  const name = `a${'0123456789abcdef'.repeat(2)}`;
  await sm.send(new CreateSecretCommand({ Name: 'hexname', SecretString: JSON.stringify({ [name]: 'v' }) }));
  const config = join(work, 'allow.yaml');
  writeFileSync(
    config,
    `apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [hexname]\n  allowKeys: [${name}]\n`,
  );
  const env = {
    ...awsEnv(moto.endpoint),
    APP_ENV: 'production',
    SECRETS_CONFIG: config,
    SECRETS_DIR: join(work, 'o2'),
  };
  const res = await runCli([], env, { cwd: work });
  assert.equal(res.code, 0, res.stderr);
});
