import { ListServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { describeAwsError } from '../shared/aws-error.ts';
import type { EcsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { DeploymentEnd, Observation } from './model.ts';
import { observeEach } from './observe-each.ts';

/** A service whose history is asked for: its cluster, its ARN, and since when (ms since the epoch). */
export interface HistoryQuery {
  readonly cluster: string;
  readonly serviceArn: string;
  readonly since: number;
}

/**
 * The service deployments of each service since a time, from `ListServiceDeployments` (one page of 20, the newest
 * enough: asked from just before the watcher's own redeploy). Read only for services whose deployment started by
 * the watcher has left `DescribeServices`' list, where only the history still says whether it was rolled back.
 */
export function readDeploymentHistory(
  ecs: EcsPort,
  queries: readonly HistoryQuery[],
  ctx: CallContext,
): Promise<Map<string, Observation<readonly DeploymentEnd[]>>> {
  const byService = new Map(queries.map((q) => [q.serviceArn, q]));
  return observeEach(byService.keys(), async (arn) => {
    const q = byService.get(arn)!;
    try {
      const out = await ctx.call('ListServiceDeployments', (abortSignal) =>
        ecs.send(
          new ListServiceDeploymentsCommand({
            cluster: q.cluster,
            service: q.serviceArn,
            createdAt: { after: new Date(q.since) },
            maxResults: 20,
          }),
          { abortSignal },
        ),
      );
      const ends = (out.serviceDeployments ?? []).flatMap((d) =>
        d.createdAt && d.status ? [{ createdAt: d.createdAt.getTime(), status: d.status }] : [],
      );
      return { ok: true, value: ends.sort((a, b) => a.createdAt - b.createdAt) };
    } catch (err) {
      return { ok: false, error: describeAwsError(err) };
    }
  });
}
