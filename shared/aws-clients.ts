import { ECSClient } from '@aws-sdk/client-ecs';
import { clientConfig } from './client-config.ts';
import type { ClientSettings } from './client-settings.ts';

// The watcher's clients. `render` needs only the clients of its sources: importing `./secrets-manager-client.ts`
// or `./ssm-client.ts` instead of this module keeps the ECS client out of its start-up. The SSM client is not
// offered here: a watcher with no parameter bound need not load it (import `./ssm-client.ts` when one is).
export { type ClientSettings, createSecretsManagerClient } from './secrets-manager-client.ts';

export function createEcsClient(s: ClientSettings): ECSClient {
  return new ECSClient(clientConfig(s));
}
