import { ECSClient } from '@aws-sdk/client-ecs';
import { type ClientSettings, clientConfig } from './secrets-manager-client.ts';

// Both clients for the watcher. `render` needs only Secrets Manager: importing `./secrets-manager-client.ts`
// instead of this module keeps the ECS client out of its start-up.
export { type ClientSettings, createSecretsManagerClient } from './secrets-manager-client.ts';

export function createEcsClient(s: ClientSettings): ECSClient {
  return new ECSClient(clientConfig(s));
}
