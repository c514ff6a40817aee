import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createCallContext } from '../../watcher/call-context.ts';
import { readParameterVersions } from '../../watcher/read-parameter-versions.ts';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { assertValidRequests } from '../helpers/service-model.ts';

// The watcher's read of parameter versions (watcher/read-parameter-versions.ts) against moto's SSM through the
// real SDK, behind the limits proxy and a counting proxy: metadata only, every page, and a path's version changing
// exactly when a parameter under it is added, removed or updated.

let moto: Moto;
let proxy: AwsProxy;
let seed: SSMClient;
let watcher: SSMClient;

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  seed = new SSMClient(clientOptions(moto.endpoint));
  watcher = new SSMClient(clientOptions(proxy.endpoint));
});
after(async () => {
  seed.destroy();
  watcher.destroy();
  await proxy.close();
  await moto.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.resetCounts();
});

const put = (Name: string, Value: string, Overwrite = false) =>
  seed.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Overwrite }));

async function versions(ids: string[]) {
  const ctx = createCallContext({ signal: AbortSignal.timeout(20_000), concurrency: 4 });
  const got = await readParameterVersions(watcher, ids, ctx);
  return { got, counts: ctx.counts() };
}
async function versionOf(id: string): Promise<string> {
  const o = (await versions([id])).got.get(id);
  assert.ok(o?.ok, JSON.stringify(o));
  return o.value.currentVersionId;
}

describe('readParameterVersions against moto', () => {
  test('a parameter: its version, and when it changed; an update changes both', async () => {
    await put('/short-cut/prod/DATABASE_URL', 'SEEDED-value-one');
    const first = (await versions(['ssm:/short-cut/prod/DATABASE_URL'])).got.get('ssm:/short-cut/prod/DATABASE_URL');
    assert.ok(first?.ok);
    assert.equal(first.value.arn, 'ssm:/short-cut/prod/DATABASE_URL');
    assert.match(first.value.currentVersionId, /^1@\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    assert.equal(typeof first.value.changedAt, 'number');

    await put('/short-cut/prod/DATABASE_URL', 'SEEDED-value-two', true);
    const second = (await versions(['ssm:/short-cut/prod/DATABASE_URL'])).got.get('ssm:/short-cut/prod/DATABASE_URL');
    assert.ok(second?.ok);
    assert.match(second.value.currentVersionId, /^2@/);
    assert.ok(second.value.changedAt! >= first.value.changedAt!);
    assert.deepEqual(Object.keys(proxy.counts()), ['DescribeParameters'], 'metadata only: no GetParameter* call');
  });

  test('a path: its version changes when a parameter under it is added, updated or removed, and only then', async () => {
    await put('/short-cut/prod/DATABASE_URL', 'SEEDED-a');
    await put('/short-cut/prod/db/pool', '10');
    const id = 'ssm:/short-cut/prod/';
    const v1 = await versionOf(id);
    assert.equal(await versionOf(id), v1, 'nothing changed: the same version');

    await put('/short-cut/prod2/OTHER', 'x');
    await put('/short-cut/staging/DATABASE_URL', 'x');
    assert.equal(await versionOf(id), v1, 'parameters outside the path change nothing');

    await put('/short-cut/prod/deep/er/NEW', 'SEEDED-new');
    const v2 = await versionOf(id);
    assert.notEqual(v2, v1, 'added (three levels down)');

    await put('/short-cut/prod/db/pool', '20', true);
    const v3 = await versionOf(id);
    assert.notEqual(v3, v2, 'updated');

    await seed.send(new DeleteParameterCommand({ Name: '/short-cut/prod/deep/er/NEW' }));
    const v4 = await versionOf(id);
    assert.notEqual(v4, v3, 'removed');
    assert.equal(new Set([v1, v2, v3, v4]).size, 4);
  });

  test('follows every page of a path, and names a missing parameter', async () => {
    for (let i = 0; i < 23; i++) await put(`/many/P${i}`, `v${i}`);
    await put('/one/A', 'a');
    const { got, counts } = await versions(['ssm:/many/', 'ssm:/one/A', 'ssm:/one/MISSING']);
    assert.ok(got.get('ssm:/many/')?.ok);
    assert.ok(got.get('ssm:/one/A')?.ok);
    assert.deepEqual(got.get('ssm:/one/MISSING'), { ok: false, error: 'ParameterNotFound (no such parameter)' });
    // moto answers 10 a page whatever MaxResults says: 3 pages for the path, 1 for the two names.
    assert.equal(counts.DescribeParameters, 4);
    // Adding the 24th parameter (a new page's worth) changes the version.
    const before = got.get('ssm:/many/');
    await put('/many/P23', 'v23');
    const after = (await versions(['ssm:/many/'])).got.get('ssm:/many/');
    assert.ok(before?.ok && after?.ok);
    assert.notEqual(after.value.currentVersionId, before.value.currentVersionId);

    assertValidRequests(
      proxy.bodies('DescribeParameters').map((b, i) => ({
        name: `DescribeParameters #${i}`,
        service: 'ssm',
        operation: 'DescribeParameters',
        params: JSON.parse(b),
      })),
    );
  });
});
