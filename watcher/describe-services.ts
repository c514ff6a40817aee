import { DescribeServicesCommand, type Service } from '@aws-sdk/client-ecs';
import { describeAwsError } from '../shared/aws-error.ts';
import type { EcsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import { isService } from './ecs-identity.ts';
import type { Observation, ServiceState } from './model.ts';

/** DescribeServices takes at most ten services a call (moto does not enforce it; AWS does). */
export const DESCRIBE_SERVICES_MAX = 10;

/**
 * Describes services (names or ARNs) with their tags, ten a call, the calls sharing the pass's concurrency bound.
 * Returns one observation per requested id: a service, or why not (`MISSING`, a failed call, ...).
 */
export async function describeServices(
  ecs: EcsPort,
  cluster: string,
  ids: readonly string[],
  ctx: CallContext,
): Promise<Map<string, Observation<ServiceState>>> {
  const distinct = [...new Set(ids)];
  const batches: string[][] = [];
  for (let i = 0; i < distinct.length; i += DESCRIBE_SERVICES_MAX) {
    batches.push(distinct.slice(i, i + DESCRIBE_SERVICES_MAX));
  }
  const out = new Map<string, Observation<ServiceState>>();
  await Promise.all(
    batches.map(async (batch) => {
      try {
        const res = await ctx.call('DescribeServices', (abortSignal) =>
          ecs.send(new DescribeServicesCommand({ cluster, services: batch, include: ['TAGS'] }), { abortSignal }),
        );
        for (const id of batch) {
          const found = (res.services ?? []).find((s) => isService(id, { arn: s.serviceArn, name: s.serviceName }));
          if (found?.serviceArn && found.serviceName) {
            out.set(id, { ok: true, value: toState(cluster, found) });
            continue;
          }
          const failure = (res.failures ?? []).find((f) => isService(id, { arn: f.arn }));
          const reason = failure?.reason ?? 'MISSING';
          out.set(id, { ok: false, error: `service not found (${reason})` });
        }
      } catch (err) {
        const error = describeAwsError(err);
        for (const id of batch) out.set(id, { ok: false, error });
      }
    }),
  );
  return out;
}

function toState(cluster: string, s: Service): ServiceState {
  const tags: Record<string, string> = {};
  for (const t of s.tags ?? []) if (t.key !== undefined) tags[t.key] = t.value ?? '';
  // PRIMARY first: what its tasks run (or are rolling out to); then the deployments it replaces.
  const deployments = (s.deployments ?? [])
    .filter((d) => d.id !== undefined)
    .map((d) => ({
      id: d.id!,
      status: d.status ?? '',
      ...(d.rolloutState && { rolloutState: d.rolloutState }),
      ...(d.rolloutStateReason && { rolloutStateReason: d.rolloutStateReason }),
      createdAt: d.createdAt?.getTime() ?? null,
      ...(d.taskDefinition && { taskDefinition: d.taskDefinition }),
    }))
    .sort((a, b) => Number(b.status === 'PRIMARY') - Number(a.status === 'PRIMARY'));
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  return {
    cluster,
    name: s.serviceName!,
    arn: s.serviceArn!,
    status: s.status ?? '',
    tags,
    deployedAt: primary?.createdAt ?? null,
    deployments,
    controller: s.deploymentController?.type ?? 'ECS',
    taskDefinition: s.taskDefinition ?? primary?.taskDefinition ?? null,
  };
}
