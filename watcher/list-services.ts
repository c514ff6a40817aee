import { ListServicesCommand } from '@aws-sdk/client-ecs';
import { describeAwsError } from '../shared/aws-error.ts';
import type { EcsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { Observation } from './model.ts';

/** ListServices' largest page. */
export const LIST_SERVICES_PAGE = 100;

/** Every service ARN in a cluster, page by page (ceil(V/100) calls). */
export async function listServiceArns(ecs: EcsPort, cluster: string, ctx: CallContext): Promise<Observation<string[]>> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const token = nextToken;
      const page = await ctx.call('ListServices', (abortSignal) =>
        ecs.send(new ListServicesCommand({ cluster, maxResults: LIST_SERVICES_PAGE, nextToken: token }), {
          abortSignal,
        }),
      );
      arns.push(...(page.serviceArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (err) {
    return { ok: false, error: describeAwsError(err) };
  }
  return { ok: true, value: arns };
}
