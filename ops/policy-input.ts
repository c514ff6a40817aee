import { isParameterId } from '../shared/binding-id.ts';
import { type ConfigFile, isSsmSource } from '../shared/config.ts';
import { UsageError } from '../shared/errors.ts';
import type { PolicyInput } from './policy.ts';
import {
  type AwsLocation,
  checkLocation,
  parameterResource,
  type SecretResource,
  secretResource,
} from './policy-arn.ts';
import { deployNames, type NameOverrides } from './policy-names.ts';

/** What the operator adds to a config on the command line. */
export interface PolicyOptions extends NameOverrides {
  readonly location: AwsLocation;
  /** Name prefix of roles, families, log group, schedule and rule; default the config's metadata.name. */
  readonly prefix?: string;
  /** More secrets the app task reads (what SECRET_NAME names when the config has no spec.sources). */
  readonly secrets?: readonly string[];
  /** More clusters for the watcher (what WATCH_CLUSTER names when the config has no spec.watch). */
  readonly clusters?: readonly string[];
  /** The watcher's state key secret (what WATCH_STATE_KEY names when the config has no spec.watch.stateKey). */
  readonly stateKey?: string;
}

const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
const CLUSTER = /^[A-Za-z0-9_-]{1,255}$/;
const LOG_GROUP = /^[A-Za-z0-9_\-/.#]{1,512}$/;
const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/**
 * Turns a validated config plus flags into the policy input. The app task reads `spec.sources` (and --secret):
 * secrets, parameters and paths; the watcher reads the metadata of every secret bound in `spec.watch` and of the
 * sources, and of parameters when any is bound or read, in the clusters of `spec.watch.clusters` (and --cluster).
 */
export function policyInput(config: ConfigFile, options: PolicyOptions): PolicyInput {
  const location = checkLocation(options.location);
  const prefix = options.prefix ?? config.name;
  if (!PREFIX.test(prefix)) {
    throw new UsageError(
      `name prefix "${prefix}" must be 1-40 letters, digits, "-" or "_" (it names roles, task families and rules)`,
    );
  }
  for (const r of options.repositories ?? []) {
    if (!REPOSITORY.test(r)) throw new UsageError(`repository "${r}" is not an ECR repository name`);
  }
  if (options.logGroup !== undefined && !LOG_GROUP.test(options.logGroup)) {
    throw new UsageError(`log group "${options.logGroup}" is not a CloudWatch Logs group name`);
  }
  const ids = unique([
    ...config.sources.flatMap((s) => (s.type === 'secretsmanager' ? [s.secretId] : [])),
    ...(options.secrets ?? []),
  ]);
  const parameters = config.sources.filter(isSsmSource).map((s) => parameterResource(s, location));
  if (ids.length === 0 && parameters.length === 0) {
    throw new UsageError('no secrets to grant: the config has no spec.sources; name them with --secret');
  }
  const bound = (config.watch?.clusters ?? []).flatMap((c) => c.services.flatMap((s) => s.secrets));
  const boundSecrets = bound.filter((id) => !isParameterId(id));
  const clusters = unique([...(config.watch?.clusters ?? []).map((c) => c.name), ...(options.clusters ?? [])]);
  for (const c of clusters) if (!CLUSTER.test(c)) throw new UsageError(`cluster "${c}" is not an ECS cluster name`);
  const resource = (id: string): SecretResource => secretResource(id, location);
  const stateKey = config.watch?.stateKey ?? options.stateKey;
  return {
    location,
    names: deployNames(prefix, {
      ...(options.repositories && { repositories: options.repositories }),
      ...(options.logGroup && { logGroup: options.logGroup }),
    }),
    secrets: ids.map(resource),
    watchedSecrets: unique([...boundSecrets, ...ids]).map(resource),
    parameters,
    // As for secrets, the watcher may meet the sources' parameters in a tag binding as well as the bound ones.
    watchesParameters: parameters.length > 0 || bound.some(isParameterId),
    clusters,
    ...(stateKey !== undefined && { stateKey: resource(stateKey) }),
  };
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}
