import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { SecretValueEntry } from '@aws-sdk/client-secrets-manager';
import { BATCH_LIMIT, type FetchedSecret, readSecrets, secretVerdict } from '../../init/secrets-manager-source.ts';
import { failClosed } from '../../init/source.ts';
import type { SecretsPort } from '../../shared/aws-ports.ts';
import type { SecretSourceSpec } from '../../shared/config.ts';
import { ExitCode, SourceError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';

const ACCOUNT_PREFIX = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:';
// Text an SDK error message may carry; it must never reach a SourceError.
const LEAK = 'RequestId: LEAK-0f3a; value LEAK-secret';

interface StoredSecret {
  readonly name: string;
  readonly suffix?: string;
  /** versionId -> value; the first is AWSCURRENT, the second AWSPREVIOUS. */
  readonly versions: readonly [string, string][];
  readonly binary?: Uint8Array;
}
const arnOf = (s: StoredSecret) => `${ACCOUNT_PREFIX}${s.name}-${s.suffix ?? 'AbCdEf'}`;
const stored = (name: string, value = `{"K":"VALUE-${name}"}`): StoredSecret => ({
  name,
  versions: [
    [`v-${name}-current`, value],
    [`v-${name}-previous`, `{"K":"VALUE-${name}-old"}`],
  ],
});

function entry(s: StoredSecret, versionIndex = 0): SecretValueEntry {
  const [versionId, value] = s.versions[versionIndex]!;
  return {
    ARN: arnOf(s),
    Name: s.name,
    VersionId: versionId,
    VersionStages: [versionIndex === 0 ? 'AWSCURRENT' : 'AWSPREVIOUS'],
    ...(s.binary ? { SecretBinary: s.binary } : { SecretString: value }),
  };
}
const find = (store: readonly StoredSecret[], id: string) =>
  store.find((s) => id === s.name || id === arnOf(s) || `${id}-${s.suffix ?? 'AbCdEf'}` === arnOf(s));

const sdkError = (name: string, status = 400) =>
  Object.assign(new Error(`${name}: ${LEAK}`), { name, $metadata: { httpStatusCode: status, requestId: 'LEAK-0f3a' } });

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}
interface FakeOptions {
  /** BatchGetSecretValue throws this instead of answering. */
  readonly batchThrows?: Error;
  /** Ids BatchGet answers with neither a value nor an error. */
  readonly batchSkips?: readonly string[];
  /** Per-secret BatchGet Errors[] codes (default for unknown ids: ResourceNotFoundException). */
  readonly batchErrorCode?: Readonly<Record<string, string>>;
  /** Return results in reverse order (AWS does not promise the request order). */
  readonly reverse?: boolean;
  /** BatchGet answers in two pages. */
  readonly paginate?: boolean;
  /** Each call waits until the signal aborts. */
  readonly hang?: boolean;
  /** The first N GetSecretValue calls answer ThrottlingException (the SDK's retries already used up). */
  readonly getThrottles?: number;
}

