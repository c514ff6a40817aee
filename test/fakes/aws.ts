import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListServiceDeploymentsCommand,
  ListServicesCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
} from '@aws-sdk/client-secrets-manager';
import type { EcsPort, SecretsPort } from '../../shared/aws-ports.ts';

/**
 * The one in-memory AWS of the watcher's unit tests and of the bench: ECS services with tags, deployments and their
 * rollouts, task definitions, and secrets with versions and when each became current. It answers the calls the
 * watcher makes with the SDK's output shapes (anything else throws), on a clock of its own that tests advance,
 * records every call, and can refuse a call (a 4xx AWS answers), lose its answer after applying it (a 5xx or a
 * reset after the fact), or delay it.
 *
 * Rollouts are modelled as the ECS API reference describes them: UpdateService(forceNewDeployment) makes a new
 * PRIMARY deployment and the old one ACTIVE until the rollout ends; `rollout` scripts how it ends (`completed`
 * at once by default, or `in-progress` until `finish()`, `failed`, or rolled back by the circuit breaker, which
 * makes a new PRIMARY deployment whose reason says so).
 */

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

interface FakeDeployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE';
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason?: string;
  createdAt: number;
  taskDefinition: string;
  /** Its status as a service deployment (ListServiceDeployments): it outlives its place in `deployments`. */
  serviceStatus: 'IN_PROGRESS' | 'SUCCESSFUL' | 'STOPPED' | 'ROLLBACK_SUCCESSFUL';
}

interface FakeService {
  cluster: string;
  name: string;
  arn: string;
  status: string;
  controller: string;
  tags: Map<string, string>;
  taskDefinition: string;
  deployments: FakeDeployment[];
  /** Every deployment it ever had, oldest first. */
  history: FakeDeployment[];
}

interface FakeSecret {
  name: string;
  arn: string;
  /** version id -> when it was created (ms), in creation order. */
  versions: Map<string, number>;
  current: string;
  pending?: string;
  value?: string;
  /** LastChangedDate (ms): when it was last modified in any way (a version put, a label moved). */
  changed: number;
}

/** How the next rollout of a service ends. */
export type Rollout = 'completed' | 'in-progress' | 'failed' | 'rolled-back';

/** A call's fate: refused by AWS (nothing applied), or applied with its answer lost. */
export type Fault =
  | { readonly refuse: string; readonly status?: number }
  | { readonly lose: string; readonly status?: number };

export class FakeAws {
  /** ms since the epoch; tests move it with tick(). */
  clock = Date.UTC(2026, 10, 29, 12);
  readonly services = new Map<string, FakeService>();
  readonly secrets = new Map<string, FakeSecret>();
  readonly taskDefinitions = new Map<string, { name: string; image: string; versionConsistency?: string }[]>();
  readonly calls: { action: string; input: Record<string, unknown> }[] = [];
  /** The fault for a call, if any. */
  fault: (action: string, input: Record<string, unknown>) => Fault | undefined = () => undefined;
  /** Per-call latency in ms; the call is aborted by its abortSignal, as the SDK's would be. */
  delay: (action: string) => number = () => 0;
  /** How each service's next rollout ends (default `completed`). */
  readonly rollout = new Map<string, Rollout>();
  /** Runs before each answer: a rival run acting between two calls of the one under test. */
  beforeAnswer: (action: string, input: Record<string, unknown>) => void = () => {};
  inFlight = 0;
  maxInFlight = 0;
  private ids = 0;

  tick(ms = 1000): number {
    this.clock += ms;
    return this.clock;
  }

