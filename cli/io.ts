/** What a command may touch of the process: passed in, so tests run commands in-process without patching. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly cwd: string;
  /** Aborted on SIGTERM/SIGINT by main; long-running commands finish their work in flight and return. */
  readonly shutdown: AbortSignal;
}

/** A subcommand: arguments after its name in, exit code out. Errors thrown are reported by main. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;
