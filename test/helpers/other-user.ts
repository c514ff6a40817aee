import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests that run something as another uid (a file mode or owner only bites for a uid that is not root) must not
// run it from the checkout: a clone in a directory others cannot enter (`mktemp -d`, root's 0700 home) would fail
// them with EACCES. This is the one place that drops privileges; test/unit/other-user.test.ts keeps it so.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The uid the tests drop to: nobody, present in every Debian-like image. */
export const OTHER_UID = 65534;

let dir: string | undefined;

/** One world-traversable temp directory per test process, removed when it exits. */
function reachableDir(): string {
  if (dir) return dir;
  dir = mkdtempSync(join(tmpdir(), 'secrets-init-other-uid-'));
  chmodSync(dir, 0o755);
  const made = dir;
  process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  return dir;
}

const copies = new Map<string, string>();

/**
 * A copy of `file` that any uid can read (and run, with mode 0o755), outside the checkout; made once per test
 * process. A file others may already read and run is hard-linked when it can be (the node binary is 120 MB), else
 * copied and given `mode`.
 */
export function reachableCopy(file: string, mode = 0o755, name = basename(file)): string {
  const made = copies.get(file);
  if (made) return made;
  const target = join(reachableDir(), name);
  // Never write through an existing name: it may be a hard link to a file of the checkout.
  if (existsSync(target)) throw new Error(`${target} exists: two files copied under one name`);
  const others = (statSync(file).mode & 0o005) === 0o005 && (mode & 0o005) === 0o005;
  try {
    if (!others) throw new Error('copy');
    linkSync(file, target);
  } catch {
    copyFileSync(file, target, constants.COPYFILE_FICLONE);
    chmodSync(target, mode);
  }
  assertReachableByOthers(target, (mode & 0o001) !== 0);
  copies.set(file, target);
  return target;
}

/** The node binary running the tests, as another uid can run it. */
export function reachableNode(): string {
  return reachableCopy(process.execPath, 0o755, 'node');
}

/** The shipped bundle, its entry and the chunks beside it (`chunks/`), as another uid can read them; the entry's copy. */
export function reachableBundle(bundle: string): string {
  const chunks = join(dirname(bundle), 'chunks');
  if (existsSync(chunks)) {
    mkdirSync(join(reachableDir(), 'chunks'), { recursive: true, mode: 0o755 });
    chmodSync(join(reachableDir(), 'chunks'), 0o755);
    for (const name of readdirSync(chunks)) reachableCopy(join(chunks, name), 0o644, join('chunks', name));
  }
  return reachableCopy(bundle, 0o644, 'secrets-init.mjs');
}

/** The working directory for a command run as another uid, when the test gives none. */
export function reachableWorkDir(): string {
  return reachableDir();
}

/**
 * Throws unless a uid that is neither the owner nor in the group can reach `path`: outside the checkout, every
 * directory above it enterable by others, the file readable (and runnable when `run`) by others.
 */
export function assertReachableByOthers(path: string, run = false): void {
  const abs = resolve(path);
  const rel = relative(ROOT, abs);
  if (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`)) {
    throw new Error(`${abs} is inside the checkout: run it as another uid from reachableCopy() instead`);
  }
  for (let d = dirname(abs); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) throw new Error(`${d} cannot be entered by others (${abs})`);
    if (d === dirname(d)) break;
  }
  const want = run ? 0o005 : 0o004;
  if ((statSync(abs).mode & want) !== want) throw new Error(`${abs} cannot be ${run ? 'run' : 'read'} by others`);
}

/** Runs `node -e script` as OTHER_UID (spawn's uid option; root only) and returns its stdout. */
export function nodeAsOtherUser(script: string): string {
  const res = spawnSync(reachableNode(), ['-e', script], { uid: OTHER_UID, gid: OTHER_UID, cwd: reachableDir() });
  if (res.error) throw res.error;
  return res.stdout.toString();
}

/** argv prefix running a command as OTHER_UID with no supplementary groups (util-linux setpriv; root only). */
export function setprivPrefix(uid = OTHER_UID): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
}
