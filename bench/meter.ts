import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** One run of one command as the kernel measured it (wait4): wall, CPU and peak RSS of the process tree. */
export interface Sample {
  readonly code: number;
  readonly wallMs: number;
  readonly userMs: number;
  readonly sysMs: number;
  readonly maxRssKiB: number;
}

export interface Run {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Where the command's stdout and stderr go (the bench checks and leak-scans them afterwards). */
  readonly stdout: string;
  readonly stderr: string;
}

export interface Meter {
  run(r: Run): Promise<Sample>;
  close(): Promise<void>;
}

const HELPER = join(dirname(fileURLToPath(import.meta.url)), 'rusage.py');

/** Starts the wait4 helper (bench/rusage.py); runs are measured one at a time, in the order asked. */
export function startMeter(): Meter {
  const child: ChildProcessWithoutNullStreams = spawn('python3', [HELPER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run(r) {
      const next = queue.then(async () => {
        child.stdin.write(`${JSON.stringify({ ...r })}\n`);
        const line = await lines.next();
        if (line.done) throw new Error(`bench/rusage.py ended: ${stderr.trim().split('\n').pop()}`);
        return JSON.parse(line.value) as Sample;
      });
      queue = next.catch(() => undefined);
      return next;
    },
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

/** The median (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
