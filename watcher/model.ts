/**
 * The watcher's data: what it reads (bindings, service and secret observations), what it decides, and what failed.
 * Plain readonly data so the core can be table-tested and every decision can be logged as it is.
 */

/** One service and the secrets it uses (from the config file or from the service's `secrets-init/secrets` tags). */
export interface Binding {
  readonly cluster: string;
  /** Service name (config) or ARN (discovery); what DescribeServices was asked for. */
  readonly service: string;
  /** Secret names or ARNs, as written by the operator. */
  readonly secretIds: readonly string[];
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
   * When its PRIMARY deployment was created (ms since the epoch), null if unknown: how long the service has run
   * as it is, which orders the services due for a redeploy under the cap.
   */
  readonly deployedAt: number | null;
}

/**
 * The current version of what a binding id names, keyed by `arn`, the fingerprint's stable key: a secret's
 * AWSCURRENT VersionId under its ARN (so a name and an ARN of the same secret agree); a parameter's or a path's
 * version under its id (`ssm:NAME`, `ssm:/PATH/`; watcher/read-parameter-versions.ts).
 */
export interface SecretVersion {
  readonly arn: string;
  readonly currentVersionId: string;
  /** When it last changed (ms since the epoch), where the read says: a parameter's LastModifiedDate, a path's latest. */
  readonly changedAt?: number;
}

export type { Observation } from '../shared/observation.ts';

export type DecisionKind = 'record' | 'redeploy' | 'skip';

/** Why: `no-fingerprint` (first sight, record only), `fingerprint-changed` (due for a redeploy), `unchanged`. */
export type DecisionReason = 'no-fingerprint' | 'fingerprint-changed' | 'unchanged';

/**
 * What a service needs, from what was read: final once logged. Whether a due redeploy happens this pass (the cap,
 * the deadline, AWS's answer) is its Outcome.
 */
export interface Decision {
  readonly cluster: string;
  readonly service: string;
  readonly serviceArn: string;
  readonly decision: DecisionKind;
  readonly reason: DecisionReason;
  readonly oldFingerprint: string | null;
  readonly newFingerprint: string;
  /** Sorted, distinct secret ids of the binding (ids, never values). */
  readonly secretIds: readonly string[];
  /** When its PRIMARY deployment was created (ms since the epoch), null if unknown: orders the due queue. */
  readonly deployedAt: number | null;
}

/**
 * What applying a decision did. `recorded`: the fingerprint tag was written (first sight). `redeployed`: ECS accepted
 * UpdateService. `deferred`: due, but the cap was reached (or the pass deadline passed first): nothing was sent, it
 * stays due. `failed`: AWS refused or did not answer; `failure` says where.
 */
export type OutcomeKind = 'recorded' | 'redeployed' | 'deferred' | 'failed';

export interface Outcome {
  readonly decision: Decision;
  readonly outcome: OutcomeKind;
  /** For `deferred`: `cap` or `deadline`. */
  readonly reason?: 'cap' | 'deadline';
  /** For `failed`, and for a redeploy whose fingerprint tag could not be written afterwards. */
  readonly failure?: Failure;
}

/**
 * Where a failure happened: listing a cluster, reading a service, its binding tags or a secret, or applying a
 * decision.
 */
export type FailureStage = 'discover' | 'service' | 'binding' | 'secret' | 'redeploy' | 'tag';

/** One failed binding (or cluster): logged as one event; the pass carries on and exits 3 at the end. */
export interface Failure {
  readonly cluster: string;
  readonly service: string | null;
  readonly secretId: string | null;
  readonly stage: FailureStage;
  readonly error: string;
}
