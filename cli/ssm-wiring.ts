import type { Source } from '../init/source.ts';
import { ssmSources } from '../init/ssm-source.ts';
import type { ClientSettings } from '../shared/client-settings.ts';
import type { SsmSourceSpec } from '../shared/config.ts';
import { createSsmClient } from '../shared/ssm-client.ts';

/**
 * SSM Parameter Store sources bound to a real client (made when they are read). The source and its client in one
 * module, which cli/sources.ts imports on first use: in the bundle they load as one chunk, not two plus the one
 * they share.
 */
export function wireSsmSources(specs: readonly SsmSourceSpec[], client: ClientSettings): Source[] {
  return ssmSources(specs, { client: () => createSsmClient(client) });
}
