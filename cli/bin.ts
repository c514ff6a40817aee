import * as nodeModule from 'node:module';

// Cache V8 bytecode of the bundle between runs (a warm init container or a re-render starts faster).
// NODE_COMPILE_CACHE chooses the directory; without it the OS temp dir is used. Best effort by design.
try {
  // a namespace import: a named one fails to link on Node older than 22.1 instead of just skipping the cache
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // read-only file system or unsupported: start without a cache
}

const [{ main }, { routeConsole }] = await Promise.all([import('./main.ts'), import('../shared/route-console.ts')]);
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
const code = await main(process.argv.slice(2), {
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
