import { setTimeout as delay } from 'node:timers/promises';

/** The loop's clock adapter: waits ms, or less when the signal aborts (shutdown), never throwing for that. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}
