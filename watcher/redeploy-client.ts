import { ECSClient, type ECSClientConfig } from '@aws-sdk/client-ecs';
import { type ClientSettings, clientConfig } from '../shared/secrets-manager-client.ts';

type RetryStrategyV2 = Extract<NonNullable<ECSClientConfig['retryStrategy']>, { refreshRetryTokenForRetry: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;

/**
 * The retries of `UpdateService(forceNewDeployment)`: only throttling (`ThrottlingException`, HTTP 429, ...), which
 * AWS answers before doing anything, up to `maxAttempts` with full-jitter backoff (1 s, 2 s, 4 s). Never after a
 * 5xx, a reset or a request timeout: the update may have been applied with its answer lost, and sending it again
 * would start a second deployment. So each service gets at most one UpdateService that can take effect per pass;
 * one whose outcome is unknown counts as failed, stays due, and the next pass redeploys it (once).
 */
export function throttlingOnlyRetry(maxAttempts = 4, random: () => number = Math.random): RetryStrategyV2 {
  const token = (retries: number, delay: number): RetryToken => ({
    getRetryCount: () => retries,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (previous, info) => {
      const retries = previous.getRetryCount() + 1;
      // Rejecting the token makes the SDK throw the request's own error.
      if (info.errorType !== 'THROTTLING' || retries >= maxAttempts) throw info.error ?? new Error('not retried');
      return token(retries, Math.floor(random() * 1000 * 2 ** (retries - 1)));
    },
    recordSuccess: () => {},
  };
}

/** The project's client settings, with UpdateService's retries: for the client that sends only UpdateService. */
export function redeployClientConfig(s: ClientSettings) {
  return { ...clientConfig(s), retryStrategy: throttlingOnlyRetry(clientConfig(s).maxAttempts) };
}

/** An ECS client for UpdateService only (see throttlingOnlyRetry); every other ECS call uses the normal client. */
export function createRedeployClient(s: ClientSettings): ECSClient {
  return new ECSClient(redeployClientConfig(s));
}
