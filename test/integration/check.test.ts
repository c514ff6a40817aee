import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { leakedValues, removeDir, runCli, seedValues, tempDir } from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { SEED_SECRET, SEED_SECRET_NAME, SEED_VALUES } from '../helpers/seed.ts';

let moto: Moto;
let proxy: AwsProxy;
let sm: SecretsManagerClient;
let work: string;
let config: string;

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  work = tempDir();
  config = join(work, 'config.yaml');
  seedValues([...SEED_VALUES, 'SEEDED-locked-value-xyz']);
});
after(async () => {
  sm.destroy();
  await proxy.close();
  await moto.stop();
  removeDir(work);
});
beforeEach(async () => {
  await moto.reset();
  proxy.clearFaults();
  proxy.resetCounts();
});

const writeConfig = (sources: string[], required: string[]) =>
  writeFileSync(
    config,
    `apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [${sources.join(', ')}]\n  required: [${required.join(', ')}]\n`,
  );
const check = (...args: string[]) =>
  runCli(['check', '--config', config, ...args], awsEnv(proxy.endpoint), { cwd: work });

describe('secrets-init check', () => {
  test('without --remote validates the config and makes no AWS call', async () => {
    writeConfig([SEED_SECRET_NAME], ['OPENAI_API_KEY']);
    const res = await check();
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /valid \(1 sources/);
    assert.deepEqual(proxy.counts(), {});
  });

  test('an invalid config exits 2 naming every problem with its path', async () => {
    writeFileSync(
      config,
      'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [{ versionStage: X }]\n  output: { mode: "0666" }\n',
    );
    const res = await check();
    assert.equal(res.code, 2);
    assert.match(res.stderr, /spec\.sources\[0\]\.secretId: required/);
    assert.match(res.stderr, /spec\.output\.mode: .*others/);
  });

  test('--remote: all good prints key names and what render would write', async () => {
    await sm.send(new CreateSecretCommand({ Name: SEED_SECRET_NAME, SecretString: JSON.stringify(SEED_SECRET) }));
    writeConfig([SEED_SECRET_NAME], ['OPENAI_API_KEY', 'MILVUS_PORT']);
    const res = await check('--remote');
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(
      res.stdout,
      /secret "short-cut\/prod\/app": readable, version [0-9a-f-]+, keys: APP_SECRET_KEY, GCP_PROJECT_ID, GOOGLE_APPLICATION_CREDENTIALS_JSON, MILVUS_HOST/,
    );
    assert.match(res.stdout, /render would write: app.env, gcp-credentials.json, render.json/);
    assert.deepEqual(leakedValues(), []);
  });

  test('--remote reports a missing secret, a missing required key and an unreadable secret, key names only', async () => {
    await sm.send(new CreateSecretCommand({ Name: SEED_SECRET_NAME, SecretString: JSON.stringify(SEED_SECRET) }));
    await sm.send(
      new CreateSecretCommand({ Name: 'short-cut/prod/locked', SecretString: '{"LOCKED":"SEEDED-locked-value-xyz"}' }),
    );
    proxy.addFault({ action: 'BatchGetSecretValue', kind: 'accessDenied', bodyIncludes: 'locked' });
    proxy.addFault({ action: 'GetSecretValue', kind: 'accessDenied', bodyIncludes: 'locked' });
    writeConfig(
      [SEED_SECRET_NAME, 'short-cut/prod/missing', 'short-cut/prod/locked'],
      ['OPENAI_API_KEY', 'STRIPE_KEY'],
    );
    const res = await check('--remote');
    assert.equal(res.code, 3, res.stdout + res.stderr);
    assert.match(res.stdout, /secret "short-cut\/prod\/app": readable/);
    assert.match(res.stdout, /secret "short-cut\/prod\/missing": ResourceNotFoundException/);
    assert.match(res.stdout, /secret "short-cut\/prod\/locked": AccessDenied/);
    assert.equal(
      res.stderr,
      'secrets-init check: check failed (exit 3): secret "short-cut/prod/missing": ResourceNotFoundException (no such secret or version) (and 1 more above)\n',
    );

    // Once every secret is readable, the missing required key is what fails (exit 4).
    writeConfig([SEED_SECRET_NAME], ['OPENAI_API_KEY', 'STRIPE_KEY']);
    const res2 = await check('--remote');
    assert.equal(res2.code, 4, res2.stdout + res2.stderr);
    assert.match(res2.stdout, /required keys missing or empty: STRIPE_KEY/);
    assert.match(
      res2.stderr,
      /^secrets-init check: check failed \(exit 4\): invalid secrets: required keys missing or empty: STRIPE_KEY\n$/,
    );
    assert.deepEqual(leakedValues(), [], 'no value printed');
  });
});
