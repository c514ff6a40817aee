import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  promises as fsp,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DATA_LINK, type WriterFs, writeOutputs } from '../../init/output-writer.ts';
import type { OutputFile } from '../../init/plan.ts';
import { OutputError } from '../../shared/errors.ts';
import { debrisIn, removeDir, snapshotDir, tempDir, visibleNames } from '../helpers/cli.ts';

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
const meta = (files: readonly string[] = [], extra = '') =>
  file('render.json', `{"files":{${files.map((f) => `"${f}":{}`).join(',')}}${extra}}`);
const write = (files: OutputFile[], opts: { fs?: WriterFs; owner?: { uid: number; gid: number } } = {}) =>
  writeOutputs(dir, files, {
    metadata: meta(files.map((f) => f.name)),
    ...opts,
  });

type Method = 'open' | 'rename' | 'symlink' | 'link' | 'mkdir';

/** A real fs that throws on the Nth call of one method: "fails on its second file" without patching modules. */
function failingFs(method: Method, failOn: number): WriterFs {
  let calls = 0;
  const wrap = <F extends (...a: never[]) => Promise<unknown>>(name: Method, real: F): F =>
    ((...a: Parameters<F>) => {
      if (name !== method) return real(...a);
      calls++;
      if (calls === failOn) return Promise.reject(Object.assign(new Error('injected'), { code: 'ENOSPC' }));
      return real(...a);
    }) as F;
  return {
    ...fsp,
    open: wrap('open', fsp.open),
    rename: wrap('rename', fsp.rename),
    symlink: wrap('symlink', fsp.symlink),
    link: wrap('link', fsp.link),
    mkdir: wrap('mkdir', fsp.mkdir),
  };
}

/** The number of calls of `method` a successful write makes from `setup`'s state (to fail each in turn). */
async function callsOf(method: Method, setup: () => Promise<void>, next: OutputFile[]): Promise<number> {
  await setup();
  let n = 0;
  const counting: WriterFs = {
    ...fsp,
    [method]: (...a: unknown[]) => {
      n++;
      return (fsp[method] as (...x: unknown[]) => Promise<unknown>)(...a);
    },
  };
  await write(next, { fs: counting });
  removeDir(dir);
  return n;
}

