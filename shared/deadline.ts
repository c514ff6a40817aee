import { SecretsInitError, SourceError } from './errors.ts';

/**
 * Runs `work` under a deadline and a stop signal, and ends it when either fires even if an SDK call ignores its
 * abort signal. The deadline is a source failure (exit 3): `${what} stopped: deadline of 30s exceeded`. A stop
 * request (SIGTERM, SIGINT) is not: it exits 128 + the signal number, as a shell reports it, with `stopNote` saying
 * what was left as it was.
 */
export async function withDeadline<T>(
  options: {
    readonly timeoutMs: number;
    readonly what: string;
    readonly stop?: AbortSignal;
    readonly stopNote: string;
  },
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(`deadline of ${options.timeoutMs / 1000}s exceeded`),
    options.timeoutMs,
  );
  const { stop } = options;
  const signal = stop ? AbortSignal.any([deadline.signal, stop]) : deadline.signal;
  try {
    return await new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (stop?.aborted) {
          const sig = String(stop.reason);
          reject(new SecretsInitError(`stopped by ${sig} ${options.stopNote}`, sig === 'SIGINT' ? 130 : 143));
        } else reject(new SourceError(`${options.what} stopped: ${String(signal.reason)}`));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      work(signal)
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  } finally {
    clearTimeout(timer);
  }
}
