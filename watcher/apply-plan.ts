import { FINGERPRINT_TAG } from '../shared/contract.ts';
import type { CallContext } from './call-context.ts';
import type { Decision, Failure, Observation, Outcome, ServiceState } from './model.ts';
import { type ApplyPorts, forceNewDeployment, restoreState, writeState } from './service-update.ts';
import { decodeState, type ServiceStateTag } from './state-tag.ts';

export interface ApplyOptions {
  /** At most this many redeploys started within the cap window, by every run together. */
  readonly maxRedeploys: number;
  /** Redeploys already started within the window (decide's recentRedeploys, read from the state tags). */
  readonly spent: number;
  readonly key: Buffer | undefined;
  readonly run: string;
  /** ms since the epoch. */
  readonly now: () => number;
  /** How long claims settle before they are read back: longer than it takes a rival run to write its claim. */
  readonly settleMs: number;
  /** The window the cap counts over: a claim's `n` counts the service's redeploys within it. */
  readonly capWindowMs: number;
  /** When the pass began reading the services (ms since the epoch): a rival's claim landed after that. */
  readonly readFrom: number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Reads services again (their state tags and deployments), by ARN: the claims' check. */
  readonly reread: (decisions: readonly Decision[]) => Promise<ReadonlyMap<string, Observation<ServiceState>>>;
}

/** How late a rival's claim may land after it was stamped (a throttled write retried, a slow answer): seconds. */
const CLAIM_LATENCY_S = 5;
/** How many times a claim replaced by another run's record is written again before the service is left to it. */
const MAX_RECLAIMS = 3;

/**
 * Applies a pass's decisions and reports one outcome per applied decision (`record`, `redeploy`), in decision
 * order. `record`s write their state. The due queue (oldest deployment first) is served under the cap, in rounds:
 *
 * (1) The budget is the cap less what every run started within the window (the state tags say when).
 * (2) Each of the next `budget` due services is claimed: its state tag becomes `pending` (this run, the versions it
 *     goes to, the PRIMARY deployment it saw). Written before UpdateService, the claim is what tells a later pass that
 *     a redeploy may have started when its answer, its tag or the watcher itself was lost.
 * (3) The claims settle, then are read back: a service whose tag now carries another run's claim or redeploy stamped
 *     after this pass read it (less CLAIM_LATENCY_S), or whose PRIMARY deployment changed, is left to that run or
 *     deployment (`deferred`, `rival`). Rival runs (the rotation rule firing once per secret, EventBridge delivering
 *     twice, the schedule) so redeploy a service once, not once each. A claim replaced by another run's fresh record
 *     is written again and read back (up to MAX_RECLAIMS times). Any other tag there (removed, an old state put
 *     back, unsigned, forged) is no rival's: the redeploy goes ahead, and a tag no watcher wrote is a failure.
 * (4) UpdateService(forceNewDeployment) for the rest. Accepted: the state becomes `deploying` with the new deployment,
 *     and it counts against the budget. Refused (a 4xx: nothing started): the claim is taken back and the slot goes
 *     to the next due service in another round. Answer lost (a timeout, a reset, a 5xx): it may have started, so it
 *     counts against the budget and the claim stays (`unknown`).
 * (5) What no round reached is `deferred` (`cap`), or (`deadline`) once the pass deadline has passed: it stays due.
 *     A due service whose decision also recorded how the watcher's previous redeploy ended gets that state written,
 *     so the outcome is reported once.
 */
