/** What a command may touch of the process: passed in, so tests run commands in-process without patching. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly cwd: string;
  /** Aborted on SIGTERM/SIGINT by main; long-running commands finish their work in flight and return. */
  readonly shutdown: AbortSignal;
  /**
   * Sends what libraries print with console.* to `sink` for the rest of the process (the CLI passes one; tests
   * need not). Commands that talk to AWS send it to their log, so stderr keeps its one line.
   */
  readonly captureConsole?: (sink: (line: string) => void) => void;
}

/** A subcommand: arguments after its name in, exit code out. Errors thrown are reported by main. */
export type Command = (args: readonly string[], io: CliIo) => Promise<number>;
