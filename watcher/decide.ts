import { FINGERPRINT_TAG } from '../shared/contract.ts';
import { byCodeUnit, fingerprint } from './fingerprint.ts';
import type { Binding, Decision, Failure, Observation, SecretVersion, ServiceState } from './model.ts';

/** A binding and what DescribeServices said about its service. */
export interface Target {
  readonly binding: Binding;
  readonly service: Observation<ServiceState>;
}

export interface DecideInput {
  readonly targets: readonly Target[];
  /** Every secret id named by a target, as read this pass. */
  readonly secrets: ReadonlyMap<string, Observation<SecretVersion>>;
}

export interface DecideOutput {
  /** One per service that could be fully read, sorted by cluster then service. */
  readonly decisions: readonly Decision[];
  /**
   * The `redeploy` decisions in the order a cap should serve them: the services that have run longest as they are
   * first. What is due knows nothing of the cap; the applier does.
   */
  readonly due: readonly Decision[];
  /** One per unreadable service, or per (service, secret) pair that could not be read. */
  readonly failures: readonly Failure[];
}

/**
 * The pure core: bindings + current secret versions + service tags -> decisions. No client call, no clock.
 * A service with any unreadable input gets failures and no decision: a fingerprint over part of its secrets
 * would be wrong both ways (a needless redeploy now, a missed one later).
 */
export function decide(input: DecideInput): DecideOutput {
  const failures: Failure[] = [];
  const decisions: Decision[] = [];
  for (const { binding, service } of mergeByService(input.targets)) {
    const { cluster } = binding;
    if (!service.ok) {
      failures.push({ cluster, service: binding.service, secretId: null, stage: 'service', error: service.error });
      continue;
    }
    const svc = service.value;
    if (svc.status !== 'ACTIVE') {
      const error = `service is ${svc.status || 'not active'}`;
      failures.push({ cluster, service: svc.name, secretId: null, stage: 'service', error });
      continue;
    }
    const secretIds = [...new Set(binding.secretIds)].sort(byCodeUnit);
    const versions: SecretVersion[] = [];
    for (const secretId of secretIds) {
      const s = input.secrets.get(secretId) ?? { ok: false, error: 'not read' };
      if (s.ok) versions.push(s.value);
      else failures.push({ cluster, service: svc.name, secretId, stage: 'secret', error: s.error });
    }
    if (versions.length !== secretIds.length || secretIds.length === 0) {
      if (secretIds.length === 0) {
        failures.push({ cluster, service: svc.name, secretId: null, stage: 'service', error: 'binds no secret' });
      }
      continue;
    }
    const newFingerprint = fingerprint(versions);
    const oldFingerprint = svc.tags[FINGERPRINT_TAG] ?? null;
    const base = {
      cluster,
      service: svc.name,
      serviceArn: svc.arn,
      oldFingerprint,
      newFingerprint,
      secretIds,
      deployedAt: svc.deployedAt,
    };
    if (oldFingerprint === null) decisions.push({ ...base, decision: 'record', reason: 'no-fingerprint' });
    else if (oldFingerprint === newFingerprint) decisions.push({ ...base, decision: 'skip', reason: 'unchanged' });
    else decisions.push({ ...base, decision: 'redeploy', reason: 'fingerprint-changed' });
  }
  // A cap serves the services that have run longest as they are first: oldest PRIMARY deployment first, so a storm
  // drains a few at a time instead of rolling the whole fleet at once, and a service redeployed now goes to the back
  // of the queue (one deferred is never stuck behind the same others pass after pass). Unknown ages come first, so
  // they cannot starve; ties go by cluster and service, so the order is deterministic.
  const due = decisions
    .filter((d) => d.decision === 'redeploy')
    .sort((a, b) => byAge(a.deployedAt, b.deployedAt) || byService(a, b));
  return { decisions: decisions.sort(byService), due, failures };
}

function byAge(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

/**
 * Sorted targets, one per described service: bindings that resolved to the same service ARN (a name and an ARN,
 * a cluster by name and by ARN) become one, with the union of their secrets and the first binding's spelling.
 * One service, one fingerprint, one decision: two would overwrite each other's tag and redeploy on every pass.
 */
function mergeByService(targets: readonly Target[]): Target[] {
  const merged = new Map<string, Target>();
  [...targets]
    .sort((a, b) => byService(a.binding, b.binding))
    .forEach((t, i) => {
      const key = t.service.ok ? t.service.value.arn : `unresolved\u0000${i}`;
      const seen = merged.get(key);
      const secretIds = [...(seen?.binding.secretIds ?? []), ...t.binding.secretIds];
      merged.set(key, seen ? { ...seen, binding: { ...seen.binding, secretIds } } : t);
    });
  return [...merged.values()];
}

function byService(a: { cluster: string; service: string }, b: { cluster: string; service: string }): number {
  return byCodeUnit(a.cluster, b.cluster) || byCodeUnit(a.service, b.service);
}
