import { setTimeout as delay } from 'node:timers/promises';

/**
 * The clock adapter for waits (the watch loop, throttling back-off): waits ms, or less when the signal aborts
 * (shutdown, a deadline), never throwing for that.
 */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