/** A plain fake of the one SDK call surface: a store of secrets behind `send`, recording every call. */
function fakeClient(store: readonly StoredSecret[], opts: FakeOptions = {}): { client: SecretsPort; calls: Call[] } {
  const calls: Call[] = [];
  const send = async (command: { input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }) => {
    const name = command.constructor.name;
    calls.push({ command: name, input: command.input });
    const signal = options?.abortSignal;
    assert.ok(signal, `${name} was sent without an abort signal`);
    if (opts.hang) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    if (signal.aborted) throw Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    if (name === 'BatchGetSecretValueCommand') {
      if (opts.batchThrows) throw opts.batchThrows;
      const ids = command.input.SecretIdList as string[];
      assert.ok(ids.length <= BATCH_LIMIT, `BatchGet with ${ids.length} ids`);
      const values: SecretValueEntry[] = [];
      const errors: { SecretId: string; ErrorCode: string; Message: string }[] = [];
      for (const id of ids) {
        if (opts.batchSkips?.includes(id)) continue;
        const s = find(store, id);
        const code = opts.batchErrorCode?.[id] ?? (s ? undefined : 'ResourceNotFoundException');
        if (code) errors.push({ SecretId: id, ErrorCode: code, Message: `${code}: ${LEAK}` });
        else values.push(entry(s!));
      }
      if (opts.reverse) values.reverse();
      if (opts.paginate && !command.input.NextToken) {
        return { SecretValues: values.slice(0, 1), Errors: errors, NextToken: 'page-2' };
      }
      if (opts.paginate) return { SecretValues: values.slice(1), Errors: [] };
      return { SecretValues: values, Errors: errors };
    }
    if (name === 'GetSecretValueCommand') {
      if (calls.filter((c) => c.command === name).length <= (opts.getThrottles ?? 0)) {
        throw sdkError('ThrottlingException');
      }
      const s = find(store, command.input.SecretId as string);
      if (!s) throw sdkError('ResourceNotFoundException');
      const { VersionId, VersionStage } = command.input;
      const i = VersionId ? s.versions.findIndex(([v]) => v === VersionId) : VersionStage === 'AWSPREVIOUS' ? 1 : 0;
      if (i < 0) throw sdkError('ResourceNotFoundException');
      return entry(s, i);
    }
    throw new Error(`unexpected command ${name}`);
  };
  return { client: { send } as unknown as SecretsPort, calls };
}

function logger() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', dest), lines };
}
const live = () => new AbortController().signal;
const specs = (...ids: string[]): SecretSourceSpec[] => ids.map((secretId) => ({ type: 'secretsmanager', secretId }));
/** The secrets read, or the error render would fail with (every failure named, exit 3). */
async function fetch(s: readonly SecretSourceSpec[], client: SecretsPort, signal = live()): Promise<FetchedSecret[]> {
  const read = await readSecrets(s, client, signal, logger().logger);
  // Reading only: what the payloads hold is parsePayload's business (payload.test.ts).
  failClosed(read.map((o, i) => ({ ...secretVerdict(s[i]!, o), problems: [] })));
  return read.flatMap((o) => (o.ok ? [o.value] : []));
}

async function sourceError(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SourceError, `expected SourceError, got ${String(err)}`);
    assert.equal(err.exitCode, ExitCode.source);
    assert.ok(!err.message.includes('LEAK'), `SDK text leaked: ${err.message}`);
    return err;
  }
  assert.fail('expected a SourceError');
}
const summary = (calls: Call[]) =>
  calls.map((c) => `${c.command.replace('Command', '')} ${JSON.stringify(c.input.SecretIdList ?? c.input)}`);

// One valid store; cases add to it or tweak the fake.
const APP = stored('short-cut/prod/app');
const DB = stored('short-cut/prod/db');

