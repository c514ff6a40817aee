import { isThrottling } from './aws-error.ts';
import { sleep } from './sleep.ts';

/**
 * More patience for throttling than the SDK's own retries (4 attempts, about 7 s of back-off at most), for calls
 * that are safe to send again because a throttled request was refused before anything was done. An account
 * quota shared by many callers (BatchGetSecretValue's 100/s, ECS's token buckets) can stay exhausted longer
 * than one SDK call retries; these retries spread the callers out (full jitter) and stop at the caller's deadline.
 */
export interface ThrottleRetryPolicy {
  /** Calls after the first one (each of them with the SDK's own retries inside). */
  readonly retries: number;
  /** Back-off before retry n (from 0): random × min(capMs, baseMs × 2^n). */
  readonly baseMs: number;
  readonly capMs: number;
}

export const THROTTLE_RETRY: ThrottleRetryPolicy = Object.freeze({ retries: 4, baseMs: 250, capMs: 4000 });

export interface ThrottleRetryDeps {
  readonly random: () => number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

const realDeps: ThrottleRetryDeps = { random: Math.random, sleep };

/**
 * Calls `fn`; while it fails with throttling, waits a full-jitter back-off and calls it again, at most
 * `policy.retries` more times and never once `signal` has aborted. Any other error, or the last throttling error,
 * is thrown as it came.
 */
export async function retryThrottled<T>(
  fn: () => Promise<T>,
  signal: AbortSignal,
  policy: ThrottleRetryPolicy = THROTTLE_RETRY,
  deps: ThrottleRetryDeps = realDeps,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (err) {
      if (!isThrottling(err) || retry >= policy.retries || signal.aborted) throw err;
      await deps.sleep(deps.random() * Math.min(policy.capMs, policy.baseMs * 2 ** retry), signal);
      if (signal.aborted) throw err;
    }
  }
}
