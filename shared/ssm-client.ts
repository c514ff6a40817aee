import { SSMClient } from '@aws-sdk/client-ssm';
import { clientConfig } from './client-config.ts';
import type { ClientSettings } from './client-settings.ts';

/**
 * The SSM (Parameter Store) client: the settings every client of the project shares (timeouts, retries, the
 * response cap, the credentials timeout), alone in its module so that a render without parameters never loads it.
 */
export function createSsmClient(s: ClientSettings): SSMClient {
  return new SSMClient(clientConfig(s));
}
