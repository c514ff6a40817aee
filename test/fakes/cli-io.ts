import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../../cli/io.ts';

/** A CliIo in memory, and what the command wrote to it. */
export interface FakeCliIo {
  readonly io: CliIo;
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
  /** stdout's lines parsed as JSON (a command's log). */
  lines(): Record<string, unknown>[];
}

export interface FakeCliIoOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: this process's working directory. */
  readonly cwd?: string;
  /** What stdin holds (then it ends); default: nothing. */
  readonly stdin?: string;
  /** Default: a signal that never fires. */
  readonly shutdown?: AbortSignal;
}

/** The in-memory CliIo the tests run commands with, in this process: no console capture, nothing on a TTY. */
export function fakeCliIo(options: FakeCliIoOptions = {}): FakeCliIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const io: CliIo = {
    env: options.env ?? {},
    stdout,
    stderr,
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    cwd: options.cwd ?? process.cwd(),
    shutdown: options.shutdown ?? new AbortController().signal,
  };
  return {
    io,
    out: () => out,
    err: () => err,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
