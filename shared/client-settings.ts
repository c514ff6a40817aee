/**
 * What a caller chooses for an AWS client. Alone in its module, with no SDK import: `render` computes them before it
 * knows whether any client is needed, and in local mode must load no AWS SDK module (client-config.ts turns them
 * into the SDK's configuration, and loads the credential chain).
 */
export interface ClientSettings {
  readonly region: string;
  /** Per HTTP request; the overall deadline is the caller's AbortSignal. */
  readonly requestTimeoutMs?: number;
  readonly maxAttempts?: number;
}

/**
 * Per-request timeout for an overall deadline: a third of it (1-10 s), so that one stalled connection is
 * abandoned and retried while the deadline still leaves room for the retry.
 */
export function requestTimeoutFor(deadlineMs: number): number {
  return Math.min(10_000, Math.max(1000, Math.round(deadlineMs / 3)));
}
