import { randomBytes } from 'node:crypto';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { CreateSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

// Seeding a moto fleet for the watcher's tests: clusters, tagged services and secrets with values the leak scan knows.

import { SECRETS_TAG } from '../../shared/contract.ts';

/** The binding tag (space-separated ids) and the watcher's fingerprint tag, from the product's one list of names. */
export { FINGERPRINT_TAG } from '../../shared/contract.ts';
export const BINDING_TAG = SECRETS_TAG;

/** Every value `value()` made in this test process: no output may contain any of them. */
export const seeded = new Set<string>();

/** A fresh random secret value, recorded in `seeded` for the leak scan. */
export function value(): string {
  const v = `seeded-${randomBytes(12).toString('hex')}`;
  seeded.add(v);
  return v;
}

/** Runs `fn` over `items` with at most `n` calls in flight. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

/** Creates cluster `name` and registers the task definition family "app" its services run. */
export async function cluster(ecs: ECSClient, name: string): Promise<void> {
  await ecs.send(new CreateClusterCommand({ clusterName: name }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'app',
      containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/docker/library/busybox:latest', memory: 64 }],
    }),
  );
}

/** Creates the secrets, each with a `value()` or what `secretString` makes of its name (build it from `value()`s). */
export async function secrets(
  sm: SecretsManagerClient,
  names: readonly string[],
  secretString: (name: string) => string = () => value(),
): Promise<void> {
  await pool(names, 8, (Name) => sm.send(new CreateSecretCommand({ Name, SecretString: secretString(Name) })));
}

/** Creates services (name -> binding tag, none if undefined); `parallel: 1` makes deployments oldest first in order. */
export async function services(
  ecs: ECSClient,
  clusterName: string,
  bindings: Record<string, string | undefined>,
  parallel = 8,
): Promise<void> {
  await pool(Object.entries(bindings), parallel, ([serviceName, secretIds]) =>
    ecs.send(
      new CreateServiceCommand({
        cluster: clusterName,
        serviceName,
        taskDefinition: 'app',
        desiredCount: 0,
        ...(secretIds !== undefined && { tags: [{ key: BINDING_TAG, value: secretIds }] }),
      }),
    ),
  );
}

/** A cluster, every secret the bindings name, and the services (as `services()`). */
export async function fleet(
  ecs: ECSClient,
  sm: SecretsManagerClient,
  clusterName: string,
  bindings: Record<string, string | undefined>,
  parallel = 8,
): Promise<void> {
  await cluster(ecs, clusterName);
  const ids = Object.values(bindings).flatMap((s) => s?.split(' ').filter((id) => id !== '') ?? []);
  await secrets(sm, [...new Set(ids)]);
  await services(ecs, clusterName, bindings, parallel);
}

/** Puts a new `value()` into each named secret, one after the other. */
export async function rotate(sm: SecretsManagerClient, ...names: string[]): Promise<void> {
  for (const SecretId of names) await sm.send(new PutSecretValueCommand({ SecretId, SecretString: value() }));
}
