import { ListSecretVersionIdsCommand, type ListSecretVersionIdsCommandOutput } from '@aws-sdk/client-secrets-manager';
import { describeAwsError } from '../shared/aws-error.ts';
import type { SecretsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { Observation } from './model.ts';
import { observeEach } from './observe-each.ts';

/**
 * When each secret's AWSCURRENT version was created (ms since the epoch), from `ListSecretVersionIds` (metadata
 * only, never a value): what a service without a trusted state is judged by. Read only for such services' secrets.
 */
export function readVersionTimes(
  sm: SecretsPort,
  ids: readonly string[],
  ctx: CallContext,
): Promise<Map<string, Observation<number>>> {
  return observeEach(ids, (id) => readVersionTime(sm, id, ctx));
}

/** Pages through the secret's versions until the AWSCURRENT one. */
async function readVersionTime(sm: SecretsPort, id: string, ctx: CallContext): Promise<Observation<number>> {
  try {
    let token: string | undefined;
    let created: number | undefined;
    do {
      const page: ListSecretVersionIdsCommandOutput = await ctx.call('ListSecretVersionIds', (abortSignal) =>
        sm.send(new ListSecretVersionIdsCommand({ SecretId: id, ...(token && { NextToken: token }) }), {
          abortSignal,
        }),
      );
      const current = page.Versions?.find((v) => v.VersionStages?.includes('AWSCURRENT'));
      created ??= current?.CreatedDate?.getTime();
      token = page.NextToken || undefined;
    } while (token && created === undefined);
    return created === undefined ? { ok: false, error: 'no AWSCURRENT version listed' } : { ok: true, value: created };
  } catch (err) {
    return { ok: false, error: describeAwsError(err) };
  }
}