describe('readSecrets (what render fails closed with)', () => {
  it('reads unpinned secrets with one BatchGetSecretValue and returns them in spec order with their versions', async () => {
    const { client, calls } = fakeClient([APP, DB], { reverse: true });
    const got = await fetch(specs('short-cut/prod/app', 'short-cut/prod/db'), client);
    assert.deepEqual(summary(calls), ['BatchGetSecretValue ["short-cut/prod/app","short-cut/prod/db"]']);
    assert.deepEqual(got, [
      {
        spec: { type: 'secretsmanager', secretId: 'short-cut/prod/app' },
        arn: arnOf(APP),
        name: 'short-cut/prod/app',
        versionId: 'v-short-cut/prod/app-current',
        versionStages: ['AWSCURRENT'],
        secretString: '{"K":"VALUE-short-cut/prod/app"}',
      },
      {
        spec: { type: 'secretsmanager', secretId: 'short-cut/prod/db' },
        arn: arnOf(DB),
        name: 'short-cut/prod/db',
        versionId: 'v-short-cut/prod/db-current',
        versionStages: ['AWSCURRENT'],
        secretString: '{"K":"VALUE-short-cut/prod/db"}',
      },
    ]);
  });

  it('asks for at most 20 ids per BatchGetSecretValue call', async () => {
    const store = Array.from({ length: 45 }, (_, i) => stored(`s${i}`));
    const { client, calls } = fakeClient(store);
    const got = await fetch(specs(...store.map((s) => s.name)), client);
    assert.deepEqual(
      calls.map((c) => [c.command, (c.input.SecretIdList as string[]).length]),
      [
        ['BatchGetSecretValueCommand', 20],
        ['BatchGetSecretValueCommand', 20],
        ['BatchGetSecretValueCommand', 5],
      ],
    );
    assert.deepEqual(
      got.map((g) => g.name),
      store.map((s) => s.name),
    );
  });

  it('follows NextToken until the batch answer is complete', async () => {
    const { client, calls } = fakeClient([APP, DB], { paginate: true });
    const got = await fetch(specs('short-cut/prod/app', 'short-cut/prod/db'), client);
    assert.deepEqual(
      calls.map((c) => c.input.NextToken),
      [undefined, 'page-2'],
    );
    assert.equal(got.length, 2);
  });

  it('reads an id named twice once and returns it for each spec', async () => {
    const { client, calls } = fakeClient([APP, DB]);
    const got = await fetch(specs('short-cut/prod/app', 'short-cut/prod/db', 'short-cut/prod/app'), client);
    assert.deepEqual(summary(calls), ['BatchGetSecretValue ["short-cut/prod/app","short-cut/prod/db"]']);
    assert.deepEqual(
      got.map((g) => g.name),
      ['short-cut/prod/app', 'short-cut/prod/db', 'short-cut/prod/app'],
    );
  });

  it('matches ids given as a full ARN or a partial ARN (without the random suffix)', async () => {
    const { client } = fakeClient([APP, DB], { reverse: true });
    const full = arnOf(APP);
    const partial = `${ACCOUNT_PREFIX}short-cut/prod/db`;
    const got = await fetch(specs(full, partial), client);
    assert.deepEqual(
      got.map((g) => [g.spec.secretId, g.name]),
      [
        [full, 'short-cut/prod/app'],
        [partial, 'short-cut/prod/db'],
      ],
    );
  });

  it('prefers an exact ARN match over a partial one (the full ARN of "app" is a partial ARN of "app-AbCdEf")', async () => {
    const app = stored('app');
    const lookalike: StoredSecret = { ...stored('app-AbCdEf'), suffix: 'XyZ123' };
    // The lookalike comes first in the answer.
    const { client } = fakeClient([app, lookalike], { reverse: true });
    const got = await fetch(specs(arnOf(app), 'app-AbCdEf'), client);
    assert.deepEqual(
      got.map((g) => g.name),
      ['app', 'app-AbCdEf'],
    );
  });

  it('passes SecretBinary through', async () => {
    const bin: StoredSecret = { ...stored('bin'), binary: new Uint8Array([0, 1, 2]) };
    const [got] = await fetch(specs('bin'), fakeClient([bin]).client);
    assert.deepEqual(got!.secretBinary, new Uint8Array([0, 1, 2]));
    assert.equal(got!.secretString, undefined);
  });

  it('reads pinned versionStage and versionId with GetSecretValue, the rest in one batch', async () => {
    const { client, calls } = fakeClient([APP, DB]);
    const got = await fetch(
      [
        { type: 'secretsmanager', secretId: 'short-cut/prod/app' },
        { type: 'secretsmanager', secretId: 'short-cut/prod/app', versionStage: 'AWSPREVIOUS' },
        { type: 'secretsmanager', secretId: 'short-cut/prod/db', versionId: 'v-short-cut/prod/db-previous' },
      ],
      client,
    );
    assert.deepEqual(summary(calls).sort(), [
      'BatchGetSecretValue ["short-cut/prod/app"]',
      'GetSecretValue {"SecretId":"short-cut/prod/app","VersionStage":"AWSPREVIOUS"}',
      'GetSecretValue {"SecretId":"short-cut/prod/db","VersionId":"v-short-cut/prod/db-previous"}',
    ]);
    assert.deepEqual(
      got.map((g) => g.versionId),
      ['v-short-cut/prod/app-current', 'v-short-cut/prod/app-previous', 'v-short-cut/prod/db-previous'],
    );
  });

  it('falls back to GetSecretValue (stage AWSCURRENT) per secret when BatchGetSecretValue is denied, and logs it once', async () => {
    const { client, calls } = fakeClient([APP, DB], { batchThrows: sdkError('AccessDeniedException') });
    const log = logger();
    const got = (await readSecrets(specs('short-cut/prod/app', 'short-cut/prod/db'), client, live(), log.logger)).map(
      (o) => (o.ok ? o.value : assert.fail(o.error)),
    );
    assert.deepEqual(summary(calls), [
      'BatchGetSecretValue ["short-cut/prod/app","short-cut/prod/db"]',
      'GetSecretValue {"SecretId":"short-cut/prod/app","VersionStage":"AWSCURRENT"}',
      'GetSecretValue {"SecretId":"short-cut/prod/db","VersionStage":"AWSCURRENT"}',
    ]);
    assert.deepEqual(
      got.map((g) => g.secretString),
      ['{"K":"VALUE-short-cut/prod/app"}', '{"K":"VALUE-short-cut/prod/db"}'],
    );
    const warnings = log.lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'batch.denied');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].error, 'AccessDeniedException');
    assert.ok(!log.lines.join('').includes('LEAK'));
  });

  it('falls back to GetSecretValue per secret when BatchGetSecretValue stays throttled (its quota is 100/s), for every chunk, and logs it once', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `s${i}`);
    const { client, calls } = fakeClient(
      ids.map((id) => stored(id)),
      {
        batchThrows: sdkError('ThrottlingException'),
      },
    );
    const log = logger();
    const got = (await readSecrets(specs(...ids), client, live(), log.logger)).map((o) =>
      o.ok ? o.value : assert.fail(o.error),
    );
    assert.deepEqual(
      got.map((g) => g.secretString),
      ids.map((id) => `{"K":"VALUE-${id}"}`),
    );
    // Five chunks, four at a time: the first four batches were tried (and throttled past the SDK's retries);
    // the fifth chunk went straight to GetSecretValue, whose quota is a hundred times larger.
    assert.equal(calls.filter((c) => c.command === 'BatchGetSecretValueCommand').length, 4);
    assert.equal(calls.filter((c) => c.command === 'GetSecretValueCommand').length, 100);
    const warnings = log.lines.map((l) => JSON.parse(l)).filter((l) => l.event === 'batch.throttled');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].error, 'ThrottlingException');
  });

  it('sends a GetSecretValue that stays throttled again, with jittered back-off, within the deadline', async () => {
    const { client, calls } = fakeClient([APP], {
      batchThrows: sdkError('ThrottlingException'),
      getThrottles: 2,
    });
    const [got] = await fetch(specs('short-cut/prod/app'), client);
    assert.equal(got?.secretString, '{"K":"VALUE-short-cut/prod/app"}');
    assert.deepEqual(
      calls.map((c) => c.command),
      ['BatchGetSecretValueCommand', 'GetSecretValueCommand', 'GetSecretValueCommand', 'GetSecretValueCommand'],
    );
  });

  it('gives up on a GetSecretValue throttled at every try: exit 3 naming the secret', async () => {
    const { client, calls } = fakeClient([APP], {
      batchThrows: sdkError('ThrottlingException'),
      getThrottles: 1000,
    });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort('deadline of 30s exceeded'), 20_000);
    const err = await sourceError(fetch(specs('short-cut/prod/app'), client, ac.signal));
    clearTimeout(timer);
    assert.equal(err.message, 'reading secret "short-cut/prod/app": ThrottlingException');
    assert.equal(calls.filter((c) => c.command === 'GetSecretValueCommand').length, 5, 'one call and 4 retries');
  });

  it('does not fall back on a bare HTTP 403 (expired or invalid credentials fail the same per secret)', async () => {
    const { client, calls } = fakeClient([APP], { batchThrows: sdkError('SyntaxError', 403) });
    await assert.rejects(fetch(specs('short-cut/prod/app'), client), (err: unknown) => err instanceof SourceError);
    assert.deepEqual(
      calls.map((c) => c.command),
      ['BatchGetSecretValueCommand'],
    );
  });

  // Each failure names the id and the reason, never the SDK message; the whole read fails (exit 3).
  const failures: { name: string; specs: SecretSourceSpec[]; fake: FakeOptions; message: string }[] = [
    {
      name: 'BatchGet Errors[] for one of several secrets',
      specs: specs('short-cut/prod/app', 'absent'),
      fake: {},
      message: 'reading secret "absent": ResourceNotFoundException (no such secret or version)',
    },
    {
      name: 'several Errors[] at once',
      specs: specs('gone-1', 'short-cut/prod/app', 'gone-2'),
      fake: { batchErrorCode: { 'short-cut/prod/app': 'DecryptionFailure' } },
      message:
        'reading secret "gone-1": ResourceNotFoundException (no such secret or version); ' +
        'reading secret "short-cut/prod/app": DecryptionFailure (kms:Decrypt denied or key disabled); ' +
        'reading secret "gone-2": ResourceNotFoundException (no such secret or version)',
    },
    {
      name: 'a per-secret AccessDenied in Errors[] (no fallback: GetSecretValue would be denied too)',
      specs: specs('short-cut/prod/app'),
      fake: { batchErrorCode: { 'short-cut/prod/app': 'AccessDeniedException' } },
      message: 'reading secret "short-cut/prod/app": AccessDeniedException',
    },
    {
      name: 'an Errors[] code that is not an identifier',
      specs: specs('short-cut/prod/app'),
      fake: { batchErrorCode: { 'short-cut/prod/app': 'LEAK-secret in code' } },
      message: 'reading secret "short-cut/prod/app": Error',
    },
    {
      name: 'an id BatchGet neither returns nor reports',
      specs: specs('short-cut/prod/app', 'short-cut/prod/db'),
      fake: { batchSkips: ['short-cut/prod/db'] },
      message: 'reading secret "short-cut/prod/db": not returned by BatchGetSecretValue',
    },
    {
      name: 'a missing secret after the throttling fallback',
      specs: specs('short-cut/prod/app', 'absent'),
      fake: { batchThrows: sdkError('ThrottlingException') },
      message: 'reading secret "absent": ResourceNotFoundException (no such secret or version)',
    },
    {
      name: 'BatchGet server fault',
      specs: specs('short-cut/prod/app'),
      fake: { batchThrows: sdkError('InternalServiceError', 500) },
      message: 'reading secret "short-cut/prod/app": InternalServiceError (HTTP 500)',
    },
    {
      name: 'a missing secret after the AccessDenied fallback',
      specs: specs('short-cut/prod/app', 'absent'),
      fake: { batchThrows: sdkError('AccessDeniedException') },
      message: 'reading secret "absent": ResourceNotFoundException (no such secret or version)',
    },
    {
      name: 'a pinned version that does not exist',
      specs: [{ type: 'secretsmanager', secretId: 'short-cut/prod/app', versionId: 'v-nope' }],
      fake: {},
      message: 'reading secret "short-cut/prod/app": ResourceNotFoundException (no such secret or version)',
    },
  ];
  for (const c of failures) {
    it(`fails with exit 3 naming the secret: ${c.name}`, async () => {
      const { client } = fakeClient([APP, DB], c.fake);
      const err = await sourceError(fetch(c.specs, client));
      assert.equal(err.message, c.message);
    });
  }

  it('stops when the signal is already aborted (render turns that into its deadline error)', async () => {
    const ac = new AbortController();
    ac.abort('deadline of 30s exceeded');
    await assert.rejects(fetch(specs('short-cut/prod/app'), fakeClient([APP]).client, ac.signal));
  });

  it('stops when the deadline passes mid-call, batch or single', async () => {
    for (const pinned of [false, true]) {
      const ac = new AbortController();
      const { client } = fakeClient([APP], { hang: true });
      const spec: SecretSourceSpec = pinned
        ? { type: 'secretsmanager', secretId: 'short-cut/prod/app', versionStage: 'AWSPREVIOUS' }
        : { type: 'secretsmanager', secretId: 'short-cut/prod/app' };
      const p = fetch([spec], client, ac.signal);
      setImmediate(() => ac.abort(new Error('deadline of 2s exceeded')));
      await assert.rejects(p);
    }
  });

  it('makes no call for no sources', async () => {
    const { client, calls } = fakeClient([APP]);
    assert.deepEqual(await fetch([], client), []);
    assert.deepEqual(calls, []);
  });
});
