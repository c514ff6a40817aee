/**
 * The identity of ECS clusters and services. ECS takes either by name or by ARN, so one of them can reach the watcher
 * spelled two ways (a config naming a service, discovery listing its ARN; a cluster given both ways). Everything that
 * asks "is this the same cluster / service?" asks here. Calls keep the spelling the operator gave.
 */

const CLUSTER_ARN = /^arn:[^:]+:ecs:[^:]*:[^:]*:cluster\/(.+)$/;
const SERVICE_ARN = /^arn:[^:]+:ecs:[^:]*:[^:]*:service\//;

/** `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME` -> `NAME`; a name stays as it is. */
export function clusterName(id: string): string {
  const m = CLUSTER_ARN.exec(id);
  return m ? m[1]! : id;
}

/** `arn:aws:ecs:REGION:ACCOUNT:service/NAME` or `.../service/CLUSTER/NAME` -> `NAME`; a name stays as it is. */
export function serviceName(id: string): string {
  return SERVICE_ARN.test(id) ? id.slice(id.lastIndexOf('/') + 1) : id;
}

/** One key for a (cluster, service) pair however either is spelled. */
export function serviceKey(cluster: string, service: string): string {
  return `${clusterName(cluster)}\u0000${serviceName(service)}`;
}

/** True when a requested id (a name or an ARN) is the service DescribeServices answered with this ARN and name. */
export function isService(id: string, answer: { readonly arn?: string; readonly name?: string }): boolean {
  if (answer.arn !== undefined && answer.arn === id) return true;
  const name = answer.name ?? (answer.arn === undefined ? undefined : serviceName(answer.arn));
  return serviceName(id) === name;
}

/** Clusters without repeats, a name and an ARN of one cluster counting once; the first spelling is kept. */
export function distinctClusters(ids: readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const id of ids) if (!seen.has(clusterName(id))) seen.set(clusterName(id), id);
  return [...seen.values()];
}
