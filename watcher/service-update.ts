import {
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
  type UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';
import { describeAwsError } from '../shared/aws-error.ts';
import type { EcsPort } from '../shared/aws-ports.ts';
import { FINGERPRINT_TAG } from '../shared/contract.ts';
import { retryThrottled } from '../shared/throttle-retry.ts';
import type { CallContext } from './call-context.ts';
import type { Decision } from './model.ts';
import { encodeState, type ServiceStateTag } from './state-tag.ts';

/**
 * How long each write may take, whatever is left of the pass deadline: a redeploy that ECS accepted must get its
 * state, or the next pass would have to find out from the deployments.
 */
export const WRITE_TIMEOUT_MS = 10_000;

/** `ecs` for tags; `deploy` for UpdateService only (a client that never resends one, see redeploy-client.ts). */
export interface ApplyPorts {
  readonly ecs: EcsPort;
  readonly deploy: EcsPort;
}

/** The result of one write: done, refused by AWS (nothing happened), or its answer lost (it may have happened). */
export type WriteResult =
  | { readonly ok: true; readonly output?: unknown }
  | { readonly ok: false; readonly definite: boolean; readonly error: string };

/** Writes a service's state tag (signed with `key` when there is one). */
export function writeState(
  ports: ApplyPorts,
  ctx: CallContext,
  d: Pick<Decision, 'serviceArn'>,
  state: ServiceStateTag,
  key: Buffer | undefined,
): Promise<WriteResult> {
  const tag = new TagResourceCommand({
    resourceArn: d.serviceArn,
    tags: [{ key: FINGERPRINT_TAG, value: encodeState(state, d.serviceArn, key) }],
  });
  return write(ctx, 'TagResource', (abortSignal) => ports.ecs.send(tag, { abortSignal }));
}

/** Puts back the state a claim replaced: the tag as it was, or no tag when there was none. */
export function restoreState(
  ports: ApplyPorts,
  ctx: CallContext,
  d: Pick<Decision, 'serviceArn' | 'previous'>,
  key: Buffer | undefined,
): Promise<WriteResult> {
  if (d.previous) return writeState(ports, ctx, d, d.previous, key);
  const untag = new UntagResourceCommand({ resourceArn: d.serviceArn, tagKeys: [FINGERPRINT_TAG] });
  return write(ctx, 'UntagResource', (abortSignal) => ports.ecs.send(untag, { abortSignal }));
}

/**
 * UpdateService(forceNewDeployment) through the deploy client, which never resends a request that may have been
 * applied. On success, the id of the deployment it started (the new PRIMARY), when ECS says.
 */
export async function forceNewDeployment(
  ports: ApplyPorts,
  ctx: CallContext,
  d: Pick<Decision, 'cluster' | 'service'>,
): Promise<WriteResult & { readonly deployment?: string }> {
  const update = new UpdateServiceCommand({ cluster: d.cluster, service: d.service, forceNewDeployment: true });
  const result = await write(ctx, 'UpdateService', (abortSignal) => ports.deploy.send(update, { abortSignal }), false);
  if (!result.ok) return result;
  const out = result.output as UpdateServiceCommandOutput | undefined;
  const primary = out?.service?.deployments?.find((x) => x.status === 'PRIMARY');
  return primary?.id ? { ...result, deployment: primary.id } : result;
}

/**
 * One write with its own timeout. An answer is definite when AWS gave one (an HTTP 4xx: nothing was done); a
 * timeout, a reset, a truncated answer or a 5xx leave it unknown. A write that stays throttled after the SDK's
 * retries is sent again with jittered back-off inside that timeout (a throttled request was refused before anything
 * happened) when `again`; UpdateService is not (its client already retries throttling, and only that).
 */
async function write(
  ctx: CallContext,
  action: string,
  send: (abortSignal: AbortSignal) => Promise<unknown>,
  again = true,
): Promise<WriteResult> {
  ctx.count(action);
  const timeout = AbortSignal.timeout(WRITE_TIMEOUT_MS);
  try {
    const output = await (again ? retryThrottled(() => send(timeout), timeout) : send(timeout));
    return { ok: true, output };
  } catch (err) {
    if (timeout.aborted) return { ok: false, definite: false, error: `timed out after ${WRITE_TIMEOUT_MS / 1000} s` };
    return { ok: false, definite: isDefiniteRefusal(err), error: describeAwsError(err) };
  }
}

/** AWS answered, and refused: a 4xx carries no effect. Anything else may have reached the service. */
export function isDefiniteRefusal(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } })?.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}
