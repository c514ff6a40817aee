import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { FILE_NAME, type OwnerSpec } from '../shared/config.ts';
import { OutputError } from '../shared/errors.ts';
import type { OutputFile } from './plan.ts';

/** The file-system calls the writer makes; tests pass a wrapper that fails the Nth call. */
export type WriterFs = Pick<
  typeof fsp,
  'open' | 'rename' | 'unlink' | 'readFile' | 'readdir' | 'mkdir' | 'stat' | 'lstat' | 'link'
>;

export interface WriteResult {
  /** False when every file already had these bytes and mode: nothing was touched. */
  readonly changed: boolean;
  /** Files left over from an earlier render that this one no longer produces, now removed. */
  readonly removed: readonly string[];
  /** Such files that could not be removed (the caller warns: they may hold old key material). */
  readonly leftover: readonly string[];
}

const TEMP_MARK = '.tmp-';
const BACKUP_MARK = '.bak-';
/** Temp files older than this belong to a render that died; younger ones may be another render's, in flight. */
const STALE_TEMP_MS = 60_000;

/**
 * Writes a set of files all-or-nothing: each goes to a temp file in the same directory (exclusive create,
 * mode set, owner set, fsync), and only when every temp file is complete are they renamed over the old ones,
 * the metadata file last, then the directory is fsynced. Any error before the renames removes the temp files
 * and leaves the directory exactly as it was; a failed rename puts the files renamed so far back (each replaced
 * file keeps a second name until the set is complete). A render with the same bytes, modes and metadata (its
 * time aside) rewrites nothing.
 */
