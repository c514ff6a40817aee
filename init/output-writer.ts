import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { OwnerSpec } from '../shared/config.ts';
import { DIR_MODE, FILE_NAME, METADATA_FILE } from '../shared/contract.ts';
import { OutputError } from '../shared/errors.ts';
import { acquireDirLock, type LockOptions } from './output-lock.ts';
import type { OutputFile } from './plan.ts';

/** The file-system calls the writer makes; tests pass a wrapper that fails the Nth call of one of them. */
export type WriterFs = Pick<
  typeof fsp,
  | 'open'
  | 'rename'
  | 'unlink'
  | 'readFile'
  | 'readdir'
  | 'mkdir'
  | 'stat'
  | 'lstat'
  | 'link'
  | 'symlink'
  | 'readlink'
  | 'rm'
  | 'chmod'
  | 'chown'
>;

export interface WriteResult {
  /** False when the live set already had these bytes, modes and metadata: nothing was written. */
  readonly changed: boolean;
  /** Visible names of an earlier render that this one no longer produces, now removed. */
  readonly removed: readonly string[];
  /** What could not be removed (the caller warns: old key material may be left on disk). */
  readonly leftover: readonly string[];
}

/** The link every visible name resolves through; renaming a new one over it switches the whole set at once. */
export const DATA_LINK = '..data';
/** `..2026_11_29_16_40_07.3f9a1c2b4d5e`: one render's files. */
const SET_DIR = /^\.\.\d{4}(?:_\d{2}){5}\.[0-9a-f]{12}$/;
/** Names a writer that died leaves behind: temporary links, a broken lock, the previous writer's temp files. */
const DEBRIS =
  /^(?:\.\.(?:data_tmp|link|lock\.stale)-[0-9a-f]{12}|\.\.lock\.new-[0-9a-f]{24}|\.[A-Za-z0-9_][A-Za-z0-9_.-]*\.(?:tmp|bak)-[0-9a-f]{12})$/;

export interface WriteOptions {
  readonly owner?: OwnerSpec;
  /** render.json: written last into the set, compared with the live one (its time aside) for "unchanged". */
  readonly metadata: OutputFile;
  readonly fs?: WriterFs;
  readonly lock?: LockOptions;
}

/**
 * Writes a set of files as one, after Kubernetes' AtomicWriter. Each render's files live in a hidden directory
 * of their own; `..data` links to the live one and every visible name is a link through it
 * (`app.env -> ..data/app.env`), so renaming a new `..data` into place switches every file at once: a reader,
 * a crash or a second render never sees `app.env` of one render beside `render.json` of another. Writers are
 * serialised by a lock in the directory (output-lock.ts), so concurrent renders leave exactly one render's set.
 *
 * (1) The output directory is created, mode DIR_MODE whatever the umask, owned as configured.
 * (2) The lock is taken.
 * (3) Every visible name of the new set must be absent, our link, or a regular file; anything else (a
 *     directory, FIFO, device, socket, a link to elsewhere) fails the write before anything changes.
 * (4) What a writer that died left behind is removed: set directories other than the live one (they may hold
 *     old key material), temporary links, a broken lock, the previous writer version's temp files.
 * (5) Regular files at visible names (a directory an earlier version wrote, or a hand edit) are adopted: hard
 *     links to them and to the live set's files go into a new set directory, `..data` is switched to it and each
 *     regular file is replaced by its link. No visible content changes.
 * (6) If the live set has the same files, bytes, modes, owner and metadata (its time aside), nothing is written.
 * (7) The new set directory is written: each file created exclusively, owner and mode set, fsynced; then the
 *     directory itself is fsynced.
 * (8) Links are created for visible names that do not exist yet; they resolve only once `..data` moves.
 * (9) If the lock is still this writer's, a new `..data` link is made beside the old one and renamed over it:
 *     the commit. A failure before it removes what (7) and (8) made and leaves the directory as it was.
 * (10) Links of names the new set no longer has are removed.
 * (11) The previous set directory is removed, the directory fsynced, the lock released.
 */
