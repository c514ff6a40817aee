import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describeAwsError } from '../shared/aws-error.ts';
import type { SecretsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { Observation, SecretVersion } from './model.ts';

/**
 * Reads which version of a secret is AWSCURRENT with `DescribeSecret` (no `GetSecretValue`: the watcher never
 * needs a value). AWSPENDING and AWSPREVIOUS are ignored, so a rotation in progress triggers nothing.
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
    return { ok: true, value: { arn: out.ARN, currentVersionId: current[0] } };
  } catch (err) {
    return { ok: false, error: describeAwsError(err) };
  }
}
