import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { main } from '../../cli/main.ts';
import { fakeCliIo } from '../fakes/cli-io.ts';
import { leakedValues, recordOutput, removeDir, seedValues, tempDir } from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { SEED_SECRET, SEED_SECRET_NAME, SEED_VALUES } from '../helpers/seed.ts';

// A scale-out: 100 tasks start at once and each init container renders. BatchGetSecretValue's account quota
// (100 requests/s, not adjustable) is here a token bucket of 20/s in the limits proxy, a fifth of the renders
// arriving together. Every render must still succeed within its deadline (the default 30 s): a render whose
// batch stays throttled after the SDK's retries reads its secrets with GetSecretValue.
//
// The renders run in this process through the CLI's own entry point (`main`, so renderDeps builds one real
// SDK client per render, as each container would), not as 100 child processes: 100 Node start-ups on two
// shared cores would test the machine's scheduler, and the quota is what is under test. Timings are printed,
// never asserted.

const RENDERS = 100;
const BATCH_PER_SECOND = 20;
const EXTRA_NAME = 'short-cut/prod/feature-flags';
const EXTRA = { FEATURE_SEARCH: 'on-SEEDED-flag-4d1c', FEATURE_BILLING: 'off' };

let moto: Moto;
let work: string;

before(async () => {
  moto = await startMoto();
  // The SDK reads its endpoint and credentials from the environment, as in a task; this process is this file's.
  Object.assign(process.env, awsEnv(moto.endpoint));
  const sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  await sm.send(new CreateSecretCommand({ Name: SEED_SECRET_NAME, SecretString: JSON.stringify(SEED_SECRET) }));
  await sm.send(new CreateSecretCommand({ Name: EXTRA_NAME, SecretString: JSON.stringify(EXTRA) }));
  sm.destroy();
  seedValues([...SEED_VALUES, EXTRA.FEATURE_SEARCH]);
  work = tempDir('secrets-init-scale-');
});
after(async () => {
  await moto?.stop();
  if (work) removeDir(work);
});

interface Rendered {
  readonly code: number;
  readonly ms: number;
  readonly dir: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** One init container's render, through the CLI entry point with its own environment and output directory. */
async function renderOnce(name: string): Promise<Rendered> {
  const dir = join(work, name);
  const t = fakeCliIo({
    env: {
      APP_ENV: 'production',
      AWS_REGION: 'us-east-1',
      SECRET_NAME: `${SEED_SECRET_NAME},${EXTRA_NAME}`,
      SECRETS_DIR: dir,
      SECRETS_REQUIRED: 'OPENAI_API_KEY,FEATURE_SEARCH',
    },
    cwd: work,
  });
  const started = performance.now();
  const code = await main(['render'], t.io);
  const ms = performance.now() - started;
  recordOutput(`${t.out()}\n${t.err()}`);
  return { code, ms, dir, stdout: t.out(), stderr: t.err() };
}

/**
 * Digests of what a render wrote (its own directory replaced by a placeholder, since app.env points at the key
 * file): compared as digests so that a failure prints no secret value.
 */
const outputs = (dir: string) =>
  Object.fromEntries(
    ['app.env', 'gcp-credentials.json'].map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f), 'utf8').replaceAll(dir, '<dir>'))
        .digest('hex'),
    ]),
  );

test(`${RENDERS} renders at once against a BatchGetSecretValue quota of ${BATCH_PER_SECOND}/s all succeed`, async (t) => {
  // What one render writes when nothing is throttled: every render of the scale-out must write the same.
  const reference = await renderOnce('reference');
  assert.equal(reference.code, 0, reference.stderr);
  const expected = outputs(reference.dir);

  moto.limits.setQuota('secretsmanager:BatchGetSecretValue', {
    capacity: BATCH_PER_SECOND,
    perSecond: BATCH_PER_SECOND,
  });
  moto.limits.resetCounts();
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: RENDERS }, (_, i) => renderOnce(`task-${i}`)));
  const wall = performance.now() - started;

  const failed = results.filter((r) => r.code !== 0);
  assert.deepEqual(
    failed.map((r) => `exit ${r.code}: ${r.stderr.trim()}`),
    [],
    'every render succeeds',
  );
  for (const r of results) assert.deepEqual(outputs(r.dir), expected, `${r.dir}: the same files as the reference`);

  const calls = moto.limits.counts();
  const refused = moto.limits.refusals();
  const fellBack = results.filter((r) => r.stdout.includes('"event":"batch.throttled"')).length;
  const slowest = Math.max(...results.map((r) => r.ms));
  t.diagnostic(`calls on the wire: ${JSON.stringify(calls)}; refused by the quota: ${JSON.stringify(refused)}`);
  t.diagnostic(`${fellBack} of ${RENDERS} renders fell back to GetSecretValue`);
  t.diagnostic(`slowest render ${Math.round(slowest)} ms; all ${RENDERS} done in ${Math.round(wall)} ms`);
  // The quota was really in the way: the batch calls it refused came back as retries or fallbacks.
  assert.ok((refused.BatchGetSecretValue ?? 0) > 0, 'the quota refused batch calls');
  assert.equal(calls.GetSecretValue ?? 0, fellBack * 2, 'each fallback read its two secrets one by one');
  assert.deepEqual(leakedValues(), [], 'no secret value in any log or error line');
});