export async function applyPlan(
  ports: ApplyPorts,
  plan: { readonly decisions: readonly Decision[]; readonly due: readonly Decision[] },
  ctx: CallContext,
  options: ApplyOptions,
): Promise<Outcome[]> {
  const outcomes = new Map<Decision, Outcome>();
  const set = (o: Outcome) => outcomes.set(o.decision, o);
  const failure = (d: Decision, stage: Failure['stage'], error: string): Failure => ({
    cluster: d.cluster,
    service: d.service,
    secretId: null,
    stage,
    error,
  });

  // Records, and a wait that reported the end of the watcher's redeploy (its state says so, so it is reported once).
  const records = plan.decisions.filter((d) => (d.decision === 'record' || d.decision === 'wait') && d.write);
  const recording = Promise.all(
    records.map((d) =>
      ctx.withSlot(async () => {
        if (ctx.signal.aborted) {
          set({
            decision: d,
            outcome: 'deferred',
            reason: 'deadline',
            failure: failure(d, 'tag', 'deadline exceeded before it started'),
          });
          return;
        }
        const written = await writeState(ports, ctx, d, d.write!, options.key);
        set(
          written.ok
            ? { decision: d, outcome: 'recorded' }
            : { decision: d, outcome: 'failed', failure: failure(d, 'tag', written.error) },
        );
      }),
    ),
  );

  /** The deadline came before UpdateService: the claim is taken back and the service stays due. */
  const takeBack = async (d: Decision) => {
    await restoreState(ports, ctx, d, options.key);
    set({
      decision: d,
      outcome: 'deferred',
      reason: 'deadline',
      failure: failure(d, 'redeploy', 'deadline exceeded before it started'),
    });
  };

  let budget = Math.max(0, options.maxRedeploys - options.spent); // (1)
  const queue = [...plan.due];
  // A due service beyond what the cap lets this pass start whose decision recorded the end of the watcher's previous
  // redeploy: that state is written now, with the reads it was decided from (not after the claims settled, when a
  // rival run may have claimed or redeployed it), so the end is reported once. A later round's claim replaces it.
  const ends = new Map(
    await Promise.all(
      queue
        .slice(budget)
        .filter((d) => d.write)
        .map((d) => ctx.withSlot(async () => [d, await writeState(ports, ctx, d, d.write!, options.key)] as const)),
    ),
  );
  while (queue.length > 0 && budget > 0 && !ctx.signal.aborted) {
    const round = queue.splice(0, budget);
    // The redeploys a claim stands for against the cap: this one, and the service's earlier ones within a window.
    const redeploys = (d: Decision, at: number) => {
      const last = d.previous?.redeployedAt ?? null;
      return last !== null && last >= at - options.capWindowMs / 1000 ? (d.previous?.redeploys ?? 1) + 1 : 1;
    };
    const claims = new Map<Decision, ServiceStateTag>();
    await Promise.all(
      round.map((d) =>
        ctx.withSlot(async () => {
          const at = Math.floor(options.now() / 1000); // as it is sent: a rival tells a claim's age by it
          const claim: ServiceStateTag = {
            state: 'pending',
            fingerprint: d.newFingerprint,
            binding: d.binding,
            deployment: d.deployment,
            writtenAt: at,
            redeployedAt: at,
            ...(redeploys(d, at) > 1 && { redeploys: redeploys(d, at) }),
            run: options.run,
            flips: d.flips,
          };
          const written = await writeState(ports, ctx, d, claim, options.key); // (2)
          if (written.ok) claims.set(d, claim);
          else set({ decision: d, outcome: 'failed', failure: failure(d, 'tag', `claiming it: ${written.error}`) });
        }),
      ),
    );
    if (claims.size === 0) continue;
    await options.sleep(options.settleMs, ctx.signal); // (3)
    if (ctx.signal.aborted) {
      // The deadline came while the claims settled: nothing was sent, so they are taken back (each write has its
      // own timeout) and the services stay due.
      await Promise.all([...claims.keys()].map(takeBack));
      break;
    }
    const seen = new Map(await options.reread([...claims.keys()]));
    // A record of another run written over claims after this pass read the services (a run whose cap was spent
    // recording the end of the watcher's previous redeploy): whose claim it replaced is not known, so those claims
    // are written again and read back after another settle (the last writer goes on), up to MAX_RECLAIMS times;
    // replaced every time, a claim is left to expire and the service to another run (`rival`). Outside any slot:
    // the reads take their own.
    const replacedByRecord = (d: Decision) => {
      const now = seen.get(d.serviceArn);
      if (!now?.ok) return false;
      const over = decodeState(now.value.tags[FINGERPRINT_TAG], d.serviceArn, options.key);
      const record = over.trust === 'signed' || over.trust === 'unsigned' ? over.tag : undefined;
      return (
        record !== undefined &&
        record.run !== options.run &&
        (record.state === 'ok' || record.state === 'failed') &&
        record.writtenAt >= Math.floor(options.readFrom / 1000) - CLAIM_LATENCY_S
      );
    };
    for (let reclaims = 0; reclaims < MAX_RECLAIMS && !ctx.signal.aborted; reclaims++) {
      const replaced = [...claims.keys()].filter(replacedByRecord);
      if (replaced.length === 0) break;
      await Promise.all(
        replaced.map((d) =>
          ctx.withSlot(async () => {
            const at = Math.floor(options.now() / 1000);
            const claim = { ...claims.get(d)!, writtenAt: at, redeployedAt: at };
            const rewritten = await writeState(ports, ctx, d, claim, options.key);
            if (rewritten.ok) {
              claims.set(d, claim);
              seen.delete(d.serviceArn); // not read back since: at the deadline it is taken back, as any claim
            } else {
              claims.delete(d);
              set({
                decision: d,
                outcome: 'failed',
                failure: failure(d, 'tag', `claiming it again: ${rewritten.error}`),
              });
            }
          }),
        ),
      );
      await options.sleep(options.settleMs, ctx.signal);
      if (ctx.signal.aborted) break; // the claims are taken back below
      for (const [arn, o] of await options.reread(replaced.filter((d) => claims.has(d)))) seen.set(arn, o);
    }
    await Promise.all(
      [...claims].map(([d, claim]) =>
        ctx.withSlot(async () => {
          const now = seen.get(d.serviceArn);
          // Past the deadline nothing new is sent, and a claim is taken back (each write has its own timeout) only
          // where this run's read-back did not show another run's state, which is left as it is.
          const deadline = {
            decision: d,
            outcome: 'deferred',
            reason: 'deadline',
            failure: failure(d, 'redeploy', 'deadline exceeded before it started'),
          } as const;
          if (replacedByRecord(d)) {
            if (ctx.signal.aborted) set(deadline);
            else {
              budget--;
              set({ decision: d, outcome: 'deferred', reason: 'rival' });
            }
            return;
          }
          if (ctx.signal.aborted && !now?.ok) {
            await takeBack(d); // not read back (the deadline came first): the tag holds this run's claim
            return;
          }
          if (!now?.ok) {
            // Not known whether a rival took it: the claim stays (it holds a slot) and expires; due again then.
            budget--;
            set({
              decision: d,
              outcome: 'deferred',
              reason: 'rival',
              failure: failure(d, 'service', `reading it back: ${now?.error ?? 'not described'}`),
            });
            return;
          }
          const read = decodeState(now.value.tags[FINGERPRINT_TAG], d.serviceArn, options.key);
          const trusted = read.trust === 'signed' || read.trust === 'unsigned' ? read.tag : undefined;
          const mine = trusted?.run === options.run && trusted.state === 'pending';
          // A rival run's claim or redeploy landed after this pass read the service (else the pass would have seen
          // it and waited), so it was sent no earlier than that, less a write's latency; an older one of another
          // run is a state put back (a replay, such as the previous pass's claim). A newer watcher's state (a
          // format this one cannot read) is left alone, and loud: a tagger can write one too.
          const rival =
            read.trust === 'unknown' ||
            (trusted !== undefined &&
              trusted.run !== options.run &&
              (trusted.state === 'pending' || trusted.state === 'deploying') &&
              trusted.writtenAt >= Math.floor(options.readFrom / 1000) - CLAIM_LATENCY_S);
          const primary = now.value.deployments.find((x) => x.status === 'PRIMARY');
          if (rival) {
            // Another run redeploys it: a slot of the cap they share, so this run starts one fewer.
            budget--;
            const newer =
              read.trust === 'unknown'
                ? failure(
                    d,
                    'state',
                    `its claim was overwritten while it settled by a state of a newer watcher (${read.version}): left to it`,
                  )
                : undefined;
            set({ decision: d, outcome: 'deferred', reason: 'rival', ...(newer && { failure: newer }) });
            return;
          }
          // Not this run's claim and no rival's: removed or an old state put back (by a tagger, or by a rival run
          // taking back a claim that had overwritten ours), or a state only a tagger writes (unsigned under a key,
          // forged). Nobody else redeploys it, so this run does; loud when the tag is one no watcher wrote.
          const tampered: Failure | undefined =
            mine || trusted || read.trust === 'absent'
              ? undefined
              : failure(
                  d,
                  'state',
                  `its claim was overwritten while it settled (${read.trust}): redeployed anyway (who may tag it? ` +
                    'see the SCP example in docs/watcher.md)',
                );
          if (primary && primary.id !== d.deployment) {
            // Deployed meanwhile (a rival run's redeploy whose claim we overwrote, an operator's deploy): follow
            // that deployment instead of starting another. It took a slot too.
            budget--;
            const followed = { ...claim, state: 'deploying' as const, deployment: primary.id };
            const written = await writeState(ports, ctx, d, followed, options.key);
            const problem = written.ok ? tampered : failure(d, 'tag', written.error);
            set({ decision: d, outcome: 'deferred', reason: 'rival', ...(problem && { failure: problem }) });
            return;
          }
          if (ctx.signal.aborted) {
            await takeBack(d);
            return;
          }
          const updated = await forceNewDeployment(ports, ctx, d); // (4)
          if (updated.ok) {
            budget--;
            const state: ServiceStateTag = {
              ...claim,
              state: 'deploying',
              deployment: updated.deployment ?? null,
              writtenAt: Math.floor(options.now() / 1000),
            };
            const written = await writeState(ports, ctx, d, state, options.key);
            const problem = written.ok ? tampered : failure(d, 'tag', written.error);
            set({ decision: d, outcome: 'redeployed', ...(problem && { failure: problem }) });
          } else if (updated.definite) {
            await restoreState(ports, ctx, d, options.key);
            set({ decision: d, outcome: 'failed', failure: failure(d, 'redeploy', updated.error) });
          } else {
            budget--;
            const error = `${updated.error}: the answer was lost, so it may have started (its claim says so)`;
            set({ decision: d, outcome: 'unknown', failure: failure(d, 'redeploy', error) });
          }
        }),
      ),
    );
  }
  // (5) What no round reached. Its end, if not written before the claims (the deadline came first), is written now
  // (each write has its own timeout); refused, it is a failure, as a record's is.
  for (const d of queue.filter((x) => x.write && !ends.has(x))) {
    ends.set(d, await writeState(ports, ctx, d, d.write!, options.key));
  }
  for (const d of queue) {
    const write = ends.get(d);
    const tagFailure =
      write && !write.ok ? failure(d, 'tag', `recording its deployment's end: ${write.error}`) : undefined;
    set(
      ctx.signal.aborted
        ? {
            decision: d,
            outcome: 'deferred',
            reason: 'deadline',
            failure: tagFailure ?? failure(d, 'redeploy', 'deadline exceeded before it started'),
          }
        : { decision: d, outcome: 'deferred', reason: 'cap', ...(tagFailure && { failure: tagFailure }) },
    );
  }
  await recording;
  return plan.decisions.flatMap((d) => outcomes.get(d) ?? []);
}
