import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { seedValues } from '../test/helpers/cli.ts';
import { fleet, secrets, seeded, value } from '../test/helpers/ecs-fleet.ts';

// What the bench seeds into moto, through the test helpers: secrets for `render` and a fleet for the watcher.

/** The watcher's fleet: 1000 secrets bound to 200 services in one cluster, 5 each, every secret bound once. */
export const WATCH_FLEET = Object.freeze({ cluster: 'bench', secrets: 1000, services: 200 });

/** Service name -> the ids of the secrets it uses. */
export function watchBindings(): Map<string, string[]> {
  const per = WATCH_FLEET.secrets / WATCH_FLEET.services;
  const id = (i: number) => `fleet/s${String(i).padStart(4, '0')}`;
  return new Map(
    Array.from({ length: WATCH_FLEET.services }, (_, s) => [
      `svc${String(s).padStart(3, '0')}`,
      Array.from({ length: per }, (_, j) => id(s * per + j)),
    ]),
  );
}

/** Three secrets of three services, rotated between the watcher's second and third pass. */
export const ROTATED = Object.freeze(['fleet/s0003', 'fleet/s0507', 'fleet/s0999']);

/**
 * Seeds `renders` secrets for `render` (bench/r000.., two keys each, one value with quotes) and the watcher's fleet,
 * and registers every value for the leak scan. Returns the render secrets' ids.
 */
export async function seedBench(sm: SecretsManagerClient, ecs: ECSClient, renders: number): Promise<string[]> {
  const ids = Array.from({ length: renders }, (_, i) => `bench/r${String(i).padStart(3, '0')}`);
  const doc = (id: string) => {
    const key = id.slice(id.indexOf('/') + 1).toUpperCase();
    return JSON.stringify({ [`${key}_TOKEN`]: value(), [`${key}_URL`]: `https://${value()}.example/db?x='1'` });
  };
  const bindings = Object.fromEntries([...watchBindings()].map(([service, ids]) => [service, ids.join(' ')]));
  await Promise.all([secrets(sm, ids, doc), fleet(ecs, sm, WATCH_FLEET.cluster, bindings, 4)]);
  seedValues(seeded);
  return ids;
}
