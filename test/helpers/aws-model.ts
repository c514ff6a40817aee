/**
 * What AWS answers and moto does not, modelled in the proxy in front of moto (aws-proxy.ts) from the API reference:
 *
 * - Secrets Manager `ListSecretVersionIds`: moto gives every version's `CreatedDate` as "now". The model remembers
 *   when each version was created (the answers of CreateSecret and PutSecretValue name it) and answers that.
 * - Secrets Manager `DescribeSecret`'s `LastChangedDate` ("the last date and time that this secret was modified in
 *   any way"): moto keeps whole seconds and leaves it when a label moves. The model answers the time of the last
 *   CreateSecret, PutSecretValue or UpdateSecretVersionStage, to the millisecond.
 * - ECS rollouts: moto creates every deployment `IN_PROGRESS` (unless MOTO_ECS_SERVICE_RUNNING reaches the desired
 *   count) and never ends one; `forceNewDeployment` replaces the PRIMARY deployment's id and time instead of adding
 *   one. The model answers as ECS does: a new PRIMARY deployment beside the old one (ACTIVE) while it rolls out, then
 *   `COMPLETED` alone. By default a rollout completes at once; a test scripts one (`rollout`) to stay in progress
 *   until `finish`, to fail, or to be rolled back by the circuit breaker (a new PRIMARY whose reason says so;
 *   `settle` then makes that reason say "completed", as ECS does once the rollback is done).
 * - ECS `ListServiceDeployments` (moto has no service deployments): the deployments the model made, with the status
 *   ECS gives a service deployment (IN_PROGRESS, SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL), answered by the proxy.
 */
export type Rollout = 'completed' | 'in-progress' | 'failed' | 'rolled-back';

interface Deployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason?: string;
  createdAt: number;
}

/** A service deployment as ListServiceDeployments lists it. */
interface ServiceDeployment {
  readonly id: string;
  readonly createdAt: number;
  status: 'IN_PROGRESS' | 'SUCCESSFUL' | 'STOPPED' | 'ROLLBACK_SUCCESSFUL';
}

type Json = Record<string, unknown>;

export class AwsModel {
  /** Secret version id -> when it was created (seconds, as the JSON protocol writes times). */
  private readonly versions = new Map<string, number>();
  /** Secret ARN -> when it last changed (seconds). */
  private readonly changed = new Map<string, number>();
  /** Service ARN -> its deployments as ECS would show them, once the watcher (or a test) deployed it. */
  private readonly deployments = new Map<string, Deployment[]>();
  /** Service name -> how its next rollout ends. */
  private readonly scripts = new Map<string, Rollout>();
  /** Service ARN -> the service deployments the model made, oldest first. */
  private readonly history = new Map<string, ServiceDeployment[]>();

  /** Forgets everything (moto was reset). */
  reset(): void {
    this.versions.clear();
    this.changed.clear();
    this.deployments.clear();
    this.scripts.clear();
    this.history.clear();
  }

  /** How the next rollout of `service` (by name) ends. */
  rollout(service: string, how: Rollout): void {
    this.scripts.set(service, how);
  }

  /** Ends the rollout in flight of `service` (by name). */
  finish(service: string, result: Exclude<Rollout, 'in-progress'> = 'completed'): void {
    for (const [arn, list] of this.deployments) {
      if (arn.endsWith(`/${service}`)) this.deployments.set(arn, this.ended(arn, list, result));
    }
  }

  /** Time passes after a rollback of `service`: its PRIMARY's reason says "completed", as ECS's does then. */
  settle(service: string): void {
    for (const [arn, list] of this.deployments) {
      const [primary] = list;
      if (arn.endsWith(`/${service}`) && primary) {
        this.deployments.set(arn, [{ ...primary, rolloutStateReason: `ECS deployment ${primary.id} completed.` }]);
      }
    }
  }

  /** Answers a call moto does not implement (ListServiceDeployments), or undefined to forward it. */
  respond(target: string | undefined, request: Json): Json | undefined {
    if (target?.split('.').pop() !== 'ListServiceDeployments') return undefined;
    const arn = String(request.service ?? '');
    const after = Number((request.createdAt as Json | undefined)?.after ?? 0);
    return {
      serviceDeployments: (this.history.get(arn) ?? [])
        .filter((d) => d.createdAt >= after)
        .map((d) => ({
          serviceDeploymentArn: `${arn.replace(':service/', ':service-deployment/')}/${d.id.replace('ecs-svc/', '')}`,
          serviceArn: arn,
          createdAt: d.createdAt,
          status: d.status,
        })),
    };
  }

