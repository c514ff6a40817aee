import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * The narrow ports the watcher talks through: `send` only, so a test fake is one function and the real thing is
 * an SDK client. ECS: ListServices, DescribeServices, UpdateService, TagResource. Secrets Manager: DescribeSecret.
 */
export type EcsPort = Pick<ECSClient, 'send'>;
export type SecretsPort = Pick<SecretsManagerClient, 'send'>;
