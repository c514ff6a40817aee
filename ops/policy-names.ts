import { PRODUCT } from '../shared/contract.ts';

/**
 * The names the committed manifests and the generated policies share, all derived from one prefix (the config's
 * `metadata.name`), so a policy never grants on a role, family or log group the manifests do not use.
 */
export interface DeployNames {
  readonly prefix: string;
  /** Task role of the app task: reads the secrets (secrets-read-policy.json). */
  readonly taskRole: string;
  /** Execution role of the app and watcher tasks: pulls images, writes logs (execution-role-policy.json). */
  readonly executionRole: string;
  /** Task role of the watcher task (watcher-policy.json). */
  readonly watcherRole: string;
  /** Role the schedule and the rotation rule assume to run the watcher (scheduler-policy.json). */
  readonly triggerRole: string;
  readonly watcherFamily: string;
  readonly logGroup: string;
  /** ECR repositories the execution role may pull from. */
  readonly repositories: readonly string[];
  readonly scheduleGroup: string;
  readonly scheduleName: string;
  readonly ruleName: string;
}

/** The repository of the secrets-init image (init container and watcher). */
export const INIT_REPOSITORY = PRODUCT;

/** The names an operator may set instead of deriving them from the prefix. */
export interface NameOverrides {
  /** ECR repositories the execution role may pull from; default secrets-init and the prefix. */
  readonly repositories?: readonly string[];
  /** The tasks' log group; default /ecs/PREFIX. */
  readonly logGroup?: string;
}

export function deployNames(prefix: string, overrides: NameOverrides = {}) {
  const names: DeployNames = {
    prefix,
    taskRole: `${prefix}-task`,
    executionRole: `${prefix}-execution`,
    watcherRole: `${prefix}-watcher`,
    triggerRole: `${prefix}-watcher-trigger`,
    watcherFamily: `${prefix}-watcher`,
    logGroup: overrides.logGroup ?? `/ecs/${prefix}`,
    repositories: overrides.repositories?.length ? [...overrides.repositories] : [INIT_REPOSITORY, prefix],
    scheduleGroup: prefix,
    scheduleName: `${prefix}-watcher`,
    ruleName: `${prefix}-secret-rotation`,
  };
  return Object.freeze(names);
}
