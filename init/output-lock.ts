import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** The lock file in the output directory; `..` names are the writer's own and never a rendered file. */
export const LOCK_NAME = '..lock';

/** The file-system calls the lock makes (a subset of what the writer's tests can fail). */
export type LockFs = Pick<typeof fsp, 'open' | 'lstat' | 'rename' | 'unlink' | 'link' | 'readFile' | 'readlink'>;

export interface LockOptions {
  readonly fs?: LockFs;
  /** A lock whose holder has not touched it for this long is taken to belong to a dead render. */
  readonly staleMs?: number;
  /** How often the holder touches the lock file. */
  readonly heartbeatMs?: number;
  /** Give up waiting after this long (exit 5): the directory is busy or the clock is badly off. */
  readonly waitMs?: number;
}

export const LOCK_DEFAULTS = Object.freeze({ staleMs: 10_000, heartbeatMs: 1_000, waitMs: 30_000 });

/** Thrown when the lock could not be taken in time; the caller turns it into an OutputError. */
export class LockTimeout extends Error {
  readonly code = 'ELOCKED';
  constructor(waitedMs: number) {
    super(`another render held the output directory for ${Math.round(waitedMs / 1000)} s`);
    this.name = 'LockTimeout';
  }
}

/**
 * Serialises writers of one output directory (two renders into one directory happen: a retried init container,
 * `render --watch` beside a manual run, a shared EFS path). Lock-free readers are the atomic `..data` swap's job;
 * this only keeps two writers from interleaving their swap and clean-up.
 *
 * The lock is a file created with O_EXCL. Its holder touches it every `heartbeatMs`, so a lock untouched for
 * `staleMs` belongs to a render that died (SIGKILL, OOM, a stopped container) and is broken: renamed aside, and
 * only if the file renamed is the very one judged stale (same inode) is it removed; if a live lock was caught in
 * between, it is put back. The holder also writes its process id with its PID namespace and boot id: a waiter that
 * shares both and finds no such process breaks the lock at once instead of waiting staleMs (a killed local render);
 * a holder in another container or host is judged by the heartbeat alone.
 * Returns the release function, which removes the lock only if it is still this holder's.
 */
export async function acquireDirLock(dir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const fs = options.fs ?? fsp;
  const staleMs = options.staleMs ?? LOCK_DEFAULTS.staleMs;
  const heartbeatMs = options.heartbeatMs ?? LOCK_DEFAULTS.heartbeatMs;
  const waitMs = options.waitMs ?? LOCK_DEFAULTS.waitMs;
  const path = join(dir, LOCK_NAME);
  const started = Date.now();
  let pause = 5;
  for (;;) {
    try {
      const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      const { ino } = await fh.stat();
      await fh.writeFile(JSON.stringify({ pid: process.pid, ...(await host(fs)) })).catch(() => undefined);
      const beat = setInterval(() => {
        const now = new Date();
        fh.utimes(now, now).catch(() => undefined);
      }, heartbeatMs);
      beat.unref();
      return async () => {
        clearInterval(beat);
        await fh.close().catch(() => undefined);
        // Only our own lock: after a pause longer than staleMs another render may hold a new one.
        const st = await fs.lstat(path).catch(() => undefined);
        if (st?.ino === ino) await fs.unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = await fs.lstat(path).catch(() => undefined);
    if (st && (Date.now() - st.mtimeMs > staleMs || (await holderIsGone(fs, path)))) {
      await breakStale(fs, path, st.ino);
      continue;
    }
    if (Date.now() - started > waitMs) throw new LockTimeout(Date.now() - started);
    // Jittered, growing up to 100 ms: twenty renders at once should not poll in step.
    await delay(pause + Math.floor(Math.random() * pause));
    pause = Math.min(100, pause * 2);
  }
}

async function breakStale(fs: LockFs, path: string, staleIno: number): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(path, aside);
  } catch {
    return; // another waiter broke it first
  }
  const st = await fs.lstat(aside).catch(() => undefined);
  if (st?.ino === staleIno) {
    await fs.unlink(aside).catch(() => undefined);
    return;
  }
  // A live lock taken between our look and our rename: give it back. If a third render took the name meanwhile,
  // two now believe they hold it; that needs three renders racing on a lock dead for staleMs, and even then
  // each one's set stays whole (the ..data swap is atomic).
  await fs.link(aside, path).catch(() => undefined);
  await fs.unlink(aside).catch(() => undefined);
}

/** Where this process's ids mean something: its PID namespace and the boot. */
async function host(fs: LockFs): Promise<{ ns?: string; boot?: string }> {
  const [ns, boot] = await Promise.all([
    fs.readlink('/proc/self/ns/pid').catch(() => undefined),
    fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
      (b) => b.trim(),
      () => undefined,
    ),
  ]);
  return { ...(ns && { ns }), ...(boot && { boot }) };
}

/** True only when the holder provably died: same PID namespace and boot as ours, and no such process. */
async function holderIsGone(fs: LockFs, path: string): Promise<boolean> {
  try {
    const holder = JSON.parse(await fs.readFile(path, 'utf8')) as { pid?: unknown; ns?: unknown; boot?: unknown };
    const here = await host(fs);
    if (typeof holder.pid !== 'number' || !here.ns || !here.boot) return false;
    if (holder.ns !== here.ns || holder.boot !== here.boot) return false;
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
