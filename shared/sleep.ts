import { setTimeout as delay } from 'node:timers/promises';
import { MAX_TIMER_MS } from './duration.ts';

/**
 * The clock adapter for waits (the watch loop, throttling back-off): waits ms, or less when the signal aborts
 * (shutdown, a deadline), never throwing for that. A wait longer than a timer holds (the longest interval plus its
 * jitter) is taken in steps: one timer would fire after 1 ms instead.
 */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  for (let left = ms; left > 0 && !signal.aborted; left -= MAX_TIMER_MS) {
    try {
      await delay(Math.min(left, MAX_TIMER_MS), undefined, { signal });
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
}