  /** The deployments once the rollout in flight ended as `result`; the service deployments' statuses follow. */
  private ended(arn: string, list: Deployment[], result: Exclude<Rollout, 'in-progress'>): Deployment[] {
    const out = ended(list, result);
    const history = this.history.get(arn) ?? [];
    const mine = history.find((d) => d.id === list[0]?.id);
    if (mine)
      mine.status = result === 'completed' ? 'SUCCESSFUL' : result === 'failed' ? 'STOPPED' : 'ROLLBACK_SUCCESSFUL';
    // A rollback is a deployment in DescribeServices but no service deployment of its own: ECS keeps it in the
    // failed one (its `rollback` and ROLLBACK_* status, API_ServiceDeployment / API_Rollback).
    this.history.set(arn, history);
    return out;
  }

  /** The answer AWS would give, from moto's. */
  answer(target: string | undefined, request: Json, response: Json): Json {
    const action = target?.split('.').pop();
    if (target?.startsWith('secretsmanager.')) return this.secrets(action, response);
    if (target?.startsWith('AmazonEC2ContainerService')) return this.ecs(action, request, response);
    return response;
  }

  private secrets(action: string | undefined, response: Json): Json {
    if ((action === 'CreateSecret' || action === 'PutSecretValue') && typeof response.VersionId === 'string') {
      this.versions.set(response.VersionId, Date.now() / 1000);
    }
    if (
      (action === 'CreateSecret' || action === 'PutSecretValue' || action === 'UpdateSecretVersionStage') &&
      typeof response.ARN === 'string'
    ) {
      this.changed.set(response.ARN, Date.now() / 1000);
    }
    if (action === 'DescribeSecret' && typeof response.ARN === 'string') {
      const at = this.changed.get(response.ARN);
      return at === undefined ? response : { ...response, LastChangedDate: at };
    }
    if (action === 'ListSecretVersionIds' && Array.isArray(response.Versions)) {
      const versions = (response.Versions as Json[]).map((v) => {
        const created = this.versions.get(String(v.VersionId));
        return created === undefined ? v : { ...v, CreatedDate: created };
      });
      return { ...response, Versions: versions };
    }
    return response;
  }

  private ecs(action: string | undefined, request: Json, response: Json): Json {
    if (action === 'UpdateService' && request.forceNewDeployment === true) {
      const service = response.service as Json | undefined;
      const arn = String(service?.serviceArn ?? '');
      const primary = (service?.deployments as Json[] | undefined)?.find((d) => d.status === 'PRIMARY');
      if (!arn || !primary) return response;
      const name = arn.slice(arn.lastIndexOf('/') + 1);
      const before = this.deployments.get(arn) ?? [];
      const next: Deployment = {
        id: String(primary.id),
        status: 'PRIMARY',
        rolloutState: 'IN_PROGRESS',
        createdAt: Date.now() / 1000,
      };
      const old =
        before.length > 0
          ? before
          : [{ id: `${next.id}-before`, status: 'ACTIVE' as const, rolloutState: 'COMPLETED' as const, createdAt: 0 }];
      const list = [next, ...old.map((d) => ({ ...d, status: 'ACTIVE' as const }))];
      const how = this.scripts.get(name) ?? 'completed';
      this.scripts.delete(name);
      this.deployments.set(arn, list);
      this.history.set(arn, [
        ...(this.history.get(arn) ?? []),
        { id: next.id, createdAt: next.createdAt, status: 'IN_PROGRESS' },
      ]);
      // ECS answers at once, with the new deployment in progress; how it ends shows from the next read on.
      const answer = { ...response, service: { ...service, deployments: list.map(shown) } };
      if (how !== 'in-progress') this.deployments.set(arn, this.ended(arn, list, how));
      return answer;
    }
    if (action === 'DescribeServices' && Array.isArray(response.services)) {
      const services = (response.services as Json[]).map((s) => {
        const modelled = this.deployments.get(String(s.serviceArn));
        if (modelled) return { ...s, deployments: modelled.map(shown) };
        // Not deployed since it was created: its one deployment, completed (moto never completes one).
        const deployments = ((s.deployments as Json[] | undefined) ?? []).map((d) =>
          d.rolloutState === 'IN_PROGRESS'
            ? { ...d, rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${String(d.id)} completed.` }
            : d,
        );
        return { ...s, deployments };
      });
      return { ...response, services };
    }
    return response;
  }
}

let rollbacks = 0;

/** The deployments once the rollout in flight ended as `result`. */
function ended(list: Deployment[], result: Exclude<Rollout, 'in-progress'>): Deployment[] {
  const [primary] = list;
  if (!primary) return list;
  if (result === 'completed') return [{ ...primary, rolloutState: 'COMPLETED' }];
  if (result === 'failed') return [{ ...primary, rolloutState: 'FAILED' }];
  const back: Deployment = {
    // A deployment id as ECS writes them (ecs-svc/ and 19 digits).
    id: `ecs-svc/${String(Date.now()).padEnd(19, String(++rollbacks % 10))}`,
    status: 'PRIMARY',
    rolloutState: 'COMPLETED',
    rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${list[1]?.id ?? 'unknown'}.`,
    createdAt: Date.now() / 1000,
  };
  return [back];
}

function shown(d: Deployment): Json {
  return { ...d };
}