export async function writeOutputs(
  dir: string,
  files: readonly OutputFile[],
  opts: { readonly owner?: OwnerSpec; readonly metadata: OutputFile; readonly fs?: WriterFs },
): Promise<WriteResult> {
  const fs = opts.fs ?? fsp;
  const fail = (what: string, err: unknown): never => {
    throw new OutputError(`${what}: ${errCode(err)}`, { cause: err });
  };

  await ensureDir(fs, dir).catch((err) => fail(`output directory "${dir}"`, err));
  const existing = await fs.readdir(dir).catch((err) => fail(`reading output directory "${dir}"`, err));
  await removeStaleTemps(fs, dir, existing);

  const previous = await previousOutputs(fs, dir, opts.metadata.name);
  const stale = previous.filter((n) => !files.some((f) => f.name === n) && existing.includes(n));
  if (stale.length === 0 && (await allUnchanged(fs, dir, files, opts.metadata, opts.owner))) {
    return { changed: false, removed: [], leftover: [] };
  }

  const all = [...files, opts.metadata];
  // Each target must be absent or a regular file: a directory (or anything else) in the way would fail its
  // rename half-way through the set.
  for (const f of all) {
    const st = await fs.lstat(join(dir, f.name)).catch(() => undefined);
    if (st && !st.isFile() && !st.isSymbolicLink()) fail(`"${join(dir, f.name)}"`, { code: 'EEXIST (not a file)' });
  }
  const suffix = () => randomBytes(6).toString('hex');
  const temps: string[] = [];
  const backups = new Map<string, string>();
  const cleanup = () => Promise.all([...temps, ...backups.values()].map((t) => fs.unlink(t).catch(() => undefined)));
  try {
    for (const f of all) {
      const tmp = join(dir, `.${f.name}${TEMP_MARK}${suffix()}`);
      temps.push(tmp);
      await writeTemp(fs, tmp, f, opts.owner).catch((err) => fail(`writing "${join(dir, f.name)}"`, err));
    }
    // A second name for every file about to be replaced, so that a failed rename can put the old set back.
    for (const f of all) {
      if (!existing.includes(f.name)) continue;
      const bak = join(dir, `.${f.name}${BACKUP_MARK}${suffix()}`);
      await fs.link(join(dir, f.name), bak).catch((err) => fail(`keeping "${join(dir, f.name)}"`, err));
      backups.set(f.name, bak);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  // Metadata last: a complete render.json marks a complete set.
  for (const [i, f] of all.entries()) {
    try {
      await fs.rename(temps[i]!, join(dir, f.name));
    } catch (err) {
      await rollback(fs, dir, all.slice(0, i), backups);
      await cleanup();
      fail(`renaming "${join(dir, f.name)}"`, err);
    }
  }
  await cleanup();
  const removed: string[] = [];
  const leftover: string[] = [];
  for (const n of stale) {
    await fs.unlink(join(dir, n)).then(
      () => removed.push(n),
      () => leftover.push(n),
    );
  }
  await fsyncDir(fs, dir);
  return { changed: true, removed, leftover };
}

/** Puts back the files renamed so far: the old version where there was one, nothing where there was none. */
async function rollback(
  fs: WriterFs,
  dir: string,
  done: readonly OutputFile[],
  backups: ReadonlyMap<string, string>,
): Promise<void> {
  for (const f of done) {
    const bak = backups.get(f.name);
    if (bak) await fs.rename(bak, join(dir, f.name)).catch(() => undefined);
    else await fs.unlink(join(dir, f.name)).catch(() => undefined);
  }
}

async function ensureDir(fs: WriterFs, dir: string): Promise<void> {
  const st = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) {
    await fs.mkdir(dir, { recursive: true, mode: 0o750 });
    return;
  }
  if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
}

async function writeTemp(fs: WriterFs, path: string, f: OutputFile, owner?: OwnerSpec): Promise<void> {
  const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(f.content);
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.chmod(f.mode); // after chown: chown clears nothing we need, and chmod is not subject to umask
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function allUnchanged(
  fs: WriterFs,
  dir: string,
  files: readonly OutputFile[],
  metadata: OutputFile,
  owner?: OwnerSpec,
): Promise<boolean> {
  for (const f of files) {
    const path = join(dir, f.name);
    const st = await fs.stat(path).catch(() => undefined);
    if (!st?.isFile() || (st.mode & 0o777) !== f.mode) return false;
    if (owner && (st.uid !== owner.uid || st.gid !== owner.gid)) return false;
    const old = await fs.readFile(path).catch(() => undefined);
    if (!old?.equals(f.content)) return false;
  }
  // render.json must be there and say the same (sources, versions, digests), its time aside.
  const old = await fs.readFile(join(dir, metadata.name)).catch(() => undefined);
  return old !== undefined && sameMetadata(old, metadata.content);
}

function sameMetadata(a: Buffer, b: Buffer): boolean {
  try {
    const strip = (x: Buffer) => JSON.stringify({ ...JSON.parse(x.toString('utf8')), renderedAt: undefined });
    return strip(a) === strip(b);
  } catch {
    return false;
  }
}

/** Names the previous render.json listed (only plain file names: never follow a path out of the directory). */
async function previousOutputs(fs: WriterFs, dir: string, metadataName: string): Promise<string[]> {
  try {
    const doc = JSON.parse((await fs.readFile(join(dir, metadataName))).toString('utf8')) as { files?: unknown };
    if (typeof doc.files !== 'object' || doc.files === null) return [];
    return Object.keys(doc.files).filter((n) => FILE_NAME.test(n) && n !== metadataName);
  } catch {
    return [];
  }
}

/**
 * Temp and backup files of a render that was killed half-way: never visible under a real name, removed here once
 * they are old enough not to belong to another render writing into the same directory right now.
 */
async function removeStaleTemps(fs: WriterFs, dir: string, names: readonly string[]): Promise<void> {
  const ours = names.filter((n) => n.startsWith('.') && /\.(tmp|bak)-[0-9a-f]{12}$/.test(n));
  await Promise.all(
    ours.map(async (n) => {
      const st = await fs.lstat(join(dir, n)).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > STALE_TEMP_MS) await fs.unlink(join(dir, n)).catch(() => undefined);
    }),
  );
}

async function fsyncDir(fs: WriterFs, dir: string): Promise<void> {
  try {
    const fh = await fs.open(dir, constants.O_RDONLY);
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
  return e?.code ?? (err instanceof Error ? err.name : 'error');
}
