import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsProxy, type FaultKind, type FaultRule, startAwsProxy } from '../helpers/aws-proxy.ts';
import {
  debrisIn,
  leakedValues,
  removeDir,
  runCli,
  seedValues,
  snapshotDir,
  tempDir,
  visibleNames,
} from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// `render` (the built CLI) against moto behind the fault proxy. What must hold under a misbehaving API:
// transient faults are retried by the SDK and the render succeeds; persistent faults and a stalled endpoint end
// with exit 3 within the deadline; a failed render leaves the output directory byte for byte as it was (mtimes
// included); no output line ever holds a secret value.

let moto: Moto;
let proxy: AwsProxy;
let sm: SecretsManagerClient;
let work: string;

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
});
after(async () => {
  sm?.destroy();
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.resetCounts();
  proxy.clearFaults();
  work = tempDir('secrets-init-faults-');
});
afterEach(() => {
  removeDir(work);
  assert.deepEqual(leakedValues(), [], 'no seeded value in any output');
});

const out = () => join(work, 'out');
const env = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...awsEnv(proxy.endpoint),
  APP_ENV: 'production',
  SECRETS_DIR: out(),
  ...extra,
});
const render = (extra: Record<string, string> = {}) => runCli([], env(extra), { cwd: work });

/** A distinctive value, registered for the leak scan. */
function value(label: string): string {
  const v = `SEEDED-${label}-${randomBytes(8).toString('hex')}`;
  seedValues([v]);
  return v;
}

async function createSecret(name: string, doc: Record<string, string>): Promise<void> {
  await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(doc) }));
}

/** `n` secrets app/s000.. each with one key K000.. (created concurrently: moto is the slow part). */
async function manySecrets(n: number): Promise<{ ids: string[]; values: string[] }> {
  const ids = Array.from({ length: n }, (_, i) => `app/s${String(i).padStart(3, '0')}`);
  const values = ids.map((_, i) => value(`many-${i}`));
  const queue = ids.map((id, i) => [id, i] as const);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        await createSecret(item[0], { [`K${String(item[1]).padStart(3, '0')}`]: values[item[1]]! });
      }
    }),
  );
  return { ids, values };
}

