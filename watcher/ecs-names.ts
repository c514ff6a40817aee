/**
 * ECS takes a cluster or a service by name or by ARN, so one of them can reach the watcher spelled two ways. These
 * give the name both spellings share, for keying and deduplication only; calls keep the spelling the operator gave.
 */

/** `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME` -> `NAME`; a name stays as it is. */
export function clusterName(id: string): string {
  const m = /^arn:[^:]+:ecs:[^:]*:[^:]*:cluster\/(.+)$/.exec(id);
  return m ? m[1]! : id;
}

/** `arn:aws:ecs:REGION:ACCOUNT:service/NAME` or `.../service/CLUSTER/NAME` -> `NAME`; a name stays as it is. */
export function serviceName(id: string): string {
  return /^arn:[^:]+:ecs:[^:]*:[^:]*:service\//.test(id) ? id.slice(id.lastIndexOf('/') + 1) : id;
}

/** Clusters without repeats, a name and an ARN of one cluster counting once; the first spelling is kept. */
export function distinctClusters(ids: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const id of ids) if (!seen.has(clusterName(id))) seen.set(clusterName(id), id);
  return [...seen.values()];
}
