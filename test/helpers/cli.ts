import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assertReachableByOthers,
  reachableBundle,
  reachableCopy,
  reachableNode,
  reachableWorkDir,
} from './other-user.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUNDLE = join(ROOT, 'dist', 'secrets-init.mjs');
/** The CLI's V8 startup snapshot (`npm run build` writes it with this Node; the bench measures it). */
export const SNAPSHOT_BLOB = join(ROOT, 'dist', 'secrets-init.blob');

/** Where a CLI run starts: the bundle (`node dist/secrets-init.mjs`, the npm bin) or the startup snapshot. */
export type CliStart = 'bundle' | 'snapshot';

/**
 * Where the tests' CLI runs start: the bundle, as the init image does, or with TEST_CLI_START=snapshot (`npm run
 * test:snapshot`) the startup snapshot, to check that variant against every integration test.
 */
export const CLI_START: CliStart = process.env.TEST_CLI_START === 'snapshot' ? 'snapshot' : 'bundle';

/**
 * Node's arguments for a CLI run. From the snapshot, `--` ends node's own options: without it node would take
 * `--help` or `--app-env` for its own.
 */
export function cliArgs(args: readonly string[], start: CliStart = CLI_START): string[] {
  const file = start === 'snapshot' ? SNAPSHOT_BLOB : BUNDLE;
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first (npm test does)`);
  return start === 'snapshot' ? ['--snapshot-blob', file, '--', ...args] : [file, ...args];
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** With `sampleRss`: the child's peak resident set (VmHWM) last seen while it ran, in bytes. */
  readonly peakRss?: number;
}

/** The peak resident set of a running process (Linux /proc), in bytes; undefined once it is gone. */
export function peakRssOf(pid: number): number | undefined {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** Runs the CLI (from `opts.start`, default CLI_START) with exactly the given environment plus PATH. */
export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  opts: RunOptions = {},
): Promise<CliResult> {
  // As another uid, node, the bundle and the working directory must not be in the checkout (see other-user.ts).
  const asOther = opts.uid !== undefined;
  const cwd = opts.cwd ?? (asOther ? reachableWorkDir() : ROOT);
  if (asOther) assertReachableByOthers(cwd, true);
  const reachable = (a: string) =>
    a === BUNDLE ? reachableBundle(a) : a === SNAPSHOT_BLOB ? reachableCopy(a, 0o644) : a;
  const argv = asOther ? cliArgs(args, opts.start).map(reachable) : cliArgs(args, opts.start);
  return runProcess(
    asOther ? reachableNode() : process.execPath,
    argv,
    { PATH: process.env.PATH, ...env },
    {
      ...opts,
      cwd,
    },
  );
}

export interface RunOptions {
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Where the CLI starts (default CLI_START). */
  readonly start?: CliStart;
  /** Sample the child's peak RSS while it runs; past `killAbove` bytes it is killed (the machine is shared). */
  readonly sampleRss?: { readonly killAbove: number };
}

/**
 * Runs any command to completion with exactly the given environment, without blocking the event loop (a proxy
 * in this process may be what it talks to), and records its output for the leak scan.
 */
export function runProcess(
  cmd: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  opts: RunOptions = {},
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      cwd: opts.cwd ?? ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined && { uid: opts.uid, gid: opts.gid ?? opts.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    let peakRss: number | undefined;
    const sampler =
      opts.sampleRss &&
      setInterval(() => {
        peakRss = Math.max(peakRss ?? 0, peakRssOf(child.pid!) ?? 0);
        if (peakRss > opts.sampleRss!.killAbove) child.kill('SIGKILL');
      }, 10);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      const result = { code, signal, stdout, stderr, ms: Date.now() - started, ...(sampler && { peakRss }) };
      recordOutput(`${stdout}\n${stderr}`);
      resolve(result);
    });
  });
}

/** A fresh temp directory, removed by the caller (or left for the OS in a crash). */
export function tempDir(prefix = 'secrets-init-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Every entry under a directory (hidden ones too, set directories included, links as their targets) with its mode,
 * owner and content digest, for "byte-for-byte unchanged".
 */
export function snapshotDir(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = lstatSync(path);
    const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out[prefix + name] = `-> ${readlinkSync(path)}`;
    else if (st.isDirectory()) {
      out[prefix + name] = `dir ${meta} ${st.mtimeMs}`;
      Object.assign(out, snapshotDir(path, `${prefix}${name}/`));
    } else {
      const digest = st.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'special';
      out[prefix + name] = `${meta} ${st.size} ${digest} ${st.mtimeMs}`;
    }
  }
  return out;
}

/** The names a reader of the directory sees (hidden entries are the writer's own), sorted. */
export function visibleNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

/** Hidden entries other than the live set and its `..data` link: what a writer that died or failed left behind. */
export function debrisIn(dir: string): string[] {
  let live: string | undefined;
  try {
    live = readlinkSync(join(dir, '..data'));
  } catch {
    live = undefined;
  }
  return readdirSync(dir)
    .filter((n) => n.startsWith('.') && n !== '..data' && n !== live)
    .sort();
}

export const SHELLS: readonly { name: string; argv: readonly string[] }[] = [
  { name: 'dash', argv: ['dash', '-c'] },
  { name: 'bash', argv: ['bash', '--posix', '-c'] },
  { name: 'busybox ash', argv: ['busybox', 'sh', '-c'] },
  { name: 'mksh', argv: ['mksh', '-c'] },
  { name: 'zsh (emulate sh)', argv: ['zsh', '-c', 'emulate sh; eval "$1"', 'zsh'] },
];

/** Fails (never skips) when a shell the law is checked in is not installed. */
export function assertShellsInstalled(): void {
  const missing = SHELLS.filter((s) => spawnSync('sh', ['-c', `command -v ${s.argv[0]}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `shells missing: ${missing.map((s) => s.argv[0]).join(', ')} (apt-get install dash busybox-static mksh zsh)`,
    );
  }
}

