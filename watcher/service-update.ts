import { TagResourceCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { describeAwsError } from '../shared/aws-error.ts';
import type { EcsPort } from '../shared/aws-ports.ts';
import { FINGERPRINT_TAG } from '../shared/contract.ts';
import { retryThrottled } from '../shared/throttle-retry.ts';
import type { CallContext } from './call-context.ts';
import type { Decision, Failure } from './model.ts';

/**
 * How long each write of a started apply may take, whatever is left of the pass deadline: a redeploy that ECS
 * accepted must get its tag, or the next pass deploys the service again.
 */
export const WRITE_TIMEOUT_MS = 10_000;

/** `ecs` for TagResource; `deploy` for UpdateService only (a client that never resends one, see redeploy-client.ts). */
export interface ApplyPorts {
  readonly ecs: EcsPort;
  readonly deploy: EcsPort;
}

export interface Applied {
  /** False when the pass deadline had passed before anything could be sent. */
  readonly started: boolean;
  /** UpdateService succeeded (whether or not the tag did). */
  readonly redeployed: boolean;
  readonly failure?: Failure;
}

/**
 * The writes of one `record` or `redeploy` decision. `record`: tag the fingerprint. `redeploy`:
 * UpdateService(forceNewDeployment), then tag. The order is the guarantee: the tag is written only after the redeploy
 * succeeded, so a failed redeploy stays due, and a failed tag makes the next pass redeploy once more and then tag (at
 * least once, at most one extra). The pass deadline is checked once, before anything is sent: past it nothing starts
 * (the service stays as it was, still due). Once started, both writes run to the end in the same concurrency slot,
 * each with its own WRITE_TIMEOUT_MS, so a deadline falling between UpdateService and TagResource costs no second
 * deploy.
 */
export async function updateService(ports: ApplyPorts, d: Decision, ctx: CallContext): Promise<Applied> {
  const fail = (stage: Failure['stage'], error: string): Failure => ({
    cluster: d.cluster,
    service: d.service,
    secretId: null,
    stage,
    error,
  });
  return ctx.withSlot(async () => {
    if (ctx.signal.aborted) return { started: false, redeployed: false };
    if (d.decision === 'redeploy') {
      const update = new UpdateServiceCommand({ cluster: d.cluster, service: d.service, forceNewDeployment: true });
      const error = await write(ctx, 'UpdateService', (abortSignal) => ports.deploy.send(update, { abortSignal }));
      if (error !== undefined) return { started: true, redeployed: false, failure: fail('redeploy', error) };
    }
    const redeployed = d.decision === 'redeploy';
    const tag = new TagResourceCommand({
      resourceArn: d.serviceArn,
      tags: [{ key: FINGERPRINT_TAG, value: d.newFingerprint }],
    });
    const error = await write(ctx, 'TagResource', (abortSignal) => ports.ecs.send(tag, { abortSignal }));
    return error === undefined
      ? { started: true, redeployed }
      : { started: true, redeployed, failure: fail('tag', error) };
  });
}

/**
 * One write with its own timeout; the safe description of its error, if any. A write that stays throttled after
 * the SDK's retries is sent again with jittered back-off inside that timeout (a throttled request was refused
 * before anything happened, so this never deploys twice): the first pass over a large fleet tags every service
 * at once, more than ECS's per-account rate allows.
 */
async function write(
  ctx: CallContext,
  action: string,
  send: (abortSignal: AbortSignal) => Promise<unknown>,
): Promise<string | undefined> {
  ctx.count(action);
  const timeout = AbortSignal.timeout(WRITE_TIMEOUT_MS);
  try {
    await retryThrottled(() => send(timeout), timeout);
    return undefined;
  } catch (err) {
    return timeout.aborted ? `timed out after ${WRITE_TIMEOUT_MS / 1000} s` : describeAwsError(err);
  }
}
