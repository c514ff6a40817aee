import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  promises as fsp,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { acquireDirLock, LOCK_NAME, type LockFs, LockTimeout } from '../../init/output-lock.ts';
import { removeDir, tempDir } from '../helpers/cli.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
  mkdirSync(dir, { recursive: true });
});
afterEach(() => removeDir(dir));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const age = (path: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  utimesSync(path, t, t);
};
/** The lock as a holder in this PID namespace and boot writes it. */
const here = () => ({
  ns: readlinkSync('/proc/self/ns/pid'),
  boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
});
const goneProcess = () =>
  Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

describe('acquireDirLock', () => {
  test('a second writer waits until the first releases, and released locks leave nothing', async () => {
    const order: string[] = [];
    const a = await acquireDirLock(dir);
    const b = acquireDirLock(dir).then((lock) => {
      order.push('b acquired');
      return lock;
    });
    await sleep(100);
    order.push('a releases');
    await a.release();
    const lockB = await b;
    assert.deepEqual(order, ['a releases', 'b acquired']);
    assert.equal(await lockB.held(), true);
    await lockB.release();
    assert.deepEqual(readdirSync(dir), []);
  });

  test('the lock appears whole: its holder and token are in it from the first instant', async () => {
    const lock = await acquireDirLock(dir);
    const content = JSON.parse(readFileSync(join(dir, LOCK_NAME), 'utf8'));
    assert.equal(content.pid, process.pid);
    assert.match(content.token, /^[0-9a-f]{24}$/);
    await lock.release();
  });

  test('a lock nobody touched for staleMs (a writer that died elsewhere) is broken', async () => {
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ token: 'dead', pid: 1, ns: 'pid:[1]', boot: 'other' }));
    age(join(dir, LOCK_NAME), 60_000);
    const lock = await acquireDirLock(dir, { staleMs: 5_000, waitMs: 2_000 });
    await lock.release();
  });

  test('an unreadable lock file (empty, foreign) is judged by its age alone', async () => {
    writeFileSync(join(dir, LOCK_NAME), '');
    await assert.rejects(acquireDirLock(dir, { staleMs: 60_000, waitMs: 200 }), LockTimeout);
    age(join(dir, LOCK_NAME), 120_000);
    const lock = await acquireDirLock(dir, { staleMs: 60_000, waitMs: 2_000 });
    await lock.release();
  });

  test('a live holder keeps its lock past staleMs by touching it; a waiter gives up with LockTimeout', async () => {
    const lock = await acquireDirLock(dir, { heartbeatMs: 50 });
    await assert.rejects(acquireDirLock(dir, { staleMs: 300, waitMs: 900 }), LockTimeout);
    await lock.release();
  });

  test('a holder whose lock was broken knows it, and its release leaves the new holder alone', async () => {
    const mine = await acquireDirLock(dir, { heartbeatMs: 60_000 });
    age(join(dir, LOCK_NAME), 60_000);
    const theirs = await acquireDirLock(dir, { staleMs: 1_000 });
    assert.equal(await mine.held(), false);
    await mine.release();
    assert.equal(existsSync(join(dir, LOCK_NAME)), true, 'the other writer still holds it');
    assert.equal(await theirs.held(), true);
    await theirs.release();
  });

  test('a lock of a process gone from this PID namespace is broken at once, fresh as it is', async () => {
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ token: 't', pid: goneProcess(), ...here() }));
    const lock = await acquireDirLock(dir, { staleMs: 60_000, waitMs: 1_000 });
    await lock.release();
  });

  test('a lock of a live process, or of another namespace, waits for the heartbeat to stop', async () => {
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ token: 't', pid: process.pid, ...here() }));
    await assert.rejects(acquireDirLock(dir, { staleMs: 60_000, waitMs: 300 }), LockTimeout);
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ token: 't', pid: goneProcess(), ns: 'pid:[1]', boot: 'x' }));
    await assert.rejects(acquireDirLock(dir, { staleMs: 60_000, waitMs: 300 }), LockTimeout);
  });

  test('a lock judged stale that is replaced before the break (same inode number or not) is given back', async () => {
    // The waiter reads a dead holder's lock; before it renames the lock aside, that lock is replaced by a live
    // one. Identity is the token: the live lock is linked back, never removed.
    const stale = { token: 'stale', pid: goneProcess(), ...here() };
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify(stale));
    let replaced = false;
    const racing: LockFs = {
      ...fsp,
      rename: async (from, to) => {
        if (!replaced && String(from).endsWith(LOCK_NAME)) {
          replaced = true;
          writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ token: 'live', pid: process.pid, ...here() }));
        }
        return fsp.rename(from, to);
      },
    };
    await assert.rejects(acquireDirLock(dir, { fs: racing, staleMs: 60_000, waitMs: 300 }), LockTimeout);
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_NAME), 'utf8')).token, 'live');
  });

  test('a holder that releases and exits while a waiter judges it is not broken out of its successor', async () => {
    // The waiter reads A's lock; A releases, B takes the name, A exits; the waiter then finds A gone. Breaking
    // now would take B's live lock away, and a third writer taking the name meanwhile would leave B without it.
    const gone = { token: 'released', pid: goneProcess(), ...here() };
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify(gone));
    let judging = 0;
    const racing: LockFs = {
      ...fsp,
      readlink: (async (path: string) => {
        // The first readlink of the PID namespace is the waiter's own identity; the second, its look at A.
        if (path === '/proc/self/ns/pid' && ++judging === 2) {
          writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ token: 'successor', pid: process.pid, ...here() }));
        }
        return fsp.readlink(path);
      }) as LockFs['readlink'],
      rename: async (from, to) => {
        await fsp.rename(from, to);
        if (String(from).endsWith(LOCK_NAME)) writeFileSync(String(from), JSON.stringify({ token: 'third' }));
      },
    };
    await assert.rejects(acquireDirLock(dir, { fs: racing, staleMs: 60_000, waitMs: 300 }), LockTimeout);
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_NAME), 'utf8')).token, 'successor');
  });
});