/**
 * Sources an env file in a shell the way the entrypoint does (`set -a; . FILE`) and returns the named
 * variables' values byte for byte (NUL-separated through printf, so trailing newlines survive).
 */
export function sourceInShell(shell: (typeof SHELLS)[number], file: string, names: readonly string[]): Buffer[] {
  const script = `set -a; . '${file}'; set +a; for n in ${names.join(' ')}; do eval "printf '%s\\\\0' \\"\\$$n\\""; done`;
  const [cmd, ...pre] = shell.argv;
  // zsh's argv ends with its $0, so the script arrives as $1 of a wrapper that switches to sh emulation first.
  const args = [...pre, script];
  const res = spawnSync(cmd!, args, {
    maxBuffer: 1 << 28,
    env: { PATH: process.env.PATH },
    // stdin must not be a socket: bash then reads ~/.bashrc as if started by rshd
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.status !== 0) throw new Error(`${shell.name} failed (${res.status}): ${res.stderr.toString().slice(0, 300)}`);
  const parts: Buffer[] = [];
  let start = 0;
  const buf = res.stdout;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      parts.push(buf.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

// ---- leak scanning: every test output is checked for the secret values the tests seeded ----

const seeds = new Set<string>();
const outputs: string[] = [];
const SEED_DIR = join(ROOT, '.tmp', 'seeds');

/** Registers values that must never appear in any output; also written for the suite-wide scan in CI. */
export function seedValues(values: Iterable<string>): void {
  const list = [...values].filter((v) => v.length >= 8);
  for (const v of list) seeds.add(v);
  mkdirSync(SEED_DIR, { recursive: true });
  writeFileSync(join(SEED_DIR, `${process.pid}.json`), JSON.stringify([...seeds]));
}

export function recordOutput(text: string): void {
  outputs.push(text);
}

/** The seeded values found in any recorded output (empty when clean). */
export function leakedValues(extra: readonly string[] = []): string[] {
  const all = [...outputs, ...extra].join('\n');
  return [...seeds].filter((s) => all.includes(s) || all.includes(JSON.stringify(s).slice(1, -1)));
}
