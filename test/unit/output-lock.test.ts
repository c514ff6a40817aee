import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { acquireDirLock, LOCK_NAME, LockTimeout } from '../../init/output-lock.ts';
import { removeDir, tempDir } from '../helpers/cli.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
  mkdirSync(dir, { recursive: true });
});
afterEach(() => removeDir(dir));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('acquireDirLock', () => {
  test('a second writer waits until the first releases', async () => {
    const order: string[] = [];
    const releaseA = await acquireDirLock(dir);
    const b = acquireDirLock(dir).then((release) => {
      order.push('b acquired');
      return release;
    });
    await sleep(100);
    order.push('a releases');
    await releaseA();
    const releaseB = await b;
    assert.deepEqual(order, ['a releases', 'b acquired']);
    await releaseB();
    assert.equal(existsSync(join(dir, LOCK_NAME)), false, 'released locks leave nothing');
  });

  test('a lock nobody touched for staleMs (a writer that died) is broken', async () => {
    writeFileSync(join(dir, LOCK_NAME), 'dead');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, LOCK_NAME), old, old);
    const release = await acquireDirLock(dir, { staleMs: 5_000, waitMs: 2_000 });
    await release();
  });

  test('a live holder keeps its lock past staleMs by touching it; a waiter gives up with LockTimeout', async () => {
    const release = await acquireDirLock(dir, { heartbeatMs: 50 });
    await assert.rejects(acquireDirLock(dir, { staleMs: 300, waitMs: 900 }), LockTimeout);
    await release();
  });

  test('release leaves a lock that another writer took after breaking ours alone', async () => {
    const release = await acquireDirLock(dir, { heartbeatMs: 60_000 });
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, LOCK_NAME), old, old);
    const theirs = await acquireDirLock(dir, { staleMs: 1_000 });
    await release();
    assert.equal(existsSync(join(dir, LOCK_NAME)), true, 'the other writer still holds it');
    await theirs();
  });
});

describe('acquireDirLock: a holder that provably died', () => {
  test('a lock of a process that is gone from this PID namespace is broken at once, fresh as it is', async () => {
    const { spawnSync } = await import('node:child_process');
    const { readlinkSync, readFileSync } = await import('node:fs');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const here = {
      ns: readlinkSync('/proc/self/ns/pid'),
      boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    };
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ pid: Number(gone), ...here }));
    const release = await acquireDirLock(dir, { staleMs: 60_000, waitMs: 1_000 });
    await release();
  });

  test('a lock of a live process, or of another namespace, waits for the heartbeat to stop', async () => {
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ pid: process.pid, ns: 'pid:[1]', boot: 'elsewhere' }));
    await assert.rejects(acquireDirLock(dir, { staleMs: 60_000, waitMs: 300 }), LockTimeout);
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ pid: 999_999_999 }));
    await assert.rejects(acquireDirLock(dir, { staleMs: 60_000, waitMs: 300 }), LockTimeout);
  });
});
