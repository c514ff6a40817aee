import { secretsManagerSources } from '../init/secrets-manager-source.ts';
import type { Source } from '../init/source.ts';
import type { ClientSettings } from '../shared/client-settings.ts';
import type { SecretSourceSpec } from '../shared/config.ts';
import type { Logger } from '../shared/logger.ts';
import { createSecretsManagerClient } from '../shared/secrets-manager-client.ts';

/**
 * Secrets Manager sources bound to a real client (made when they are read). The source and its client in one
 * module, which cli/sources.ts imports on first use: in the bundle they load as one chunk, not two plus the one
 * they share.
 */
export function wireSecretsManagerSources(
  specs: readonly SecretSourceSpec[],
  client: ClientSettings,
  logger: Logger,
): Source[] {
  return secretsManagerSources(specs, { client: () => createSecretsManagerClient(client), logger });
}
