import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describeAwsError } from '../shared/aws-error.ts';
import type { SecretsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { Observation, SecretVersion } from './model.ts';

/**
 * Reads which version of a secret is AWSCURRENT with `DescribeSecret` (no `GetSecretValue`: the watcher never
 * needs a value). AWSPENDING and AWSPREVIOUS are ignored, so a rotation in progress triggers nothing.
 * `changedAt` is the secret's `LastChangedDate` ("the last date and time that this secret was modified in any
 * way"): no earlier than the moment AWSCURRENT last moved, whether to a new version or back to an old one, so a
 * deployment that began after it saw the current version. It may be later (a tag or a description edited):
 * deciding from it errs toward a redeploy.
 */
export async function readSecretVersion(
  sm: SecretsPort,
  secretId: string,
  ctx: CallContext,
): Promise<Observation<SecretVersion>> {
  try {
    const out = await ctx.call('DescribeSecret', (abortSignal) =>
      sm.send(new DescribeSecretCommand({ SecretId: secretId }), { abortSignal }),
    );
    if (out.DeletedDate) return { ok: false, error: 'secret is scheduled for deletion' };
    const current = Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'));
    if (!current || !out.ARN) return { ok: false, error: 'secret has no AWSCURRENT version' };
    const changedAt = out.LastChangedDate?.getTime();
    return {
      ok: true,
      value: { arn: out.ARN, currentVersionId: current[0], ...(changedAt !== undefined && { changedAt }) },
    };
  } catch (err) {
    return { ok: false, error: describeAwsError(err) };
  }
}
