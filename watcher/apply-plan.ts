import type { CallContext } from './call-context.ts';
import type { Decision, Failure, Outcome } from './model.ts';
import { type ApplyPorts, updateService } from './service-update.ts';

/**
 * Applies a pass's decisions and reports one outcome per `record` and per `redeploy` decision, in decision order.
 * The cap is the applier's: at most `maxRedeploys` redeploys that ECS accepted. The due queue (oldest deployment
 * first) is walked by `maxRedeploys` lanes, each until one of its redeploys succeeds, so a failed UpdateService
 * gives its slot to the next due service in the same pass and a service that always fails cannot hold the others
 * back. At most the cap's number of UpdateService calls are in flight or have succeeded at any time. What no lane
 * reached is `deferred` (`cap`); what the pass deadline stopped is `deferred` (`deadline`).
 */
export async function applyPlan(
  ports: ApplyPorts,
  plan: { readonly decisions: readonly Decision[]; readonly due: readonly Decision[] },
  ctx: CallContext,
  options: { readonly maxRedeploys: number },
): Promise<Outcome[]> {
  const outcomes = new Map<Decision, Outcome>();
  const apply = async (d: Decision): Promise<boolean> => {
    const applied = await updateService(ports, d, ctx);
    if (!applied.started) {
      // Not a refusal by AWS, but the pass did not do what was due: it counts as a failure (exit 3).
      const failure: Failure = {
        cluster: d.cluster,
        service: d.service,
        secretId: null,
        stage: d.decision === 'redeploy' ? 'redeploy' : 'tag',
        error: 'deadline exceeded before it started',
      };
      outcomes.set(d, { decision: d, outcome: 'deferred', reason: 'deadline', failure });
      return true; // nothing more starts after the deadline
    }
    const kind = applied.redeployed ? 'redeployed' : applied.failure ? 'failed' : 'recorded';
    outcomes.set(d, { decision: d, outcome: kind, ...(applied.failure && { failure: applied.failure }) });
    return applied.redeployed;
  };

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < plan.due.length) {
      if (await apply(plan.due[next++]!)) return;
    }
  };
  await Promise.all([
    ...plan.decisions.filter((d) => d.decision === 'record').map(apply),
    ...Array.from({ length: Math.min(options.maxRedeploys, plan.due.length) }, lane),
  ]);
  for (const d of plan.due) if (!outcomes.has(d)) outcomes.set(d, { decision: d, outcome: 'deferred', reason: 'cap' });
  return plan.decisions.flatMap((d) => outcomes.get(d) ?? []);
}
