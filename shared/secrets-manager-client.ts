import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientConfig } from './client-config.ts';
import type { ClientSettings } from './client-settings.ts';

// The configuration every client shares lives in client-config.ts (no client loaded); re-exported for the callers
// that build a Secrets Manager client anyway.
export { clientConfig } from './client-config.ts';
export type { ClientSettings } from './client-settings.ts';

/** The Secrets Manager client, alone in its module so that loading it loads no other client. */
export function createSecretsManagerClient(s: ClientSettings): SecretsManagerClient {
  return new SecretsManagerClient(clientConfig(s));
}
