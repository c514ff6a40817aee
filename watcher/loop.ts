/** What the loop needs from the outside world: a pass, a clock, a sleep the shutdown signal cuts short. */
export interface LoopDeps {
  /** Runs pass number n to completion; the loop never starts another before it settles. */
  readonly runPass: (n: number) => Promise<unknown>;
  /** Resolves after ms, or at once when the signal aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * A monotonic clock in ms (performance.now): the interval is measured on it, so a wall clock stepped back (NTP,
   * a VM resumed) neither silences the loop nor makes it run passes back to back.
   */
  readonly monotonic: () => number;
  /** In [0, 1). */
  readonly random: () => number;
  /** SIGTERM/SIGINT: let the pass in flight finish, then return. */
  readonly shutdown: AbortSignal;
}

export interface LoopOptions {
  readonly intervalMs: number;
  /** Fraction of the interval each wait may move by (0.1 = +-10%). */
  readonly jitter: number;
}

/**
 * Passes every interval (start to start, jittered) until shutdown. Passes are awaited one after another, so they
 * never overlap; a pass longer than the interval is followed at once by the next. Returns the number of passes.
 */
export async function runLoop(deps: LoopDeps, options: LoopOptions): Promise<number> {
  let n = 0;
  while (!deps.shutdown.aborted) {
    const started = deps.monotonic();
    n++;
    await deps.runPass(n);
    if (deps.shutdown.aborted) break;
    const wait = nextDelay(options.intervalMs, options.jitter, deps.random()) - (deps.monotonic() - started);
    if (wait > 0) await deps.sleep(wait, deps.shutdown);
  }
  return n;
}

/** The jittered interval: uniform in [interval * (1 - jitter), interval * (1 + jitter)). */
export function nextDelay(intervalMs: number, jitter: number, random: number): number {
  return Math.round(intervalMs * (1 + jitter * (2 * random - 1)));
}
