import { DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { EcsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';

/** A container image a forced deployment would resolve again (a tag, not a digest), and its version consistency. */
export interface MutableImage {
  readonly container: string;
  readonly image: string;
  /** `disabled`: every task resolves the tag itself; `enabled` (the default): each new deployment does. */
  readonly versionConsistency: string;
}

/**
 * The mutable images of task definitions, one DescribeTaskDefinition per distinct ARN. A task definition revision
 * never changes, so answers are kept in `cache` (a long-running watcher asks once per revision). An unreadable one
 * is left out: this is a warning, not a decision.
 */
export async function readMutableImages(
  ecs: EcsPort,
  arns: readonly string[],
  ctx: CallContext,
  cache: Map<string, readonly MutableImage[]>,
): Promise<Map<string, readonly MutableImage[]>> {
  const out = new Map<string, readonly MutableImage[]>();
  await Promise.all(
    [...new Set(arns)].map(async (arn) => {
      let images = cache.get(arn);
      if (!images) {
        try {
          const res = await ctx.call('DescribeTaskDefinition', (abortSignal) =>
            ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }), { abortSignal }),
          );
          images = (res.taskDefinition?.containerDefinitions ?? []).flatMap((c) =>
            c.image && !c.image.includes('@sha256:')
              ? [{ container: c.name ?? '?', image: c.image, versionConsistency: c.versionConsistency ?? 'enabled' }]
              : [],
          );
          cache.set(arn, images);
        } catch {
          return;
        }
      }
      out.set(arn, images);
    }),
  );
  return out;
}
