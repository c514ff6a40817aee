import type { ClusterBinding } from '../shared/config.ts';
import { clusterName, serviceKey } from './ecs-identity.ts';
import type { Binding, ServiceState } from './model.ts';
import { readBindingTags } from './tags.ts';

/**
 * Bindings from `spec.watch.clusters`, one per (cluster, service): a cluster or a service written twice, by name or
 * by ARN, is one binding with the union of the secrets, spelled as it was first written. Two bindings of one
 * service would each hold a fingerprint of part of its secrets and overwrite each other's tag on every pass.
 */
export function bindingsFromConfig(clusters: readonly ClusterBinding[]): Binding[] {
  const spelling = new Map<string, string>();
  const merged = new Map<string, { cluster: string; service: string; secretIds: Set<string> }>();
  for (const c of clusters) {
    const cluster = spelling.get(clusterName(c.name)) ?? c.name;
    spelling.set(clusterName(c.name), cluster);
    for (const s of c.services) {
      const key = serviceKey(c.name, s.name);
      const entry = merged.get(key) ?? { cluster, service: s.name, secretIds: new Set<string>() };
      for (const id of s.secrets) entry.secretIds.add(id);
      merged.set(key, entry);
    }
  }
  return [...merged.values()].map((b) => ({ cluster: b.cluster, service: b.service, secretIds: [...b.secretIds] }));
}

/** A discovered service's binding, or the problems that keep its tags from being one. */
export type TagBinding =
  | { readonly ok: true; readonly binding: Binding }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The binding a discovered service declares with its `secrets-init/secrets` tags (space-separated ids, continued
 * in `secrets-init/secrets-2`, ...), like Reloader's annotations; undefined for services without the tags (not
 * ours) and for services on their way out (DRAINING, INACTIVE). Tags ECS would refuse (a comma, more than 256
 * characters) or ids that are not ids make the binding unusable: guessing would watch the wrong secrets.
 */
export function bindingFromTags(service: ServiceState): TagBinding | undefined {
  if (service.status !== 'ACTIVE') return undefined;
  const read = readBindingTags(service.tags);
  if (!read.present) return undefined;
  if (read.problems.length > 0) return { ok: false, problems: read.problems };
  return { ok: true, binding: { cluster: service.cluster, service: service.name, secretIds: read.secretIds } };
}