  addTaskDefinition(
    family: string,
    containers: { name: string; image: string; versionConsistency?: string }[],
  ): string {
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:1`;
    this.taskDefinitions.set(arn, containers);
    return arn;
  }

  /** DescribeSecret answers without LastChangedDate (the watcher then asks ListSecretVersionIds when it needs times). */
  withoutLastChangedDate = false;

  addService(
    cluster: string,
    name: string,
    tags: Record<string, string> = {},
    opts: { status?: string; controller?: string; taskDefinition?: string } = {},
  ): string {
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${name}`;
    const taskDefinition =
      opts.taskDefinition ?? this.addTaskDefinition(name, [{ name, image: `${name}@sha256:${'0'.repeat(64)}` }]);
    this.services.set(arn, {
      cluster,
      name,
      arn,
      status: opts.status ?? 'ACTIVE',
      controller: opts.controller ?? 'ECS',
      tags: new Map(Object.entries(tags)),
      taskDefinition,
      deployments: [],
      history: [],
    });
    const s = this.services.get(arn)!;
    s.deployments = [this.deployment(s)];
    this.tick(1);
    return arn;
  }

  addSecret(name: string, version = `${name}-v1`): void {
    this.secrets.set(name, {
      name,
      arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
      versions: new Map([[version, this.clock]]),
      current: version,
      changed: this.clock,
    });
    this.tick(1);
  }

  /** A new version becomes AWSCURRENT (PutSecretValue, or a rotation's last step). */
  rotate(name: string, version: string): void {
    const s = this.secret(name);
    s.versions.set(version, this.tick(1));
    s.current = version;
    s.changed = this.clock;
  }

  /** AWSCURRENT moves back to a version created earlier (UpdateSecretVersionStage): no new version. */
  stageBack(name: string, version: string): void {
    this.tick(1);
    this.secret(name).current = version;
    this.secret(name).changed = this.clock;
  }

  /** A rotation in progress: an AWSPENDING version that is not current. */
  pend(name: string, version: string): void {
    this.secret(name).versions.set(version, this.tick(1));
    this.secret(name).pending = version;
    this.secret(name).changed = this.clock;
  }

  service(cluster: string, name: string): FakeService {
    const s = [...this.services.values()].find((x) => x.cluster === cluster && x.name === name);
    if (!s) throw new Error(`no service ${cluster}/${name}`);
    return s;
  }

  tag(cluster: string, name: string, key: string): string | undefined {
    return this.service(cluster, name).tags.get(key);
  }

  /** Ends a service's rollout in flight: completed, failed, or rolled back by the circuit breaker. */
  finish(cluster: string, name: string, result: Exclude<Rollout, 'in-progress'> = 'completed'): void {
    const s = this.service(cluster, name);
    const primary = s.deployments[0]!;
    if (result === 'completed') {
      primary.rolloutState = 'COMPLETED';
      primary.serviceStatus = 'SUCCESSFUL';
      s.deployments = [primary];
    } else if (result === 'failed') {
      primary.rolloutState = 'FAILED';
      primary.serviceStatus = 'STOPPED';
      s.deployments = [primary];
    } else {
      primary.rolloutState = 'FAILED';
      primary.serviceStatus = 'ROLLBACK_SUCCESSFUL';
      // The rollback is a deployment in DescribeServices, but no service deployment of its own: ECS keeps it in the
      // failed one (its `rollback` and ROLLBACK_* status, API_ServiceDeployment / API_Rollback).
      const back = this.deployment(s, false);
      back.rolloutStateReason = `ECS deployment circuit breaker: rolling back to deploymentId ${primary.id}.`;
      s.deployments = [back];
    }
    for (const d of s.deployments)
      if (d.serviceStatus === 'IN_PROGRESS' && d.rolloutState !== 'IN_PROGRESS') d.serviceStatus = 'SUCCESSFUL';
  }

  /** Time passes after a rollback: ECS's words on the PRIMARY deployment no longer say it rolled anything back. */
  settle(cluster: string, name: string): void {
    const primary = this.service(cluster, name).deployments[0]!;
    primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
  }

  count(action: string): number {
    return this.calls.filter((c) => c.action === action).length;
  }

