import type { Observation } from './model.ts';

/**
 * What the pass's reads have in common: one observation per distinct id, all asked at once (the call context bounds
 * the calls in flight), keyed by id in the order the ids came. `read` gives a failure as data; it never throws.
 */
export async function observeEach<T>(
  ids: Iterable<string>,
  read: (id: string) => Promise<Observation<T>>,
): Promise<Map<string, Observation<T>>> {
  const distinct = [...new Set(ids)];
  const observed = await Promise.all(distinct.map(read));
  return new Map(distinct.map((id, i) => [id, observed[i]!]));
}
