import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { CreateServiceCommand, ECSClient } from '@aws-sdk/client-ecs';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { leakedValues, removeDir, runCli, seedValues, tempDir } from '../helpers/cli.ts';
import { cluster, services } from '../helpers/ecs-fleet.ts';
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

  test('--remote takes the region from AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
    await sm.send(new CreateSecretCommand({ Name: SEED_SECRET_NAME, SecretString: JSON.stringify(SEED_SECRET) }));
    writeConfig([SEED_SECRET_NAME], ['OPENAI_API_KEY']);
    const env = { ...awsEnv(proxy.endpoint), AWS_REGION: '', AWS_DEFAULT_REGION: 'us-east-1' };
    const res = await runCli(['check', '--config', config, '--remote'], env, { cwd: work });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /check passed/);
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

describe('secrets-init check --cluster', () => {
  test('prints each tag binding with its ids and the problems of the ones watch would skip (exit 2)', async () => {
    const ecs = new ECSClient(clientOptions(moto.endpoint));
    // Through the limits proxy, as on AWS: ECS accepts these tags (a Unicode letter is a valid tag character,
    // but no secret id).
    await cluster(ecs, 'prod');
    await services(ecs, 'prod', {
      api: 'short-cut/prod/app short-cut/prod/db',
      search: 'short-cut/prod/café',
      web: undefined,
    });
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'prod',
        serviceName: 'billing',
        taskDefinition: 'app',
        desiredCount: 0,
        tags: [
          { key: 'secrets-init/secrets', value: 'short-cut/prod/app' },
          { key: 'secrets-init/secrets-2', value: 'short-cut/prod/stripe' },
        ],
      }),
    );
    // A comma is what AWS refuses, so only moto itself (past the limits) can hold one: LocalStack or an older
    // emulator might, and check must say so rather than guess.
    const raw = new ECSClient(clientOptions(moto.serverEndpoint));
    await services(raw, 'prod', { legacy: 'short-cut/prod/app,short-cut/prod/db' });
    raw.destroy();
    ecs.destroy();

    const res = await runCli(['check', '--cluster', 'prod'], awsEnv(proxy.endpoint), { cwd: work });
    assert.equal(res.code, 2, res.stdout + res.stderr);
    assert.deepEqual(res.stdout.trimEnd().split('\n'), [
      'cluster prod: 5 services, 4 bound by tags',
      'service api: binds 2: short-cut/prod/app short-cut/prod/db',
      'service billing: binds 2: short-cut/prod/app short-cut/prod/stripe',
      'service legacy: binding unusable',
      '  problem: secrets-init/secrets: commas are not allowed in ECS tag values; separate ids with spaces',
      'service search: binding unusable',
      '  problem: secrets-init/secrets: "short-cut/prod/café" is not a secret id (letters, digits and / _ + = . @ : - only)',
    ]);
    assert.equal(
      res.stderr,
      'secrets-init check: check failed (exit 2): service legacy: binding unusable (and 1 more above)\n',
    );
    assert.deepEqual(Object.keys(proxy.counts()).sort(), ['DescribeServices', 'ListServices'], 'ECS reads only');
  });

  test('a cluster that cannot be read exits 3; without AWS_REGION it is a usage error', async () => {
    proxy.addFault({ action: 'ListServices', kind: 'accessDenied' });
    const res = await runCli(['check', '--cluster', 'prod'], awsEnv(proxy.endpoint), { cwd: work });
    assert.equal(res.code, 3, res.stdout + res.stderr);
    assert.match(res.stdout, /^cluster prod: listing services: AccessDeniedException$/m);
    const { AWS_REGION: _, ...noRegion } = awsEnv(proxy.endpoint);
    const usage = await runCli(['check', '--cluster', 'prod'], noRegion, { cwd: work });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /check --cluster: AWS_REGION \(or AWS_DEFAULT_REGION\) is required/);
    const cliRegion = await runCli(
      ['check', '--cluster', 'prod'],
      { ...noRegion, AWS_DEFAULT_REGION: 'us-east-1' },
      {
        cwd: work,
      },
    );
    assert.equal(cliRegion.code, 3, "the aws CLI's AWS_DEFAULT_REGION is enough to reach the cluster");
  });
});
