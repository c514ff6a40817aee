import assert from 'node:assert/strict';
import { promises as fsp, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type WriterFs, writeOutputs } from '../../init/output-writer.ts';
import type { OutputFile } from '../../init/plan.ts';
import { OutputError } from '../../shared/errors.ts';
import { removeDir, snapshotDir, tempDir } from '../helpers/cli.ts';

let dir: string;
beforeEach(() => {
  dir = join(tempDir(), 'out');
});
afterEach(() => removeDir(join(dir, '..')));

const file = (name: string, content: string, mode = 0o440): OutputFile => ({
  name,
  content: Buffer.from(content),
  mode,
});
const meta = (content = '{"files":{}}') => file('render.json', content);

/** A real fs that throws on the Nth call of one method: the "fails on its second file" case without patching. */
function failingFs(method: 'open' | 'rename', failOn: number): WriterFs {
  let calls = 0;
  const fail = async <T>(real: () => Promise<T>): Promise<T> => {
    calls++;
    if (calls === failOn) throw Object.assign(new Error('injected'), { code: 'ENOSPC' });
    return real();
  };
  return {
    ...fsp,
    open: ((...a: Parameters<typeof fsp.open>) =>
      method === 'open' ? fail(() => fsp.open(...a)) : fsp.open(...a)) as typeof fsp.open,
    rename: ((...a: Parameters<typeof fsp.rename>) =>
      method === 'rename' ? fail(() => fsp.rename(...a)) : fsp.rename(...a)) as typeof fsp.rename,
  };
}