export async function writeOutputs(
  dir: string,
  files: readonly OutputFile[],
  opts: WriteOptions,
): Promise<WriteResult> {
  const fs = opts.fs ?? fsp;
  const fail = (what: string, err: unknown): never => {
    throw new OutputError(`${what}: ${errCode(err)}`, { cause: err });
  };
  const all = [...files, opts.metadata];
  const names = new Set(all.map((f) => f.name));

  await ensureDir(fs, dir, opts.owner).catch((err) => fail(`output directory "${dir}"`, err)); // (1)
  const lock = await acquireDirLock(dir, { ...opts.lock, fs }).catch((err) => fail(`writing into "${dir}"`, err)); // (2)
  try {
    const entries = await fs.readdir(dir).catch((err) => fail(`reading output directory "${dir}"`, err));
    const live = await liveSet(fs, dir);
    for (const name of names) await checkVisible(fs, dir, name).catch((err) => fail(`"${join(dir, name)}"`, err)); // (3)
    const leftover = await removeDebris(fs, dir, entries, live); // (4)
    let current = await adopt(fs, dir, live, names, opts.owner).catch((err) => fail(`adopting "${dir}"`, err)); // (5)

    let changed = false;
    if (!(await sameSet(fs, dir, current, all, opts.owner))) {
      // (6)
      const next = await writeSet(fs, dir, all, opts.owner, fail); // (7)
      const made: string[] = [];
      try {
        for (const name of names) {
          // (8)
          if (await exists(fs, join(dir, name))) continue;
          await fs.symlink(linkTarget(name), join(dir, name)).catch((err) => fail(`linking "${join(dir, name)}"`, err));
          made.push(name);
        }
        // A holder paused past the lock's staleMs may have lost it to another render: it must not switch then.
        if (!(await lock.held()))
          fail(`switching "${join(dir, DATA_LINK)}"`, { code: 'ELOCKLOST (another render took the lock)' });
        await switchData(fs, dir, next).catch((err) => fail(`switching "${join(dir, DATA_LINK)}"`, err)); // (9)
      } catch (err) {
        await Promise.all(made.map((n) => fs.unlink(join(dir, n)).catch(() => undefined)));
        await fs.rm(join(dir, next), { recursive: true, force: true }).catch(() => undefined);
        throw err;
      }
      if (current !== undefined) {
        await fs.rm(join(dir, current), { recursive: true, force: true }).catch(() => leftover.push(current!)); // (11)
      }
      current = next;
      changed = true;
    }
    const removed: string[] = [];
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      // (10)
      if (names.has(name) || !(await isOurLink(fs, join(dir, name), name))) continue;
      await fs.unlink(join(dir, name)).then(
        () => removed.push(name),
        () => leftover.push(name),
      );
    }
    await fsyncDir(fs, dir);
    return { changed, removed, leftover };
  } finally {
    await lock.release();
  }
}

function linkTarget(name: string): string {
  return `${DATA_LINK}/${name}`;
}

async function exists(fs: WriterFs, path: string): Promise<boolean> {
  return (await fs.lstat(path).catch(() => undefined)) !== undefined;
}

async function isOurLink(fs: WriterFs, path: string, name: string): Promise<boolean> {
  const target = await fs.readlink(path).catch(() => undefined);
  return target === linkTarget(name);
}

/** The live set directory's name, if `..data` links to one of ours (never a path out of the directory). */
async function liveSet(fs: WriterFs, dir: string): Promise<string | undefined> {
  const target = await fs.readlink(join(dir, DATA_LINK)).catch(() => undefined);
  return target !== undefined && SET_DIR.test(target) ? target : undefined;
}

async function checkVisible(fs: WriterFs, dir: string, name: string): Promise<void> {
  const st = await fs.lstat(join(dir, name)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st || st.isFile() || (st.isSymbolicLink() && (await isOurLink(fs, join(dir, name), name)))) return;
  throw Object.assign(new Error('not a file'), { code: `${kindOf(st)} in the way (not a file secrets-init wrote)` });
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a link to elsewhere';
  return 'something';
}

async function removeDebris(
  fs: WriterFs,
  dir: string,
  entries: readonly string[],
  live: string | undefined,
): Promise<string[]> {
  const leftover: string[] = [];
  for (const name of entries) {
    const debris = (SET_DIR.test(name) && name !== live) || DEBRIS.test(name);
    if (debris) await fs.rm(join(dir, name), { recursive: true, force: true }).catch(() => leftover.push(name));
  }
  return leftover;
}

/**
 * (5) Regular files at names this writer manages become links without a visible change: the new set's names,
 * the live set's names, and (for a directory an earlier version wrote, with no `..data` yet) the names its
 * render.json lists. Any other file in the directory is not ours and is left alone.
 */
