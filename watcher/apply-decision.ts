import { TagResourceCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { describeAwsError } from '../shared/aws-error.ts';
import type { CallContext } from './call-context.ts';
import type { Decision, Failure } from './model.ts';
import type { EcsPort } from './ports.ts';
import { FINGERPRINT_TAG } from './tags.ts';

/**
 * Applies one decision. `record`: tag the fingerprint. `redeploy`: UpdateService(forceNewDeployment), then tag.
 * The order is the guarantee: the tag is written only after the redeploy succeeded, so a failed redeploy stays due,
 * and a failed tag makes the next pass redeploy once more and then tag (at least once, at most one extra).
 * `skip` does nothing. Returns the failure, if any.
 */
export async function applyDecision(ecs: EcsPort, d: Decision, ctx: CallContext): Promise<Failure | undefined> {
  if (d.decision === 'skip') return undefined;
  const fail = (stage: Failure['stage'], err: unknown): Failure => ({
    cluster: d.cluster,
    service: d.service,
    secretId: null,
    stage,
    error: describeAwsError(err),
  });
  if (d.decision === 'redeploy') {
    try {
      await ctx.call('UpdateService', (abortSignal) =>
        ecs.send(new UpdateServiceCommand({ cluster: d.cluster, service: d.service, forceNewDeployment: true }), {
          abortSignal,
        }),
      );
    } catch (err) {
      return fail('redeploy', err);
    }
  }
  try {
    await ctx.call('TagResource', (abortSignal) =>
      ecs.send(
        new TagResourceCommand({
          resourceArn: d.serviceArn,
          tags: [{ key: FINGERPRINT_TAG, value: d.newFingerprint }],
        }),
        { abortSignal },
      ),
    );
  } catch (err) {
    return fail('tag', err);
  }
  return undefined;
}
