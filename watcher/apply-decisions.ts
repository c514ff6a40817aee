import { type ApplyPorts, applyDecision } from './apply-decision.ts';
import type { CallContext } from './call-context.ts';
import { byCodeUnit } from './fingerprint.ts';
import type { Decision, Failure } from './model.ts';

/** What the applier reports as it goes, so that the log follows the order of events. */
export interface ApplyEvents {
  /** A `skip`/`cap` decision became `redeploy`: a failed redeploy freed its slot. */
  promoted(d: Decision): void;
  failed(f: Failure): void;
}

export interface AppliedPass {
  /** The plan's decisions, with the promoted ones now `redeploy`; same order. */
  readonly decisions: readonly Decision[];
  readonly failures: readonly Failure[];
}

/**
 * Applies a pass's plan (decide's output): every record, and the due services in `due` order under the cap.
 * Only a redeploy that ECS accepted uses up the cap: the cap is `maxRedeploys` lanes, each walking `due` until one
 * of its redeploys succeeds, so when an UpdateService fails the next due service takes its slot in the same pass
 * and a service that always fails cannot hold the others back. At most the cap's number of UpdateService calls
 * are in flight or have succeeded at any time. A capped service is not promoted once the pass deadline has passed.
 */
export async function applyDecisions(
  ports: ApplyPorts,
  plan: { readonly decisions: readonly Decision[]; readonly due: readonly Decision[] },
  ctx: CallContext,
  events: ApplyEvents,
): Promise<AppliedPass> {
  const failures: Failure[] = [];
  const promoted = new Map<string, Decision>();
  const apply = async (d: Decision) => {
    const applied = await applyDecision(ports, d, ctx);
    if (applied.failure) {
      failures.push(applied.failure);
      events.failed(applied.failure);
    }
    return applied;
  };

  let next = 0;
  // Every lane takes its first service synchronously, so all planned redeploys are started (or refused at the
  // deadline) whatever happens; what a lane takes after a failure is a capped service.
  const lane = async (): Promise<void> => {
    while (next < plan.due.length) {
      let d = plan.due[next++]!;
      if (d.decision !== 'redeploy') {
        if (ctx.signal.aborted) return;
        d = { ...d, decision: 'redeploy', reason: 'fingerprint-changed' };
        promoted.set(d.serviceArn, d);
        events.promoted(d);
      }
      const applied = await apply(d);
      if (applied.redeployed || !applied.started) return;
    }
  };
  const lanes = plan.due.filter((d) => d.decision === 'redeploy').length;
  await Promise.all([
    ...plan.decisions.filter((d) => d.decision === 'record').map(apply),
    ...Array.from({ length: lanes }, lane),
  ]);
  // Applies finish in any order; the result should not.
  const key = (f: Failure) => `${f.cluster}\u0000${f.service ?? ''}`;
  failures.sort((a, b) => byCodeUnit(key(a), key(b)));
  return { decisions: plan.decisions.map((d) => promoted.get(d.serviceArn) ?? d), failures };
}