async function adopt(
  fs: WriterFs,
  dir: string,
  live: string | undefined,
  newNames: ReadonlySet<string>,
  owner: OwnerSpec | undefined,
): Promise<string | undefined> {
  const liveNames = live === undefined ? [] : await fs.readdir(join(dir, live));
  const candidates = new Set([...newNames, ...liveNames, ...(live === undefined ? await legacyNames(fs, dir) : [])]);
  const adopted: string[] = [];
  for (const name of candidates) {
    if ((await fs.lstat(join(dir, name)).catch(() => undefined))?.isFile()) adopted.push(name);
  }
  if (adopted.length === 0) return live;
  const next = newSetName();
  await mkSetDir(fs, join(dir, next), owner);
  try {
    for (const name of liveNames) {
      if (!adopted.includes(name)) await fs.link(join(dir, live!, name), join(dir, next, name));
    }
    for (const name of adopted) await fs.link(join(dir, name), join(dir, next, name));
    await switchData(fs, dir, next);
  } catch (err) {
    await fs.rm(join(dir, next), { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  // Each regular file gives way to a link that resolves to the same inode: no reader sees a change.
  for (const name of adopted) {
    const tmp = join(dir, `..link-${suffix()}`);
    await fs.symlink(linkTarget(name), tmp);
    await fs.rename(tmp, join(dir, name));
  }
  if (live !== undefined) await fs.rm(join(dir, live), { recursive: true, force: true }).catch(() => undefined);
  return next;
}

/** Names an old-layout render.json (a regular file, not a link) lists: only plain names inside the directory. */
async function legacyNames(fs: WriterFs, dir: string): Promise<string[]> {
  const path = join(dir, METADATA_FILE);
  const st = await fs.lstat(path).catch(() => undefined);
  if (!st?.isFile()) return [];
  try {
    const doc = JSON.parse((await fs.readFile(path)).toString('utf8')) as { files?: unknown };
    if (typeof doc.files !== 'object' || doc.files === null) return [METADATA_FILE];
    return [...Object.keys(doc.files).filter((n) => FILE_NAME.test(n)), METADATA_FILE];
  } catch {
    return [METADATA_FILE];
  }
}

/** (6) True when the live set directory holds exactly these files, bytes, modes and owner, and every link is in place. */
async function sameSet(
  fs: WriterFs,
  dir: string,
  live: string | undefined,
  all: readonly OutputFile[],
  owner: OwnerSpec | undefined,
): Promise<boolean> {
  if (live === undefined) return false;
  const present = await fs.readdir(join(dir, live)).catch(() => undefined);
  if (!present || present.length !== all.length) return false;
  const metadata = all[all.length - 1]!;
  for (const f of all) {
    if (!(await isOurLink(fs, join(dir, f.name), f.name))) return false;
    const path = join(dir, live, f.name);
    const st = await fs.lstat(path).catch(() => undefined);
    if (!st?.isFile() || (st.mode & 0o7777) !== f.mode) return false;
    if (owner && (st.uid !== owner.uid || st.gid !== owner.gid)) return false;
    const old = await fs.readFile(path).catch(() => undefined);
    if (old === undefined) return false;
    if (f === metadata ? !sameMetadata(old, f.content) : !old.equals(f.content)) return false;
  }
  return true;
}

/** render.json says the same (sources, versions, digests), its time aside. */
function sameMetadata(a: Buffer, b: Buffer): boolean {
  try {
    const strip = (x: Buffer) => JSON.stringify({ ...JSON.parse(x.toString('utf8')), renderedAt: undefined });
    return strip(a) === strip(b);
  } catch {
    return false;
  }
}

/** (7) A new set directory with every file whole and synced; removed again if any file fails. */
async function writeSet(
  fs: WriterFs,
  dir: string,
  all: readonly OutputFile[],
  owner: OwnerSpec | undefined,
  fail: (what: string, err: unknown) => never,
): Promise<string> {
  const name = newSetName();
  const path = join(dir, name);
  await mkSetDir(fs, path, owner).catch((err) => fail(`creating a directory in "${dir}"`, err));
  try {
    for (const f of all) {
      await writeFile(fs, join(path, f.name), f, owner).catch((err) => fail(`writing "${join(dir, f.name)}"`, err));
    }
    await fsyncDir(fs, path);
  } catch (err) {
    await fs.rm(path, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  return name;
}

async function mkSetDir(fs: WriterFs, path: string, owner: OwnerSpec | undefined): Promise<void> {
  await fs.mkdir(path, { mode: 0o700 });
  if (owner) await fs.chown(path, owner.uid, owner.gid);
  await fs.chmod(path, DIR_MODE);
}

/** (9) Points `..data` at `set` with one rename, so readers switch from one whole set to the next. */
async function switchData(fs: WriterFs, dir: string, set: string): Promise<void> {
  const tmp = join(dir, `..data_tmp-${suffix()}`);
  await fs.symlink(set, tmp);
  try {
    await fs.rename(tmp, join(dir, DATA_LINK));
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(fs, dir);
}

async function ensureDir(fs: WriterFs, dir: string, owner: OwnerSpec | undefined): Promise<void> {
  const st = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (st) {
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    return;
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // The app (another uid, the shared group) must traverse it; the umask must not decide that.
  if (owner) await fs.chown(dir, owner.uid, owner.gid);
  await fs.chmod(dir, DIR_MODE);
}

async function writeFile(fs: WriterFs, path: string, f: OutputFile, owner?: OwnerSpec): Promise<void> {
  const fh = await fs.open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await fh.writeFile(f.content);
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.chmod(f.mode); // after chown, which may clear set-id bits; chmod is not subject to the umask
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function newSetName(): string {
  const t = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '_');
  return `..${t}.${suffix()}`;
}

function suffix(): string {
  return randomBytes(6).toString('hex');
}

async function fsyncDir(fs: WriterFs, dir: string): Promise<void> {
  try {
    const fh = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // some file systems refuse fsync on a directory; the renames are still atomic
  }
}

function errCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return `${e.code} (permission denied for uid ${process.getuid?.() ?? '?'}; check the volume owner and SECRETS_FILE_OWNER)`;
  }
  if (e?.code === 'EROFS') return 'EROFS (read-only file system; mount the volume read-write in the init container)';
  if (e?.code === 'ELOCKED') return `ELOCKED (${e.message}; is a render stuck?)`;
  return e?.code ?? (err instanceof Error ? err.name : 'error');
}
