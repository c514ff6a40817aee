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

/** A held lock: `held()` says whether the lock file is still this holder's; `release()` removes it if so. */
export interface DirLock {
  held(): Promise<boolean>;
  release(): Promise<void>;
}

interface Holder {
  readonly token: string;
  readonly pid?: number;
  readonly ns?: string;
  readonly boot?: string;
}

/**
 * Serialises writers of one output directory (two renders into one directory happen: a retried init container,
 * `render --watch` beside a manual run, a shared EFS path). Lock-free readers are the atomic `..data` switch's job;
 * this only keeps two writers from interleaving their switch and clean-up.
 *
 * (1) The lock is created whole: its content (a random token, the process id, its PID namespace and boot id) is
 *     written to a file of its own, which is then hard-linked to `..lock`; the link fails if a lock exists.
 * (2) The holder touches the lock every `heartbeatMs` through its own descriptor.
 * (3) A waiter reads the lock through one descriptor (token, holder and age of the same file). It breaks the lock
 *     when nobody touched it for `staleMs` (a render killed, OOM, a stopped container), or at once when the
 *     holder shares its PID namespace and boot and no such process exists (a killed local render).
 * (4) Breaking looks again (a holder judged dead may have released before it died), renames the lock aside and
 *     removes it only if the token is the one judged stale; a live lock caught in between is linked back. Identity is the token, never the inode number,
 *     which a new lock may reuse the moment an old one is removed.
 * (5) Release removes the lock only if it is still this holder's: the same inode as its open descriptor (which
 *     keeps that inode from being reused while it is open).
 */
export async function acquireDirLock(dir: string, options: LockOptions = {}): Promise<DirLock> {
  const fs = options.fs ?? fsp;
  const staleMs = options.staleMs ?? LOCK_DEFAULTS.staleMs;
  const heartbeatMs = options.heartbeatMs ?? LOCK_DEFAULTS.heartbeatMs;
  const waitMs = options.waitMs ?? LOCK_DEFAULTS.waitMs;
  const path = join(dir, LOCK_NAME);
  const me: Holder = { token: randomBytes(12).toString('hex'), pid: process.pid, ...(await host(fs)) };
  const started = Date.now();
  let pause = 5;
  for (;;) {
    const fh = await create(fs, path, me); // (1)
    if (fh) {
      const beat = setInterval(() => {
        const now = new Date();
        fh.utimes(now, now).catch(() => undefined); // (2)
      }, heartbeatMs);
      beat.unref();
      // While this descriptor is open its inode cannot be reused, so the inode number tells our lock from another.
      const held = async () => {
        const [ours, now] = await Promise.all([fh.stat(), fs.lstat(path).catch(notFound)]);
        return now?.ino === ours.ino;
      };
      return {
        held,
        release: async () => {
          clearInterval(beat);
          if (await held().catch(() => false)) await fs.unlink(path).catch(() => undefined); // (5)
          await fh.close().catch(() => undefined);
        },
      };
    }
    const seen = await readLock(fs, path); // (3)
    if (seen && (Date.now() - seen.mtimeMs > staleMs || (await isGone(fs, seen.holder)))) {
      await breakStale(fs, path, seen.holder.token); // (4)
      continue;
    }
    if (Date.now() - started > waitMs) throw new LockTimeout(Date.now() - started);
    // Jittered, growing up to 100 ms: twenty renders at once should not poll in step.
    await delay(pause + Math.floor(Math.random() * pause));
    pause = Math.min(100, pause * 2);
  }
}

/** The lock created whole under `path`, its descriptor kept for heartbeats; undefined if a lock exists. */
async function create(fs: LockFs, path: string, me: Holder) {
  const own = `${path}.new-${me.token}`;
  const fh = await fs.open(own, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(JSON.stringify(me));
    await fs.link(own, path);
    return fh;
  } catch (err) {
    await fh.close().catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return undefined;
  } finally {
    await fs.unlink(own).catch(() => undefined);
  }
}

function notFound(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}

/** The holder and age of the lock file now at `path`, read through one descriptor so both are of the same file. */
async function readLock(fs: LockFs, path: string): Promise<{ holder: Holder; mtimeMs: number } | undefined> {
  const fh = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!fh) return undefined;
  try {
    const [st, text] = await Promise.all([fh.stat(), fh.readFile('utf8')]);
    const holder = JSON.parse(text) as Holder;
    return typeof holder.token === 'string' ? { holder, mtimeMs: st.mtimeMs } : undefined;
  } catch {
    // Not written by this version (an empty or foreign file): judged by its age alone, with a token nobody has.
    const st = await fh.stat().catch(() => undefined);
    return st ? { holder: { token: `unreadable-${st.ino}-${st.mtimeMs}` }, mtimeMs: st.mtimeMs } : undefined;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function breakStale(fs: LockFs, path: string, staleToken: string): Promise<void> {
  // Looked at again now that the holder is judged dead: a holder that released and exited after our first look
  // (a render ends in milliseconds) has left the name to a live lock, which the rename below would take away.
  if ((await readLock(fs, path))?.holder.token !== staleToken) return;
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(path, aside);
  } catch {
    return; // another waiter broke it first
  }
  const moved = await readLock(fs, aside);
  if (moved?.holder.token !== staleToken) {
    // A live lock taken between our look and our rename: give it back. If a third render took the name meanwhile,
    // two now believe they hold it; the writer checks it still holds the lock before it switches the set.
    await fs.link(aside, path).catch(() => undefined);
  }
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
async function isGone(fs: LockFs, holder: Holder): Promise<boolean> {
  const here = await host(fs);
  if (typeof holder.pid !== 'number' || !here.ns || !here.boot) return false;
  if (holder.ns !== here.ns || holder.boot !== here.boot) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
