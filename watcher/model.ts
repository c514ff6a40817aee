/**
 * The watcher's data: what it reads (bindings, service and secret observations), what it decides, what applying a
 * decision did, and what failed. Plain readonly data so the core can be table-tested and every decision logged as
 * it is.
 */
import type { ReadState, ServiceStateTag } from './state-tag.ts';

/** One service and the secrets it uses (from the config file or from the service's `secrets-init/secrets` tags). */
export interface Binding {
  readonly cluster: string;
  /** Service name (config) or ARN (discovery); what DescribeServices was asked for. */
  readonly service: string;
  /** Secret names or ARNs (and parameter ids), as written by the operator. */
  readonly secretIds: readonly string[];
}

/** A deployment as DescribeServices reports it (times in ms since the epoch). */
export interface Deployment {
  readonly id: string;
  /** PRIMARY (the one being rolled out or in service), ACTIVE (the one it replaces), INACTIVE. */
  readonly status: string;
  /** IN_PROGRESS, COMPLETED or FAILED; absent when ECS does not track it (no circuit breaker, old services). */
  readonly rolloutState?: string;
  readonly createdAt: number | null;
  readonly taskDefinition?: string;
  /** ECS's words on the rollout (`ECS deployment circuit breaker: rolling back to ...`). */
  readonly rolloutStateReason?: string;
}

/** A service deployment as ListServiceDeployments lists it: when it was created, and how it went. */
export interface DeploymentEnd {
  readonly createdAt: number;
  /** PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS, ... */
  readonly status: string;
}

/** A service as DescribeServices (include TAGS) reported it. */
export interface ServiceState {
  readonly cluster: string;
  readonly name: string;
  readonly arn: string;
  /** ACTIVE, DRAINING or INACTIVE. */
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * When its PRIMARY deployment was created (ms since the epoch), null if unknown: what its tasks can have seen
   * (they read the secrets when they start), and how long it has run as it is (the order of the due queue).
   */
  readonly deployedAt: number | null;
  /** Its deployments, PRIMARY first. */
  readonly deployments: readonly Deployment[];
  /** ECS, CODE_DEPLOY or EXTERNAL: only ECS takes UpdateService(forceNewDeployment). */
  readonly controller: string;
  /** The task definition ARN of the service (for the image check). */
  readonly taskDefinition: string | null;
}

/**
 * The current version of what a binding id names, keyed by `arn`, the fingerprint's stable key: a secret's
 * AWSCURRENT VersionId under its ARN (so a name and an ARN of the same secret agree); a parameter's or a path's
 * version under its id (`ssm:NAME`, `ssm:/PATH/`; watcher/read-parameter-versions.ts).
 */
export interface SecretVersion {
  readonly arn: string;
  readonly currentVersionId: string;
  /**
   * When that version became current, if known (ms since the epoch): a secret's version's CreatedDate, a parameter's
   * LastModifiedDate, a path's latest. A version newer than a service's PRIMARY deployment is one its tasks cannot
   * have read.
   */
  readonly changedAt?: number;
}

export type { Observation } from '../shared/observation.ts';

/**
 * `record`: write the state the tasks are in (first sight, a redeploy that completed), no rollout. `redeploy`: due
 * for UpdateService(forceNewDeployment). `skip`: nothing to do. `wait`: due or possibly due, but not now (a
 * deployment in flight, another run's claim). `exclude`: the service cannot be redeployed this way.
 */
export type DecisionKind = 'record' | 'redeploy' | 'skip' | 'wait' | 'exclude';

