import { format } from 'node:util';

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Sends what libraries print with `console.*` to `sink` (a JSON log line) until the returned function is called.
 * The AWS SDK prints with console.warn where it has no logger of its own: a credentials request past its timeout
 * (`@smithy/node-http-handler - [WARN] a request has exceeded the configured 1000 ms requestTimeout ...`), sockets
 * at capacity, two credential sources at once. On stderr such a line came before the one error line of a failed
 * run; in the log it keeps its information without breaking that promise. Each line is cut at 2000 characters.
 */
export function routeConsole(sink: (line: string) => void, target: Console = console): () => void {
  const saved = METHODS.map((m) => [m, target[m]] as const);
  for (const m of METHODS) target[m] = (...args: unknown[]) => sink(format(...args).slice(0, 2000));
  return () => {
    for (const [m, fn] of saved) target[m] = fn;
  };
}
