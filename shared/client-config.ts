import type { ClientSettings } from './client-settings.ts';
import { credentialsWithTimeout } from './credentials-timeout.ts';
import { responseCap } from './response-cap.ts';

// Clients built on the SDK's default chain (task-role credentials, AWS_REGION, AWS_ENDPOINT_URL[_SERVICE]).
// Retries are the SDK's standard mode (throttling and 5xx with backoff); every request has its own timeout that
// really throws (throwOnRequestTimeout), and callers pass an AbortSignal for the overall deadline.
// This module loads no client, only the credential chain: each client has a module of its own
// (secrets-manager-client.ts, ssm-client.ts), so that `render` loads only the clients its sources need and never
// the ECS client (whose module set costs ~10 ms of start-up); `aws-clients.ts` offers them all to the watcher.

/**
 * The configuration every client of this project shares. Besides timeouts and retries, two guards: response bodies
 * are capped (responseCap), and resolving credentials has the per-request timeout too (credentialsWithTimeout).
 */
export function clientConfig(s: ClientSettings) {
  const requestTimeout = s.requestTimeoutMs ?? 10_000;
  return {
    region: s.region,
    maxAttempts: s.maxAttempts ?? 4,
    retryMode: 'standard' as const,
    requestHandler: {
      connectionTimeout: Math.min(3000, s.requestTimeoutMs ?? 3000),
      requestTimeout,
      throwOnRequestTimeout: true,
    },
    credentialDefaultProvider: credentialsWithTimeout(requestTimeout),
    extensions: [responseCap()],
  };
}
