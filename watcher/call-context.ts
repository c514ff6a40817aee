/**
 * What every AWS call of one pass shares: the pass deadline (an AbortSignal handed to `client.send`), a bound on
 * calls in flight, and a count per action for the summary line. Retries are the SDK's own, inside one call.
 */
export interface CallContext {
  readonly signal: AbortSignal;
  /** Runs one AWS call when a slot is free, counting it under `action` (`DescribeSecret`, ...). */
  call<T>(action: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one slot, for calls that must follow each other without queueing in between (a redeploy and its
   * tag). Nothing is refused here and no signal is given: `fn` checks the deadline itself, counts its calls with
   * `count`, and must not use `call` (that would wait for a second slot).
   */
  withSlot<T>(fn: () => Promise<T>): Promise<T>;
  count(action: string): void;
  /** Calls started so far, by action (logical calls: SDK retries are not counted). */
  counts(): Record<string, number>;
}

export function createCallContext(options: { signal: AbortSignal; concurrency: number }): CallContext {
  const { signal } = options;
  const limit = Math.max(1, Math.floor(options.concurrency));
  const counts: Record<string, number> = {};
  const waiting: (() => void)[] = [];
  let active = 0;

  const acquire = (): Promise<void> => {
    if (active < limit) {
      active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  const withSlot = async <T>(fn: () => Promise<T>): Promise<T> => {
    await acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  };
  const count = (action: string): void => {
    counts[action] = (counts[action] ?? 0) + 1;
  };

  return {
    signal,
    call: (action, fn) =>
      withSlot(() => {
        // A call still queued when the deadline passes fails at once instead of starting late.
        if (signal.aborted) throw deadlineExceeded();
        count(action);
        return fn(signal);
      }),
    withSlot,
    count,
    counts: () => ({ ...counts }),
  };
}

function deadlineExceeded(): Error {
  const err = new Error('pass deadline exceeded');
  err.name = 'AbortError';
  return err;
}
