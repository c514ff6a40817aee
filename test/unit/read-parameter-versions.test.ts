import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeParametersCommand, type ParameterMetadata } from '@aws-sdk/client-ssm';
import type { SsmPort } from '../../shared/aws-ports.ts';
import { createCallContext } from '../../watcher/call-context.ts';
import { fingerprint } from '../../watcher/fingerprint.ts';
import type { SecretVersion } from '../../watcher/model.ts';
import { DESCRIBE_PARAMETERS_MAX, readParameterVersions } from '../../watcher/read-parameter-versions.ts';

// A plain fake of DescribeParameters over a store of parameter metadata; every command is recorded.

const T = (s: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, s));
type Store = Record<string, { version: number; at: Date }>;
const STORE: Store = {
  '/app/prod/DATABASE_URL': { version: 3, at: T(10) },
  '/app/prod/db/pool': { version: 1, at: T(5) },
  '/app/prod2/X': { version: 1, at: T(50) },
  PLAIN: { version: 7, at: T(1) },
};

interface FakeOptions {
  /** Answers this many a page (AWS: at most 50, maybe fewer, even none). */
  readonly pageSize?: number;
  /** Every call throws this. */
  readonly fails?: Error;
}

function fakeSsm(store: Store, opts: FakeOptions = {}) {
  const sent: DescribeParametersCommand[] = [];
  const send = async (cmd: DescribeParametersCommand, o?: { abortSignal?: AbortSignal }) => {
    assert.ok(cmd instanceof DescribeParametersCommand, 'DescribeParameters only: metadata, never a value');
    assert.ok(o?.abortSignal, 'sent with the pass deadline');
    sent.push(cmd);
    if (opts.fails) throw opts.fails;
    const { ParameterFilters, MaxResults, NextToken } = cmd.input;
    assert.equal(ParameterFilters?.length, 1);
    const [f] = ParameterFilters!;
    assert.ok((f!.Values?.length ?? 0) <= DESCRIBE_PARAMETERS_MAX, 'a filter takes at most 50 values');
    assert.ok((MaxResults ?? 0) <= DESCRIBE_PARAMETERS_MAX);
    const match = (name: string) =>
      f!.Key === 'Name' ? f!.Values!.includes(name) : name.startsWith(`${f!.Values![0]}/`);
    const all = Object.keys(store).filter(match).sort();
    const from = Number(NextToken ?? 0);
    const size = Math.min(MaxResults ?? 50, opts.pageSize ?? 50);
    const Parameters: ParameterMetadata[] = all.slice(from, from + size).map((Name) => ({
      Name,
      Version: store[Name]!.version,
      LastModifiedDate: store[Name]!.at,
      Type: 'SecureString',
    }));
    return { Parameters, ...(from + size < all.length && { NextToken: String(from + size) }) };
  };
  return { port: { send } as unknown as SsmPort, sent };
}

const ctx = () => createCallContext({ signal: new AbortController().signal, concurrency: 4 });
const read = async (store: Store, ids: string[], opts?: FakeOptions) => {
  const fake = fakeSsm(store, opts);
  const c = ctx();
  const got = await readParameterVersions(fake.port, ids, c);
  return { got, sent: fake.sent, counts: c.counts() };
};
const ok = (o: { ok: boolean; value?: SecretVersion } | undefined) => {
  assert.ok(o?.ok, JSON.stringify(o));
  return o.value!;
};