/** A good render of `app` = { TOKEN: v1 } into out/, then its snapshot: what a failed render must leave. */
async function previousRender(): Promise<{ before: Record<string, string>; v1: string }> {
  const v1 = value('previous');
  await createSecret('app', { TOKEN: v1 });
  const res = await render({ SECRET_NAME: 'app' });
  assert.equal(res.code, 0, res.stderr);
  proxy.resetCounts();
  return { before: snapshotDir(out()), v1 };
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${stderr}`);
  return lines[0]!;
}

describe('transient faults on the first 2 calls are retried by the SDK and the render succeeds', () => {
  const kinds: FaultKind[] = ['throttle', 'tooManyRequests', 'http500', 'http503', 'reset', 'truncate'];
  for (const kind of kinds) {
    test(`${kind} x2 on BatchGetSecretValue: 3 calls on the wire, new value rendered, no temp file left`, async () => {
      await previousRender();
      const v2 = value('rotated');
      await sm.send(new PutSecretValueCommand({ SecretId: 'app', SecretString: JSON.stringify({ TOKEN: v2 }) }));
      proxy.addFault({ action: 'BatchGetSecretValue', kind, times: 2 });

      const res = await render({ SECRET_NAME: 'app' });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '');
      assert.equal(proxy.count('BatchGetSecretValue'), 3);
      assert.equal(proxy.count('GetSecretValue'), 0, 'a retryable fault is not mistaken for "BatchGet denied"');
      assert.equal(readFileSync(join(out(), 'app.env'), 'utf8'), `export TOKEN='${v2}'\n`);
      assert.deepEqual(visibleNames(out()), ['app.env', 'render.json'], 'only complete files');
      assert.deepEqual(debrisIn(out()), [], 'nothing left behind');
      // Throttling backs off (up to 1 s, then 2 s, with jitter): quick, but not instant.
      assert.ok(res.ms < 8000, `took ${res.ms} ms`);
    });
  }

  test('BatchGet throttled on every call (its 100/s account quota spent): GetSecretValue per secret, exit 0', async () => {
    const [a, b] = [value('one'), value('two')];
    await createSecret('one', { ONE: a });
    await createSecret('two', { TWO: b });
    proxy.addFault({ action: 'BatchGetSecretValue', kind: 'throttle' });
    const res = await render({ SECRET_NAME: 'one,two' });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(proxy.count('BatchGetSecretValue'), 4, "the SDK's four attempts, then the fallback");
    assert.equal(proxy.count('GetSecretValue'), 2);
    assert.equal(readFileSync(join(out(), 'app.env'), 'utf8'), `export ONE='${a}'\nexport TWO='${b}'\n`);
    const events = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; error?: string });
    assert.deepEqual(
      events.filter((e) => e.event === 'batch.throttled').map((e) => e.error),
      ['ThrottlingException'],
    );
  });

  test('BatchGet denied, then GetSecretValue throttled twice: the fallback is retried too', async () => {
    const [a, b] = [value('one'), value('two')];
    await createSecret('one', { ONE: a });
    await createSecret('two', { TWO: b });
    proxy.addFault({ action: 'BatchGetSecretValue', kind: 'accessDenied' });
    proxy.addFault({ action: 'GetSecretValue', kind: 'throttle', times: 2 });
    const res = await render({ SECRET_NAME: 'one,two' });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(proxy.count('BatchGetSecretValue'), 1, 'AccessDenied is not retried');
    assert.equal(proxy.count('GetSecretValue'), 4);
    assert.equal(readFileSync(join(out(), 'app.env'), 'utf8'), `export ONE='${a}'\nexport TWO='${b}'\n`);
  });
});

interface Persistent {
  readonly name: string;
  readonly faults: readonly FaultRule[];
  /** The one stderr line (after "secrets-init render: "). */
  readonly line: RegExp;
  /** Calls allowed on the wire: the SDK's 4 attempts (plus the fallback's). */
  readonly maxCalls: number;
}

const DEADLINE = '3s';
const PERSISTENT: readonly Persistent[] = [
  {
    name: 'throttling on every call',
    faults: [{ action: '*', kind: 'throttle' }],
    // BatchGet's four attempts back off up to 1 + 2 + 4 s; if they end before the deadline, GetSecretValue takes
    // over, five tries of four attempts each at most, until the deadline ends it.
    line: /reading secret "app": ThrottlingException$|render stopped: deadline of 3s exceeded$/,
    maxCalls: 4 + 5 * 4,
  },
  {
    name: 'HTTP 500 on every call',
    faults: [{ action: '*', kind: 'http500' }],
    line: /reading secret "app": InternalServiceError \(HTTP 500\)$/,
    maxCalls: 4,
  },
  {
    name: 'HTTP 503 on every call',
    faults: [{ action: '*', kind: 'http503' }],
    line: /reading secret "app": ServiceUnavailableException \(HTTP 503\)$/,
    maxCalls: 4,
  },
  {
    name: 'connection reset on every call',
    faults: [{ action: '*', kind: 'reset' }],
    line: /reading secret "app": network error ECONNRESET$/,
    maxCalls: 4,
  },
  {
    name: 'truncated answers on every call',
    faults: [{ action: '*', kind: 'truncate' }],
    line: /reading secret "app": network error ECONNRESET$/,
    maxCalls: 4,
  },
  {
    name: 'access denied for BatchGetSecretValue and GetSecretValue',
    faults: [{ action: '*', kind: 'accessDenied' }],
    line: /reading secret "app": AccessDeniedException$/,
    maxCalls: 2,
  },
  {
    name: 'a stalled endpoint (accepts, never answers)',
    faults: [{ action: '*', kind: 'stall' }],
    // The per-request timeout is capped at the deadline, so the two race; both are exit 3 at ~3 s.
    line: /render stopped: deadline of 3s exceeded$|reading secret "app": request timed out$/,
    maxCalls: 4,
  },
];

describe('a 200 whose body never ends', () => {
  test('ends in exit 3 at the response cap, with bounded memory, well within the deadline', async () => {
    const { before } = await previousRender();
    proxy.addFault({ action: '*', kind: 'endless' });
    // Without a cap the SDK buffers the body until the deadline (20 s of loopback: gigabytes); the sampler kills
    // the child past 1 GiB so that the old behaviour fails here instead of taking the machine down.
    const res = await runCli([], env({ SECRET_NAME: 'app', SECRETS_TIMEOUT: '20s' }), {
      cwd: work,
      sampleRss: { killAbove: 1024 * 1024 * 1024 },
    });
    assert.equal(res.code, 3, `exit code (signal ${res.signal}, peak RSS ${res.peakRss}); stderr: ${res.stderr}`);
    assert.equal(
      oneLine(res.stderr),
      'secrets-init render: reading secret "app": response body over 10 MiB, refused (an endpoint that is not AWS, or a broken proxy?)',
    );
    assert.ok(res.peakRss! > 0 && res.peakRss! < 300 * 1024 * 1024, `peak RSS ${res.peakRss} bytes`);
    assert.equal(proxy.count('BatchGetSecretValue'), 1, 'not retried: the same endpoint would answer the same');
    assert.deepEqual(snapshotDir(out()), before);
  });
});

describe(`persistent faults end with exit 3 within the ${DEADLINE} deadline and leave the output untouched`, () => {
  for (const c of PERSISTENT) {
    test(`${c.name} -> exit 3`, async () => {
      const { before } = await previousRender();
      const v2 = value('never-rendered');
      await sm.send(new PutSecretValueCommand({ SecretId: 'app', SecretString: JSON.stringify({ TOKEN: v2 }) }));
      for (const f of c.faults) proxy.addFault(f);

      const res = await render({ SECRET_NAME: 'app', SECRETS_TIMEOUT: DEADLINE });
      assert.equal(res.code, 3, res.stderr);
      assert.match(oneLine(res.stderr), /^secrets-init render: /);
      assert.match(oneLine(res.stderr), c.line);
      assert.doesNotMatch(res.stderr + res.stdout, /proxy-fault|arn:aws:sts|assumed-role/, 'no request id, no ARN');
      // The deadline plus process start-up and exit; never the SDK's full back-off or a hung socket.
      assert.ok(res.ms < 3000 + 2000, `ended after ${res.ms} ms`);
      const calls = Object.values(proxy.counts()).reduce((a, b) => a + b, 0);
      assert.ok(calls <= c.maxCalls, `${calls} calls on the wire: ${JSON.stringify(proxy.counts())}`);
      assert.deepEqual(snapshotDir(out()), before, 'output directory byte-for-byte unchanged');
    });
  }

  test('one failing batch of three fails the whole render: nothing is written for the other 40 secrets', async () => {
    const { before } = await previousRender();
    const { ids } = await manySecrets(45);
    proxy.resetCounts();
    // Only the batch holding app/s023 (the second chunk of 20) fails, persistently.
    proxy.addFault({ action: 'BatchGetSecretValue', kind: 'http500', bodyIncludes: '"app/s023"' });
    const res = await render({ SECRET_NAME: ['app', ...ids].join(','), SECRETS_TIMEOUT: DEADLINE });
    assert.equal(res.code, 3, res.stderr);
    const line = oneLine(res.stderr);
    assert.match(line, /"app\/s023": InternalServiceError \(HTTP 500\)/);
    assert.doesNotMatch(line, /"app\/s04[0-4]"|"app"/, 'only the failed batch is named');
    assert.equal(proxy.count('BatchGetSecretValue'), 2 + 4, 'two good batches, four attempts at the bad one');
    assert.deepEqual(snapshotDir(out()), before, 'output directory byte-for-byte unchanged');
  });
});

describe('many secrets', () => {
  test('100 secrets render in one run within the deadline with ceil(100/20) = 5 BatchGetSecretValue calls', async () => {
    const { ids, values } = await manySecrets(100);
    proxy.resetCounts();
    const res = await render({ SECRET_NAME: ids.join(','), SECRETS_TIMEOUT: '10s' });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(proxy.counts(), { BatchGetSecretValue: 5 });
    const sizes = proxy
      .bodies('BatchGetSecretValue')
      .map((b) => (JSON.parse(b) as { SecretIdList: string[] }).SecretIdList.length);
    assert.deepEqual(sizes, [20, 20, 20, 20, 20]);
    assert.ok(res.ms < 10_000, `took ${res.ms} ms`);
    const envFile = readFileSync(join(out(), 'app.env'), 'utf8');
    assert.equal(envFile.split('\n').length - 1, 100);
    for (const [i, v] of values.entries())
      assert.ok(envFile.includes(`export K${String(i).padStart(3, '0')}='${v}'\n`));

    // The same 100 with the first two batch calls throttled: 7 calls, the same bytes (nothing rewritten).
    const before = snapshotDir(out());
    proxy.resetCounts();
    proxy.addFault({ action: 'BatchGetSecretValue', kind: 'throttle', times: 2 });
    const again = await render({ SECRET_NAME: ids.join(','), SECRETS_TIMEOUT: '10s' });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(proxy.counts(), { BatchGetSecretValue: 7 });
    assert.match(again.stdout, /"changed":false/);
    assert.deepEqual(snapshotDir(out()), before);
  });
});
