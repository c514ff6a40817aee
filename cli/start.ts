import { routeConsole } from '../shared/route-console.ts';
import { main } from './main.ts';

/**
 * The process around `main`: signals, exit code, stdout drain. Shared by the ESM bundle's entry (cli/bin.ts) and
 * the startup snapshot's deserialised main (cli/snapshot-entry.ts), which differ only in where argv starts.
 */
export async function start(argv: readonly string[]): Promise<void> {
  // Logs are a convenience: a closed stdout (`| head`, a gone log driver) must not fail a render.
  process.stdout.on('error', () => undefined);
  const shutdown = new AbortController();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      // A second signal ends at once (128 + the signal number, as a shell reports it).
      if (shutdown.signal.aborted) process.exit(sig === 'SIGTERM' ? 143 : 130);
      shutdown.abort(sig);
    });
  }
  const code = await main(argv, {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    shutdown: shutdown.signal,
    // Never given back: a library may still print while the process ends (a stalled request's late warning).
    captureConsole: (sink) => void routeConsole(sink),
  });
  // Exit when stdout has drained (a pipe may hold more than its buffer), but no later than a second: an aborted
  // AWS request may leave a socket open, and the deadline is a promise to the operator.
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1000).unref();
  process.stdout.write('', () => process.exit(code));
}