describe('writeOutputs', () => {
  test('creates the directory 0750 and writes each file with its mode', async () => {
    const r = await writeOutputs(dir, [file('app.env', 'a'), file('key.pem', 'k', 0o400)], { metadata: meta() });
    assert.equal(r.changed, true);
    assert.equal(statSync(dir).mode & 0o777, 0o750);
    assert.equal(statSync(join(dir, 'app.env')).mode & 0o777, 0o440);
    assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o400);
    assert.equal(statSync(join(dir, 'render.json')).mode & 0o777, 0o440);
    assert.equal(readFileSync(join(dir, 'key.pem'), 'utf8'), 'k');
  });

  test('modes are exact whatever the umask (never world-readable)', async () => {
    const old = process.umask(0);
    try {
      await writeOutputs(dir, [file('app.env', 'a', 0o400)], { metadata: meta() });
    } finally {
      process.umask(old);
    }
    for (const f of ['app.env', 'render.json']) assert.equal(statSync(join(dir, f)).mode & 0o007, 0, f);
  });

  test('the same bytes and modes rewrite nothing', async () => {
    await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta() });
    const before = snapshotDir(dir);
    await new Promise((r) => setTimeout(r, 15));
    const r = await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta('{"files":{},"renderedAt":"later"}') });
    assert.equal(r.changed, false);
    assert.deepEqual(snapshotDir(dir), before);
  });

  test('a changed mode alone is rewritten', async () => {
    await writeOutputs(dir, [file('app.env', 'a', 0o440)], { metadata: meta() });
    const r = await writeOutputs(dir, [file('app.env', 'a', 0o400)], { metadata: meta() });
    assert.equal(r.changed, true);
    assert.equal(statSync(join(dir, 'app.env')).mode & 0o777, 0o400);
  });

  for (const [what, method, failOn] of [
    ['failing on the second file', 'open', 2],
    ['failing on the metadata file', 'open', 3],
  ] as const) {
    test(`${what} leaves the previous files intact and no temp file behind`, async () => {
      await writeOutputs(dir, [file('app.env', 'old'), file('gcp-credentials.json', '{"old":1}')], {
        metadata: meta('{"files":{"app.env":{},"gcp-credentials.json":{}}}'),
      });
      const before = snapshotDir(dir);
      await assert.rejects(
        writeOutputs(dir, [file('app.env', 'new'), file('gcp-credentials.json', '{"new":1}')], {
          metadata: meta(),
          fs: failingFs(method, failOn),
        }),
        (err: unknown) => err instanceof OutputError && err.exitCode === 5 && /ENOSPC/.test(err.message),
      );
      assert.deepEqual(snapshotDir(dir), before);
    });
  }

  for (const failOn of [1, 2, 3]) {
    test(`a rename failing on file ${failOn} of 3 puts the previous set back`, async () => {
      await writeOutputs(dir, [file('app.env', 'old'), file('gcp-credentials.json', '{"old":1}')], {
        metadata: meta('{"files":{"app.env":{},"gcp-credentials.json":{}}}'),
      });
      const before = snapshotDir(dir);
      await assert.rejects(
        writeOutputs(dir, [file('app.env', 'new'), file('gcp-credentials.json', '{"new":1}')], {
          metadata: meta(),
          fs: failingFs('rename', failOn),
        }),
        (err: unknown) => err instanceof OutputError && /renaming/.test(err.message),
      );
      const after = snapshotDir(dir);
      assert.deepEqual(Object.keys(after), Object.keys(before), 'no temp or backup file left');
      for (const name of Object.keys(before)) {
        assert.equal(after[name]!.split(' ')[3], before[name]!.split(' ')[3], `${name} has its old content`);
      }
    });
  }

  test('a rename failing on a file that did not exist before removes it again', async () => {
    await writeOutputs(dir, [file('app.env', 'old')], { metadata: meta('{"files":{"app.env":{}}}') });
    const before = snapshotDir(dir);
    await assert.rejects(
      writeOutputs(dir, [file('app.env', 'new'), file('tls.crt', 'cert')], {
        metadata: meta(),
        fs: failingFs('rename', 3),
      }),
      OutputError,
    );
    assert.deepEqual(Object.keys(snapshotDir(dir)), Object.keys(before));
    assert.equal(readFileSync(join(dir, 'app.env'), 'utf8'), 'old');
  });

  test('a directory where a file must go fails before anything is written (exit 5)', async () => {
    await writeOutputs(dir, [file('app.env', 'old')], { metadata: meta('{"files":{"app.env":{}}}') });
    mkdirSync(join(dir, 'tls.crt'));
    const before = snapshotDir(dir);
    await assert.rejects(
      writeOutputs(dir, [file('app.env', 'new'), file('tls.crt', 'cert')], { metadata: meta() }),
      (err: unknown) => err instanceof OutputError && err.message.includes('tls.crt'),
    );
    assert.deepEqual(snapshotDir(dir), before);
  });

  test('a missing or different render.json is rewritten even when the files are the same', async () => {
    await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta('{"renderedAt":"t1","v":"1"}') });
    const same = await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta('{"renderedAt":"t2","v":"1"}') });
    assert.equal(same.changed, false, 'only the time differs');
    const other = await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta('{"renderedAt":"t3","v":"2"}') });
    assert.equal(other.changed, true, 'a new version id is recorded');
    rmSync(join(dir, 'render.json'));
    const restored = await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta('{"renderedAt":"t4","v":"2"}') });
    assert.equal(restored.changed, true);
    assert.equal(readFileSync(join(dir, 'render.json'), 'utf8'), '{"renderedAt":"t4","v":"2"}');
  });

  test('temp files younger than a minute may be another render in flight and are left alone', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.app.env.tmp-aaaaaaaaaaaa'), 'in flight');
    await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta() });
    assert.ok(Object.keys(snapshotDir(dir)).includes('.app.env.tmp-aaaaaaaaaaaa'));
  });

  test('files an earlier render wrote and this one does not are removed; others are left alone', async () => {
    await writeOutputs(dir, [file('app.env', 'a'), file('gcp-credentials.json', '{}')], {
      metadata: meta('{"files":{"app.env":{},"gcp-credentials.json":{}}}'),
    });
    writeFileSync(join(dir, 'operator-notes.txt'), 'not ours');
    const r = await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta('{"files":{"app.env":{}}}') });
    assert.deepEqual(r.removed, ['gcp-credentials.json']);
    assert.deepEqual(Object.keys(snapshotDir(dir)), ['app.env', 'operator-notes.txt', 'render.json']);
  });

  test('a previous render.json cannot make it delete outside the directory', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '..', 'victim'), 'keep');
    writeFileSync(join(dir, 'render.json'), '{"files":{"../victim":{},"/etc/passwd":{}}}');
    await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta() });
    assert.equal(readFileSync(join(dir, '..', 'victim'), 'utf8'), 'keep');
  });

  test('temp files of a killed render are cleaned up', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.app.env.tmp-0123456789ab'), 'half');
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(join(dir, '.app.env.tmp-0123456789ab'), old, old);
    await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta() });
    assert.deepEqual(Object.keys(snapshotDir(dir)), ['app.env', 'render.json']);
  });

  test('an output path that is a file fails with exit 5 naming it', async () => {
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(dir, 'a file');
    await assert.rejects(
      writeOutputs(dir, [file('app.env', 'a')], { metadata: meta() }),
      (err: unknown) => err instanceof OutputError && err.message.includes(dir) && /ENOTDIR/.test(err.message),
    );
  });

  test('owner is applied when configured', async () => {
    await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta(), owner: { uid: 65532, gid: 10001 } });
    const st = statSync(join(dir, 'app.env'));
    assert.deepEqual([st.uid, st.gid], [65532, 10001]);
    assert.equal(st.mode & 0o777, 0o440);
  });
});