/**
 * Why, from what was read:
 * - `no-state` (record): no state the watcher can trust (first sight, a tag stripped, forged or of an older
 *   watcher), and no bound secret changed since the PRIMARY deployment began: its tasks run the current versions.
 * - `changed-since-deployment` (redeploy): no trusted state, and a bound secret became current after the PRIMARY
 *   deployment began: its tasks may hold the old value.
 * - `fingerprint-changed` (redeploy): the trusted state says the tasks run other versions.
 * - `unconfirmed-redeploy` (redeploy): a claimed redeploy that no deployment followed (refused, or never sent).
 * - `redeploy-completed`, `redeploy-failed`, `redeploy-rolled-back` (record): the outcome of a redeploy this
 *   watcher started, seen on a later pass; a failed or rolled-back one is not retried for the same versions.
 * - `unchanged` (skip); `failed-before` (skip): the redeploy to these versions failed, see its outcome.
 * - `deployment-in-progress`, `claimed-by-another-run` (wait): it stays due.
 * - `deployment-controller` (exclude): CODE_DEPLOY and EXTERNAL services refuse forceNewDeployment.
 */
export type DecisionReason =
  | 'no-state'
  | 'changed-since-deployment'
  | 'fingerprint-changed'
  | 'unconfirmed-redeploy'
  | 'redeploy-completed'
  | 'redeploy-failed'
  | 'redeploy-rolled-back'
  | 'unchanged'
  | 'failed-before'
  | 'deployment-in-progress'
  | 'claimed-by-another-run'
  | 'deployment-controller';

/**
 * What a service needs, from what was read: final once logged. Whether a due redeploy happens this pass (the cap,
 * rival runs, the deadline, AWS's answer) is its Outcome.
 */
export interface Decision {
  readonly cluster: string;
  readonly service: string;
  readonly serviceArn: string;
  readonly decision: DecisionKind;
  readonly reason: DecisionReason;
  /** What the state tag said (its fingerprint), null if nothing usable. */
  readonly oldFingerprint: string | null;
  /** The fingerprint of the versions current now. */
  readonly newFingerprint: string;
  /** How far the state tag could be trusted (state-tag.ts). */
  readonly trust: ReadState['trust'];
  /** Sorted, distinct secret ids of the binding (ids, never values). */
  readonly secretIds: readonly string[];
  /** The digest of the binding (state-tag.ts `b`). */
  readonly binding: string;
  /** When its PRIMARY deployment was created (ms since the epoch), null if unknown: orders the due queue. */
  readonly deployedAt: number | null;
  /** The PRIMARY deployment's id when read: a redeploy goes ahead only if it is still the PRIMARY one. */
  readonly deployment: string | null;
  /** The state this decision writes as it is (`record`). */
  readonly write?: ServiceStateTag;
  /** The binding overwrites in a row that a state written now carries (state-tag.ts `x`). */
  readonly flips: number;
  /** The state read, when it was this watcher's (for `redeploy`: what to put back if nothing was sent). */
  readonly previous?: ServiceStateTag;
  /** `container: image (version consistency ...)` of its images a forced deployment re-resolves (due services). */
  readonly mutableImages?: readonly string[];
}

/**
 * What applying a decision did. `recorded`: its state tag was written. `redeployed`: ECS accepted UpdateService.
 * `deferred`: due, but not started this pass — the cap for the window was reached (`cap`), another run claimed it
 * (`rival`), or the pass deadline came first (`deadline`): it stays due. `unknown`: UpdateService was sent and its
 * answer lost (timeout, reset, 5xx): it may have started, the claim says so, and the cap counts it. `failed`: AWS
 * refused (nothing was started); `failure` says where.
 */
export type OutcomeKind = 'recorded' | 'redeployed' | 'deferred' | 'unknown' | 'failed';

export interface Outcome {
  readonly decision: Decision;
  readonly outcome: OutcomeKind;
  /** For `deferred`. */
  readonly reason?: 'cap' | 'rival' | 'deadline';
  /** For `failed` and `unknown`, and for a redeploy whose state tag could not be written afterwards. */
  readonly failure?: Failure;
}

/**
 * Where a failure happened: listing a cluster, reading a service, its binding tags, a secret or its state tag, or
 * applying a decision.
 */
export type FailureStage = 'discover' | 'service' | 'binding' | 'secret' | 'state' | 'redeploy' | 'tag';

/** One failure (of a cluster, a service or a secret): logged as one event; the pass carries on and exits 3. */
export interface Failure {
  readonly cluster: string;
  readonly service: string | null;
  readonly secretId: string | null;
  readonly stage: FailureStage;
  readonly error: string;
}
