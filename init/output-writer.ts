import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { FILE_NAME, type OwnerSpec } from '../shared/config.ts';
import { OutputError } from '../shared/errors.ts';
import type { OutputFile } from './plan.ts';

/** The file-system calls the writer makes; tests pass a wrapper that fails the Nth call. */
export type WriterFs = Pick<typeof fsp, 'open' | 'rename' | 'unlink' | 'readFile' | 'readdir' | 'mkdir' | 'stat'>;

export interface WriteResult {
  /** False when every file already had these bytes and mode: nothing was touched. */
  readonly changed: boolean;
  /** Files left over from an earlier render that this one no longer produces, now removed. */
  readonly removed: readonly string[];
}

const TEMP_MARK = '.tmp-';

/**
 * Writes a set of files all-or-nothing: each goes to a temp file in the same directory (exclusive create,
 * mode set, owner set, fsync), and only when every temp file is complete are they renamed over the old ones,
 * the metadata file last, then the directory is fsynced. Any error before the renames removes the temp files
 * and leaves the directory exactly as it was. A render with the same bytes and modes rewrites nothing.
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
  if (stale.length === 0 && (await allUnchanged(fs, dir, files, opts.owner))) {
    return { changed: false, removed: [] };
  }

  const all = [...files, opts.metadata];
  const temps: string[] = [];
  try {
    for (const f of all) {
      const tmp = join(dir, `.${f.name}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
      temps.push(tmp);
      await writeTemp(fs, tmp, f, opts.owner).catch((err) => fail(`writing "${join(dir, f.name)}"`, err));
    }
  } catch (err) {
    await Promise.all(temps.map((t) => fs.unlink(t).catch(() => undefined)));
    throw err;
  }
  // Renames within one directory do not fail once the temp files exist; metadata last marks completion.
  for (const [i, f] of all.entries()) {
    await fs.rename(temps[i]!, join(dir, f.name)).catch((err) => fail(`renaming "${join(dir, f.name)}"`, err));
  }
  for (const n of stale) await fs.unlink(join(dir, n)).catch(() => undefined);
  await fsyncDir(fs, dir);
  return { changed: true, removed: stale };
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

async function allUnchanged(fs: WriterFs, dir: string, files: readonly OutputFile[], owner?: OwnerSpec) {
  for (const f of files) {
    const path = join(dir, f.name);
    const st = await fs.stat(path).catch(() => undefined);
    if (!st?.isFile() || (st.mode & 0o777) !== f.mode) return false;
    if (owner && (st.uid !== owner.uid || st.gid !== owner.gid)) return false;
    const old = await fs.readFile(path).catch(() => undefined);
    if (!old?.equals(f.content)) return false;
  }
  return true;
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

/** Temp files of a render that was killed half-way: never visible under a real name, removed here. */
async function removeStaleTemps(fs: WriterFs, dir: string, names: readonly string[]): Promise<void> {
  const temps = names.filter((n) => n.startsWith('.') && /\.tmp-[0-9a-f]{12}$/.test(n));
  await Promise.all(temps.map((n) => fs.unlink(join(dir, n)).catch(() => undefined)));
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