  /** Services UpdateService was sent for (also those refused or whose answer was lost), in order. */
  updated(): string[] {
    return this.calls.filter((c) => c.action === 'UpdateService').map((c) => String(c.input.service));
  }

  /** Calls answered, by action. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.calls) out[c.action] = (out[c.action] ?? 0) + 1;
    return out;
  }

  readonly ecs = {
    send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => this.answer(cmd, opts),
  } as unknown as EcsPort;
  readonly sm = {
    send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => this.answer(cmd, opts),
  } as unknown as SecretsPort;

  private deployment(s: FakeService, serviceDeployment = true): FakeDeployment {
    const d: FakeDeployment = {
      id: `ecs-svc/${String(++this.ids).padStart(19, '0')}`,
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
      createdAt: this.clock,
      taskDefinition: s.taskDefinition,
      serviceStatus: 'SUCCESSFUL',
    };
    if (serviceDeployment) s.history.push(d);
    return d;
  }

  private secret(id: string): FakeSecret {
    const s = this.secrets.get(id) ?? [...this.secrets.values()].find((x) => x.arn === id || x.arn.slice(0, -7) === id);
    if (!s) throw awsError('ResourceNotFoundException', 400);
    return s;
  }

  private async answer(cmd: unknown, opts?: { abortSignal?: AbortSignal }): Promise<unknown> {
    const action = (cmd as object).constructor.name.replace(/Command$/, '');
    const input = (cmd as { input: Record<string, unknown> }).input;
    this.calls.push({ action, input });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      const ms = this.delay(action);
      if (ms > 0) await abortable(ms, opts?.abortSignal);
      this.beforeAnswer(action, input);
      const f = this.fault(action, input);
      if (f && 'refuse' in f) throw awsError(f.refuse, f.status ?? 400);
      const out = this.handle(cmd);
      if (f && 'lose' in f) throw awsError(f.lose, f.status ?? 500);
      return out;
    } finally {
      this.inFlight--;
    }
  }

  private handle(cmd: unknown): unknown {
    if (cmd instanceof ListServicesCommand) {
      const all = [...this.services.values()].filter(
        (s) => s.cluster === clusterOf(cmd.input.cluster) && s.status !== 'INACTIVE',
      );
      const start = Number(cmd.input.nextToken ?? 0);
      const end = start + (cmd.input.maxResults ?? 10);
      return {
        serviceArns: all.slice(start, end).map((s) => s.arn),
        nextToken: end < all.length ? String(end) : undefined,
      };
    }
    if (cmd instanceof DescribeServicesCommand) {
      const ids = cmd.input.services ?? [];
      if (ids.length > 10) throw awsError('InvalidParameterException', 400);
      const found = ids.map((id) =>
        [...this.services.values()].find(
          (s) => s.cluster === clusterOf(cmd.input.cluster) && (s.arn === id || s.name === id),
        ),
      );
      return {
        services: found
          .filter((s) => s !== undefined)
          .map((s) => ({
            serviceName: s.name,
            serviceArn: s.arn,
            status: s.status,
            taskDefinition: s.taskDefinition,
            deploymentController: { type: s.controller },
            tags: cmd.input.include?.includes('TAGS') ? [...s.tags].map(([key, value]) => ({ key, value })) : undefined,
            deployments: s.deployments.map((d) => ({ ...d, createdAt: new Date(d.createdAt) })),
          })),
        failures: ids.filter((_, i) => !found[i]).map((id) => ({ arn: id, reason: 'MISSING' })),
      };
    }
    if (cmd instanceof UpdateServiceCommand) {
      const s = [...this.services.values()].find(
        (x) =>
          x.cluster === clusterOf(cmd.input.cluster) && (x.arn === cmd.input.service || x.name === cmd.input.service),
      );
      if (!s) throw awsError('ServiceNotFoundException', 400);
      if (s.controller !== 'ECS') throw awsError('InvalidParameterException', 400);
      this.tick(1);
      const next = this.deployment(s);
      const rollout = this.rollout.get(s.name) ?? 'completed';
      const old = s.deployments.map((d) => ({ ...d, status: 'ACTIVE' as const }));
      s.deployments = [next, ...old];
      if (rollout === 'in-progress') {
        next.rolloutState = 'IN_PROGRESS';
        next.serviceStatus = 'IN_PROGRESS';
      } else this.finish(s.cluster, s.name, rollout);
      return { service: { serviceArn: s.arn, deployments: [{ id: next.id, status: 'PRIMARY' }] } };
    }
    if (cmd instanceof ListServiceDeploymentsCommand) {
      const s = this.services.get(String(cmd.input.service));
      if (!s) throw awsError('ServiceNotFoundException', 400);
      const after = cmd.input.createdAt?.after?.getTime() ?? 0;
      return {
        serviceDeployments: s.history
          .filter((d) => d.createdAt >= after)
          .map((d) => ({
            serviceDeploymentArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/${s.cluster}/${s.name}/${d.id.slice(8)}`,
            serviceArn: s.arn,
            createdAt: new Date(d.createdAt),
            status: d.serviceStatus,
          })),
      };
    }
    if (cmd instanceof TagResourceCommand) {
      const s = this.services.get(cmd.input.resourceArn!);
      if (!s) throw awsError('InvalidParameterException', 400);
      for (const t of cmd.input.tags ?? []) s.tags.set(t.key!, t.value!);
      return {};
    }
    if (cmd instanceof UntagResourceCommand) {
      const s = this.services.get(cmd.input.resourceArn!);
      if (!s) throw awsError('InvalidParameterException', 400);
      for (const k of cmd.input.tagKeys ?? []) s.tags.delete(k);
      return {};
    }
    if (cmd instanceof DescribeTaskDefinitionCommand) {
      const containers = this.taskDefinitions.get(cmd.input.taskDefinition!);
      if (!containers) throw awsError('ClientException', 400);
      return { taskDefinition: { taskDefinitionArn: cmd.input.taskDefinition, containerDefinitions: containers } };
    }
    if (cmd instanceof DescribeSecretCommand) {
      const s = this.secret(cmd.input.SecretId!);
      const stages: Record<string, string[]> = { [s.current]: ['AWSCURRENT'] };
      if (s.pending) stages[s.pending] = ['AWSPENDING'];
      return {
        ARN: s.arn,
        Name: s.name,
        VersionIdsToStages: stages,
        ...(!this.withoutLastChangedDate && { LastChangedDate: new Date(s.changed) }),
      };
    }
    if (cmd instanceof ListSecretVersionIdsCommand) {
      const s = this.secret(cmd.input.SecretId!);
      return {
        ARN: s.arn,
        Name: s.name,
        Versions: [...s.versions].map(([id, created]) => ({
          VersionId: id,
          VersionStages: id === s.current ? ['AWSCURRENT'] : id === s.pending ? ['AWSPENDING'] : [],
          CreatedDate: new Date(created),
        })),
      };
    }
    if (cmd instanceof GetSecretValueCommand) {
      const s = this.secret(cmd.input.SecretId!);
      return { ARN: s.arn, Name: s.name, VersionId: s.current, SecretString: s.value ?? '' };
    }
    throw new Error(`the watcher must not send ${(cmd as object).constructor.name}`);
  }
}

/** An error as the SDK throws it for an AWS answer: its name and HTTP status, and a message never to be shown. */
export function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} for request 1234 (LEAK: never shown)`), {
    name,
    $metadata: { httpStatusCode: status },
  });
}

/** ECS takes a cluster's name or its ARN. */
const clusterOf = (id: string | undefined) => id?.replace(/^arn:aws:ecs:[^:]*:[^:]*:cluster\//, '');

function abortable(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
  });
}
