/** Exit codes are the product contract (docs/outputs.md, "Exit codes"). */
export const ExitCode = Object.freeze({
  ok: 0,
  failure: 1,
  usage: 2,
  source: 3,
  validation: 4,
  output: 5,
});

/** Base class: every error the CLI reports carries its exit code and never a secret value. */
export class SecretsInitError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A subclass of SecretsInitError for one exit code: each kind of error below is one line. */
function errorWithCode(exitCode: number) {
  return class extends SecretsInitError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, exitCode, options);
    }
  };
}

/** Bad flags, environment or config file (exit 2). */
export class UsageError extends errorWithCode(ExitCode.usage) {}

/** A secret could not be read: not found, denied, throttled past retries, timeout, network (exit 3). */
export class SourceError extends errorWithCode(ExitCode.source) {}

/** Secret contents break a rule: key name, deny list, NUL, required key, GCP JSON (exit 4). */
export class ValidationError extends errorWithCode(ExitCode.validation) {}

/** The output directory could not be written (exit 5). */
export class OutputError extends errorWithCode(ExitCode.output) {}

/** The exit code for any thrown value: ours carry one, anything else is an internal failure (1). */
export function exitCodeOf(err: unknown): number {
  return err instanceof SecretsInitError ? err.exitCode : ExitCode.failure;
}

/** One line for stderr: our errors carry a safe message; anything else is named by class only (it may hold data). */
export function errorLine(err: unknown): string {
  if (err instanceof SecretsInitError) return err.message.replace(/\s*\n\s*/g, ' ');
  const name = err instanceof Error ? err.name : typeof err;
  return `internal error (${name}); this is a bug, please report it with the command line (not the secrets)`;
}
