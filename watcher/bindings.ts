import type { ClusterBinding } from '../shared/config.ts';
import type { Binding, ServiceState } from './model.ts';
import { parseSecretsTag, SECRETS_TAG } from './tags.ts';

/** Bindings from `spec.watch.clusters`; a service named twice in one cluster gets the union of its secrets. */
export function bindingsFromConfig(clusters: readonly ClusterBinding[]): Binding[] {
  const merged = new Map<string, { cluster: string; service: string; secretIds: Set<string> }>();
  for (const c of clusters) {
    for (const s of c.services) {
      const key = `${c.name}\u0000${s.name}`;
      const entry = merged.get(key) ?? { cluster: c.name, service: s.name, secretIds: new Set<string>() };
      for (const id of s.secrets) entry.secretIds.add(id);
      merged.set(key, entry);
    }
  }
  return [...merged.values()].map((b) => ({ cluster: b.cluster, service: b.service, secretIds: [...b.secretIds] }));
}

/**
 * The binding a discovered service declares with its `secrets-init/secrets` tag, like Reloader's annotations;
 * undefined for services without the tag (not ours) and for services on their way out (DRAINING, INACTIVE).
 */
export function bindingFromTags(service: ServiceState): Binding | undefined {
  const value = service.tags[SECRETS_TAG];
  if (value === undefined || service.status !== 'ACTIVE') return undefined;
  return { cluster: service.cluster, service: service.name, secretIds: parseSecretsTag(value) };
}