describe('writeOutputs: one set of files, switched at once', () => {
  test('creates the directory 0750 whatever the umask, and every visible name links through ..data', async () => {
    const old = process.umask(0o077);
    try {
      const r = await write([file('app.env', 'a'), file('key.pem', 'k', 0o400)]);
      assert.equal(r.changed, true);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(dir).mode & 0o777, 0o750);
    assert.deepEqual(visibleNames(dir), ['app.env', 'key.pem', 'render.json']);
    for (const n of visibleNames(dir)) assert.equal(readlinkSync(join(dir, n)), `${DATA_LINK}/${n}`);
    const set = readlinkSync(join(dir, DATA_LINK));
    assert.match(set, /^\.\.\d{4}(_\d{2}){5}\.[0-9a-f]{12}$/);
    assert.equal(statSync(join(dir, set)).mode & 0o777, 0o750);
    assert.equal(statSync(join(dir, 'app.env')).mode & 0o777, 0o440);
    assert.equal(statSync(join(dir, 'key.pem')).mode & 0o777, 0o400);
    assert.equal(readFileSync(join(dir, 'key.pem'), 'utf8'), 'k');
    assert.deepEqual(debrisIn(dir), []);
  });

  test('file modes are exact whatever the umask (never world-readable)', async () => {
    const old = process.umask(0);
    try {
      await write([file('app.env', 'a', 0o400)]);
    } finally {
      process.umask(old);
    }
    for (const f of ['app.env', 'render.json']) assert.equal(statSync(join(dir, f)).mode & 0o007, 0, f);
  });

  test('an existing directory keeps its own mode and owner', async () => {
    mkdirSync(dir, { mode: 0o710 });
    await write([file('app.env', 'a')]);
    assert.equal(statSync(dir).mode & 0o777, 0o710);
  });

  test('the same bytes and modes rewrite nothing', async () => {
    await write([file('app.env', 'a')]);
    const before = snapshotDir(dir);
    await new Promise((r) => setTimeout(r, 15));
    const r = await writeOutputs(dir, [file('app.env', 'a')], { metadata: meta(['app.env'], ',"renderedAt":"later"') });
    assert.equal(r.changed, false);
    assert.deepEqual(snapshotDir(dir), before);
  });

  test('a changed mode alone is rewritten', async () => {
    await write([file('app.env', 'a', 0o440)]);
    const r = await write([file('app.env', 'a', 0o400)]);
    assert.equal(r.changed, true);
    assert.equal(statSync(join(dir, 'app.env')).mode & 0o777, 0o400);
  });

  test('a new set replaces the previous one and removes its directory', async () => {
    await write([file('app.env', 'old')]);
    const first = readlinkSync(join(dir, DATA_LINK));
    await write([file('app.env', 'new')]);
    assert.equal(readFileSync(join(dir, 'app.env'), 'utf8'), 'new');
    assert.notEqual(readlinkSync(join(dir, DATA_LINK)), first);
    assert.deepEqual(debrisIn(dir), [], 'the previous set directory is gone');
  });

  // Every call of each kind that a write makes, failed in turn: the directory is exactly as it was.
  const previous = () => write([file('app.env', 'old'), file('gcp-credentials.json', '{"old":1}')]).then(() => {});
  const next = [file('app.env', 'new'), file('gcp-credentials.json', '{"new":1}'), file('tls.crt', 'cert')];
  for (const method of ['open', 'symlink', 'rename', 'mkdir'] as const) {
    test(`any failing ${method} before the switch leaves the previous set exactly as it was (exit 5)`, async () => {
      const total = await callsOf(method, previous, next);
      assert.ok(total > 0);
      for (let failOn = 1; failOn <= total; failOn++) {
        await previous();
        const before = snapshotDir(dir);
        const res = await write(next, { fs: failingFs(method, failOn) }).then(
          () => 'ok' as const,
          (err: unknown) => err,
        );
        if (res === 'ok') {
          // Only calls after the switch may fail without failing the write (the clean-up is best effort).
          assert.equal(readFileSync(join(dir, 'tls.crt'), 'utf8'), 'cert');
        } else {
          assert.ok(res instanceof OutputError && res.exitCode === 5 && /ENOSPC/.test(res.message), String(res));
          assert.deepEqual(snapshotDir(dir), before, `${method} #${failOn} of ${total}`);
        }
        removeDir(dir);
      }
    });
  }

  for (const [what, make] of [
    ['a directory', (p: string) => mkdirSync(p)],
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
    [
      'a link to a FIFO',
      (p: string) => {
        execFileSync('mkfifo', [`${p}.fifo`]);
        symlinkSync(`${p}.fifo`, p);
      },
    ],
    ['a link to elsewhere', (p: string) => symlinkSync('/etc/hostname', p)],
    ['a device', (p: string) => execFileSync('mknod', [p, 'c', '1', '3'])],
    ['a link to a device', (p: string) => symlinkSync('/dev/null', p)],
  ] as const) {
    test(`${what} where a file must go fails at once (exit 5) naming it, before anything is written`, async () => {
      await write([file('app.env', 'old')]);
      make(join(dir, 'tls.crt'));
      const before = snapshotDir(dir);
      await assert.rejects(
        write([file('app.env', 'new'), file('tls.crt', 'cert')]),
        (err: unknown) =>
          err instanceof OutputError && err.exitCode === 5 && err.message.includes(join(dir, 'tls.crt')),
      );
      assert.deepEqual(snapshotDir(dir), before);
    });
  }

  test('a missing or different render.json is rewritten even when the files are the same', async () => {
    const m = (v: string, t: string) => file('render.json', `{"renderedAt":"${t}","v":"${v}"}`);
    await writeOutputs(dir, [file('app.env', 'a')], { metadata: m('1', 't1') });
    const same = await writeOutputs(dir, [file('app.env', 'a')], { metadata: m('1', 't2') });
    assert.equal(same.changed, false, 'only the time differs');
    const other = await writeOutputs(dir, [file('app.env', 'a')], { metadata: m('2', 't3') });
    assert.equal(other.changed, true, 'a new version id is recorded');
    rmSync(join(dir, 'render.json'));
    const restored = await writeOutputs(dir, [file('app.env', 'a')], { metadata: m('2', 't4') });
    assert.equal(restored.changed, true);
    assert.equal(readFileSync(join(dir, 'render.json'), 'utf8'), '{"renderedAt":"t4","v":"2"}');
  });

  test('names an earlier render wrote and this one does not are removed; other files are left alone', async () => {
    await write([file('app.env', 'a'), file('gcp-credentials.json', '{}')]);
    writeFileSync(join(dir, 'operator-notes.txt'), 'not ours');
    const r = await write([file('app.env', 'a')]);
    assert.deepEqual(r.removed, ['gcp-credentials.json']);
    assert.deepEqual(visibleNames(dir), ['app.env', 'operator-notes.txt', 'render.json']);
    assert.deepEqual(debrisIn(dir), []);
  });

  test('a directory an earlier version wrote (regular files) is adopted, then replaced as one set', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app.env'), 'legacy', { mode: 0o440 });
    writeFileSync(join(dir, 'gcp-credentials.json'), '{}', { mode: 0o440 });
    writeFileSync(join(dir, 'render.json'), '{"files":{"app.env":{},"gcp-credentials.json":{}}}', { mode: 0o440 });
    writeFileSync(join(dir, 'operator-notes.txt'), 'not ours');
    writeFileSync(join(dir, '.app.env.tmp-0123456789ab'), 'half of a killed render');
    const r = await write([file('app.env', 'new')]);
    assert.equal(r.changed, true);
    assert.deepEqual(r.removed, ['gcp-credentials.json']);
    assert.deepEqual(visibleNames(dir), ['app.env', 'operator-notes.txt', 'render.json']);
    assert.ok(lstatSync(join(dir, 'app.env')).isSymbolicLink());
    assert.equal(readFileSync(join(dir, 'app.env'), 'utf8'), 'new');
    assert.equal(readFileSync(join(dir, 'operator-notes.txt'), 'utf8'), 'not ours');
    assert.deepEqual(debrisIn(dir), []);
  });

  test('adopting alone changes no content that a reader sees', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app.env'), 'same', { mode: 0o440 });
    writeFileSync(join(dir, 'render.json'), '{"files":{"app.env":{}}}', { mode: 0o440 });
    const r = await write([file('app.env', 'same')]);
    assert.equal(r.changed, false, 'the adopted set already is the new one');
    assert.equal(readFileSync(join(dir, 'app.env'), 'utf8'), 'same');
    assert.ok(lstatSync(join(dir, 'app.env')).isSymbolicLink());
  });

  test('a regular file put at a visible name by hand is replaced by the new set', async () => {
    await write([file('app.env', 'a')]);
    rmSync(join(dir, 'app.env'));
    writeFileSync(join(dir, 'app.env'), 'hand edit');
    await write([file('app.env', 'b')]);
    assert.ok(lstatSync(join(dir, 'app.env')).isSymbolicLink());
    assert.equal(readFileSync(join(dir, 'app.env'), 'utf8'), 'b');
    assert.deepEqual(debrisIn(dir), []);
  });

  test('an old render.json cannot make it touch anything outside the directory', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '..', 'victim'), 'keep');
    writeFileSync(join(dir, 'render.json'), '{"files":{"../victim":{},"/etc/passwd":{}}}');
    await write([file('app.env', 'a')]);
    assert.equal(readFileSync(join(dir, '..', 'victim'), 'utf8'), 'keep');
  });

  test('a ..data link pointing outside the directory is not followed as the live set', async () => {
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(dir, '..', 'elsewhere'));
    writeFileSync(join(dir, '..', 'elsewhere', 'keep'), 'keep');
    symlinkSync('../elsewhere', join(dir, DATA_LINK));
    await write([file('app.env', 'a')]);
    assert.equal(readFileSync(join(dir, '..', 'elsewhere', 'keep'), 'utf8'), 'keep');
    assert.equal(readFileSync(join(dir, 'app.env'), 'utf8'), 'a');
  });

  test('what a killed writer left (set directories, temporary links, a stale lock) is removed', async () => {
    await write([file('app.env', 'a')]);
    mkdirSync(join(dir, '..2026_01_01_00_00_00.0123456789ab'));
    writeFileSync(join(dir, '..2026_01_01_00_00_00.0123456789ab', 'app.env'), 'old key material');
    symlinkSync('..2026_01_01_00_00_00.0123456789ab', join(dir, '..data_tmp-0123456789ab'));
    symlinkSync('..data/app.env', join(dir, '..link-0123456789ab'));
    writeFileSync(join(dir, '.app.env.bak-0123456789ab'), 'x');
    writeFileSync(join(dir, '..lock.new-0123456789abcdef01234567'), '{"token":"killed between link and unlink"}');
    await write([file('app.env', 'a')]);
    assert.deepEqual(debrisIn(dir), []);
  });

  test('an output path that is a file fails with exit 5 naming it', async () => {
    mkdirSync(join(dir, '..'), { recursive: true });
    writeFileSync(dir, 'a file');
    await assert.rejects(
      write([file('app.env', 'a')]),
      (err: unknown) => err instanceof OutputError && err.message.includes(dir) && /ENOTDIR/.test(err.message),
    );
  });

  test('the owner is applied to the files, their set directory and a directory it creates', async () => {
    const owner = { uid: 65532, gid: 10001 };
    await write([file('app.env', 'a')], { owner });
    for (const p of ['app.env', readlinkSync(join(dir, DATA_LINK)), '.']) {
      const st = statSync(join(dir, p));
      assert.deepEqual([st.uid, st.gid], [65532, 10001], p);
    }
    assert.equal(statSync(join(dir, 'app.env')).mode & 0o777, 0o440);
    const again = await write([file('app.env', 'a')], { owner: { uid: 65532, gid: 10002 } });
    assert.equal(again.changed, true, 'another group is a change');
  });

  test('concurrent writers leave exactly one writer set, whole, and nothing else', async () => {
    for (let round = 0; round < 10; round++) {
      const sets = Array.from({ length: 12 }, (_, i) => {
        const tag = `r${round}w${i}`;
        const files = [file('app.env', `export TAG='${tag}'\n`)];
        if (i % 2 === 0) files.push(file('gcp-credentials.json', `{"tag":"${tag}"}`));
        if (i % 3 === 0) files.push(file('tls.crt', tag));
        return { tag, files };
      });
      await Promise.all(
        sets.map((s) => writeOutputs(dir, s.files, { metadata: file('render.json', JSON.stringify({ tag: s.tag })) })),
      );
      const tag = JSON.parse(readFileSync(join(dir, 'render.json'), 'utf8')).tag as string;
      const winner = sets.find((s) => s.tag === tag)!;
      assert.deepEqual(visibleNames(dir), [...winner.files.map((f) => f.name), 'render.json'].sort(), `round ${round}`);
      for (const f of winner.files) assert.equal(readFileSync(join(dir, f.name), 'utf8'), f.content.toString());
      assert.deepEqual(debrisIn(dir), [], `round ${round}: nothing left behind`);
      assert.equal(readdirSync(join(dir, readlinkSync(join(dir, DATA_LINK)))).length, winner.files.length + 1);
    }
  });
});