describe('readParameterVersions', () => {
  it('reads parameters by name: the id as key, version and date as the version, the date as changedAt', async () => {
    const { got, sent, counts } = await read(STORE, ['ssm:/app/prod/DATABASE_URL', 'ssm:PLAIN', 'ssm:PLAIN']);
    assert.deepEqual(ok(got.get('ssm:/app/prod/DATABASE_URL')), {
      arn: 'ssm:/app/prod/DATABASE_URL',
      currentVersionId: '3@2026-01-02T03:04:10.000Z',
      changedAt: T(10).getTime(),
    });
    assert.equal(ok(got.get('ssm:PLAIN')).currentVersionId, '7@2026-01-02T03:04:01.000Z');
    assert.deepEqual(
      sent.map((c) => c.input.ParameterFilters),
      [[{ Key: 'Name', Option: 'Equals', Values: ['/app/prod/DATABASE_URL', 'PLAIN'] }]],
    );
    assert.deepEqual(counts, { DescribeParameters: 1 });
  });

  it('asks for names 50 at a time and follows every page', async () => {
    const store: Store = {};
    for (let i = 0; i < 120; i++) store[`/many/P${i}`] = { version: i + 1, at: T(i % 60) };
    const ids = Object.keys(store).map((n) => `ssm:${n}`);
    const { got, sent } = await read(store, ids, { pageSize: 20 });
    assert.equal(got.size, 120);
    assert.ok([...got.values()].every((o) => o.ok));
    assert.deepEqual(
      sent.map((c) => c.input.ParameterFilters![0]!.Values!.length).sort((a, b) => b - a),
      [50, 50, 50, 50, 50, 50, 20],
      'chunks of 50, 20 a page: three pages for each full chunk, one for the rest',
    );
  });

  it('reads a path as a digest over every parameter under it: it changes when one is added, removed or updated', async () => {
    const path = 'ssm:/app/prod/';
    const version = async (store: Store) => {
      const { got, sent } = await read(store, [path], { pageSize: 1 });
      assert.deepEqual(sent[0]!.input.ParameterFilters, [{ Key: 'Path', Option: 'Recursive', Values: ['/app/prod'] }]);
      return ok(got.get(path));
    };
    const base = await version(STORE);
    assert.equal(base.arn, path);
    assert.match(base.currentVersionId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(base.changedAt, T(10).getTime(), 'the latest change under the path (not /app/prod2/)');
    assert.deepEqual(await version({ ...STORE }), base, 'the same parameters: the same version');
    const { '/app/prod/db/pool': _removed, ...without } = STORE;
    const changed = [
      { ...STORE, '/app/prod/NEW': { version: 1, at: T(20) } },
      without,
      { ...STORE, '/app/prod/db/pool': { version: 2, at: T(30) } },
      // Deleted and created again: the version starts at 1 again, the date tells it apart.
      { ...STORE, '/app/prod/db/pool': { version: 1, at: T(40) } },
      // A sibling path that merely starts with the same text changes nothing.
    ];
    const versions = await Promise.all(changed.map(version));
    for (const v of versions) assert.notEqual(v.currentVersionId, base.currentVersionId);
    assert.equal(new Set(versions.map((v) => v.currentVersionId)).size, versions.length);
    const sibling = await version({ ...STORE, '/app/prod2/Y': { version: 1, at: T(59) } });
    assert.equal(sibling.currentVersionId, base.currentVersionId);
  });

  it('an empty path has a version of its own (no changedAt), which its first parameter changes', async () => {
    const { got } = await read(STORE, ['ssm:/none/']);
    const empty = ok(got.get('ssm:/none/'));
    assert.equal(empty.changedAt, undefined);
    const { got: after } = await read({ ...STORE, '/none/A': { version: 1, at: T(0) } }, ['ssm:/none/']);
    assert.notEqual(ok(after.get('ssm:/none/')).currentVersionId, empty.currentVersionId);
  });

  it('feeds the fingerprint: a bound parameter or path changing changes it, order and duplicates do not', async () => {
    const ids = ['ssm:/app/prod/', 'ssm:PLAIN'];
    const fp = async (store: Store, list = ids) => fingerprint([...(await read(store, list)).got.values()].map(ok));
    const base = await fp(STORE);
    assert.equal(await fp(STORE, [...ids].reverse().concat(ids)), base);
    assert.notEqual(await fp({ ...STORE, PLAIN: { version: 8, at: T(2) } }), base);
    assert.notEqual(await fp({ ...STORE, '/app/prod/deep/NEW': { version: 1, at: T(2) } }), base);
  });

  it('fails a missing parameter, a failed read (error name only) and an id that is not a parameter', async () => {
    const { got } = await read(STORE, ['ssm:/app/prod/MISSING', 'short-cut/prod/app', 'ssm:/a//b']);
    assert.deepEqual(got.get('ssm:/app/prod/MISSING'), { ok: false, error: 'ParameterNotFound (no such parameter)' });
    assert.deepEqual(got.get('short-cut/prod/app'), {
      ok: false,
      error: 'not a parameter id (ssm:NAME or ssm:/PATH/)',
    });
    assert.equal(got.get('ssm:/a//b')?.ok, false);

    const denied = Object.assign(new Error('AccessDeniedException: User arn:aws:sts::1:x request id 42'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const failed = await read(STORE, ['ssm:PLAIN', 'ssm:/app/prod/'], { fails: denied });
    for (const o of failed.got.values()) assert.deepEqual(o, { ok: false, error: 'AccessDeniedException' });
  });

  it('fails a read still queued when the pass deadline has passed, without sending it', async () => {
    const fake = fakeSsm(STORE);
    const ac = new AbortController();
    ac.abort();
    const got = await readParameterVersions(
      fake.port,
      ['ssm:PLAIN'],
      createCallContext({ signal: ac.signal, concurrency: 1 }),
    );
    assert.deepEqual(got.get('ssm:PLAIN'), { ok: false, error: 'deadline exceeded' });
    assert.equal(fake.sent.length, 0);
  });
});
