import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ClientSettings, clientConfig } from './client-config.ts';

// The settings every client shares live in client-config.ts (no client loaded); re-exported for the callers that
// build a Secrets Manager client anyway.
export { type ClientSettings, clientConfig, requestTimeoutFor } from './client-config.ts';

/** The Secrets Manager client, alone in its module so that loading it loads no other client. */
export function createSecretsManagerClient(s: ClientSettings): SecretsManagerClient {
  return new SecretsManagerClient(clientConfig(s));
}
