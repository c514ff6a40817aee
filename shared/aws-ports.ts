import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';

/**
 * The narrow ports every AWS caller talks through: `send` only, so a test fake is one function and the real thing
 * is an SDK client. Type-only imports: naming a port loads no client.
 */
export type SecretsPort = Pick<SecretsManagerClient, 'send'>;
export type EcsPort = Pick<ECSClient, 'send'>;
export type SsmPort = Pick<SSMClient, 'send'>;
