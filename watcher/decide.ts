import { FINGERPRINT_TAG } from '../shared/contract.ts';
import { bindingDigest, byCodeUnit, fingerprint, fingerprintV1 } from './fingerprint.ts';
import type {
  Binding,
  Decision,
  DecisionKind,
  DecisionReason,
  Deployment,
  DeploymentEnd,
  Failure,
  Observation,
  SecretVersion,
  ServiceState,
} from './model.ts';
import { decodeState, type ReadState, type ServiceStateTag } from './state-tag.ts';

/** A binding and what DescribeServices said about its service. */
export interface Target {
  readonly binding: Binding;
  readonly service: Observation<ServiceState>;
}

export interface DecideInput {
  readonly targets: readonly Target[];
  /** Every id named by a target, as read this pass (with `changedAt` where the pass read it). */
  readonly secrets: ReadonlyMap<string, Observation<SecretVersion>>;
  /** The key state tags are signed with; undefined when the watcher runs without one (tags are taken as written). */
  readonly key: Buffer | undefined;
  /** Now, ms since the epoch (the pass's clock; only compared with times AWS and state tags give). */
  readonly now: number;
  /** This run's id, as it writes it into state tags. */
  readonly run: string;
  /** How long another run's claim holds before it counts as abandoned. */
  readonly claimTtlMs: number;
  /** The window the redeploy cap counts over. */
  readonly capWindowMs: number;
  /** Service deployments since the watcher's redeploy, by service ARN, for those needsDeploymentHistory() named. */
  readonly history?: ReadonlyMap<string, Observation<readonly DeploymentEnd[]>>;
  /**
   * Described services that carry a state tag but no usable binding (a binding problem, a binding tag removed): no
   * decision, but a redeploy their state records still counts against the cap.
   */
  readonly unbound?: readonly ServiceState[];
}

/** A deployment this watcher started, and what became of it (reported once, on the pass that sees it end). */
export interface DeploymentReport {
  readonly cluster: string;
  readonly service: string;
  readonly deployment: string | null;
  readonly fingerprint: string;
  /** `replaced`: another deployment took over before it was seen to end (its tasks read the versions then current). */
  readonly result: 'completed' | 'failed' | 'rolled-back' | 'replaced';
}

export interface DecideOutput {
  /** One per service whose inputs could be read, sorted by cluster then service. */
  readonly decisions: readonly Decision[];
  /**
   * The `redeploy` decisions in the order a cap serves them: the services that have run longest as they are first.
   * What is due knows nothing of the cap; the applier does.
   */
  readonly due: readonly Decision[];
  /** The ends of deployments this watcher started, seen this pass. */
  readonly reports: readonly DeploymentReport[];
  /** Services this watcher (any run) redeployed or claimed within the cap window: the window's spent part. */
  readonly recentRedeploys: number;
  /** One per unreadable service or secret, per unusable state tag, per binding conflict. */
  readonly failures: readonly Failure[];
}

/**
 * Whether a service's decision needs to know when each of its versions became current: when there is no state tag
 * it can trust, it decides from what its tasks can have seen (a version newer than the PRIMARY deployment). The pass
 * reads those times (an extra call per secret) only for such services.
 */
export function needsVersionTimes(target: Target, key: Buffer | undefined): boolean {
  if (!target.service.ok) return false;
  const s = target.service.value;
  const read = decodeState(s.tags[FINGERPRINT_TAG], s.arn, key);
  if (read.trust === 'signed' || read.trust === 'unsigned') {
    if (read.tag.binding !== bindingDigest(distinctIds(target.binding.secretIds))) return true;
    // A claim or a redeploy may be decided from times too (a deployment since that is not the claimed one, one gone
    // from the list): these states last a rollout, so the calls are few.
    if (!settled(read.tag)) return true;
    const primary = s.deployments.find((d) => d.status === 'PRIMARY');
    return read.tag.deployment !== (primary?.id ?? null);
  }
  return read.trust !== 'unknown' && !(read.trust === 'v1' && !key);
}

/** Rebinds closer together than this are two watchers taking turns, not an operator editing a binding. */
export const REBIND_WINDOW_MS = 6 * 3_600_000;

/**
 * Whether a service's decision needs its service deployments since the watcher's redeploy: a deployment the watcher
 * started that has left DescribeServices' list (rolled back and done, or replaced), which only the history tells
 * apart. The time to ask from, or undefined.
 */
export function needsDeploymentHistory(
  target: Target,
  key: Buffer | undefined,
  claimTtlMs: number,
): number | undefined {
  if (!target.service.ok) return undefined;
  const s = target.service.value;
  const read = decodeState(s.tags[FINGERPRINT_TAG], s.arn, key);
  if (read.trust !== 'signed' && read.trust !== 'unsigned') return undefined;
  const { tag } = read;
  if (tag.state === 'pending') {
    // A claim under a PRIMARY begun after it: its UpdateService may have started a deployment that the circuit
    // breaker rolled back (its rollback being the PRIMARY now, or the failed one gone from the list). The history
    // tells, unless the deployment it started is still listed beside the PRIMARY.
    const primary = s.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary || primary.id === tag.deployment) return undefined;
    const within = claimWindow(tag, claimTtlMs);
    if (s.deployments.some((d) => d.status !== 'PRIMARY' && d.id !== tag.deployment && within(d.createdAt)))
      return undefined;
    return redeployStart(tag);
  }
  if (tag.state !== 'deploying' || s.deployments.some((d) => d.id === tag.deployment)) return undefined;
  const primary = s.deployments.find((d) => d.status === 'PRIMARY');
  if (!primary || rolledBack(primary)) return undefined; // ECS's own words still say so
  return redeployStart(tag);
}

/** Whether a deployment created at `at` followed the claim `tag`: within its life (a second before, for rounding). */
function claimWindow(tag: ServiceStateTag, claimTtlMs: number): (at: number | null) => boolean {
  const claimedAt = tag.writtenAt * 1000;
  return (at) => at !== null && at >= claimedAt - 1000 && at <= claimedAt + claimTtlMs;
}

/** Just before the watcher's redeploy began: its claim (`w`), else the state's time. */
function redeployStart(tag: ServiceStateTag): number {
  return ((tag.redeployedAt ?? tag.writtenAt) - 1) * 1000;
}

/** A state about what a deployment's tasks run (`ok`, `failed`): it speaks for that deployment only. */
function settled(tag: ServiceStateTag): boolean {
  return tag.state === 'ok' || tag.state === 'failed';
}

/**
 * The pure core: bindings + current versions + each service's deployments and state tag -> decisions. No client
 * call, no clock of its own. A service with any unreadable input gets failures and no decision: a fingerprint over
 * part of its secrets would be wrong both ways (a needless redeploy now, a missed one later).
 */
export function decide(input: DecideInput): DecideOutput {
  const failures: Failure[] = [];
  const decisions: Decision[] = [];
  const reports: DeploymentReport[] = [];
  const windowStart = Math.floor((input.now - input.capWindowMs) / 1000);
  let recentRedeploys = 0;
  for (const svc of input.unbound ?? []) {
    recentRedeploys += spentIn(decodeState(svc.tags[FINGERPRINT_TAG], svc.arn, input.key), windowStart)?.redeploys ?? 0;
  }
  for (const { binding, service } of mergeByService(input.targets)) {
    const { cluster } = binding;
    if (!service.ok) {
      failures.push({ cluster, service: binding.service, secretId: null, stage: 'service', error: service.error });
      continue;
    }
    const svc = service.value;
    const read = decodeState(svc.tags[FINGERPRINT_TAG], svc.arn, input.key);
    // Counted first, whatever else this pass can read of it (an unreadable secret, a service no longer active).
    recentRedeploys += spentIn(read, windowStart)?.redeploys ?? 0;
    const fail = (stage: Failure['stage'], error: string, secretId: string | null = null) =>
      failures.push({ cluster, service: svc.name, secretId, stage, error });
    if (svc.status !== 'ACTIVE') {
      fail('service', `service is ${svc.status || 'not active'}`);
      continue;
    }
    const secretIds = distinctIds(binding.secretIds);
    if (secretIds.length === 0) {
      fail('service', 'binds no secret');
      continue;
    }
    const versions: SecretVersion[] = [];
    for (const secretId of secretIds) {
      const s = input.secrets.get(secretId) ?? { ok: false, error: 'not read' };
      if (s.ok) versions.push(s.value);
      else fail('secret', s.error, secretId);
    }
    if (versions.length !== secretIds.length) continue;

    const primary = svc.deployments.find((d) => d.status === 'PRIMARY');
    const ctx: ServiceContext = {
      svc,
      read,
      secretIds,
      versions,
      newFingerprint: fingerprint(versions),
      binding: bindingDigest(secretIds),
      spent: spentIn(read, windowStart),
      primary,
      inFlight: svc.deployments.length > 1 || primary?.rolloutState === 'IN_PROGRESS',
      input,
    };
    const verdict = judge(ctx, fail);
    if (!verdict) continue;
    if (verdict.report) reports.push({ cluster, service: svc.name, ...verdict.report });
    decisions.push(toDecision(ctx, verdict));
  }
  const due = decisions
    .filter((d) => d.decision === 'redeploy')
    .sort((a, b) => byAge(a.deployedAt, b.deployedAt) || byService(a, b));
  return { decisions: decisions.sort(byService), due, reports, recentRedeploys, failures };
}

interface ServiceContext {
  readonly svc: ServiceState;
  readonly read: ReadState;
  readonly secretIds: readonly string[];
  readonly versions: readonly SecretVersion[];
  readonly newFingerprint: string;
  readonly binding: string;
  /** The window's redeploys the state records (`w`, `n`), carried into every state written in its place. */
  readonly spent: Spent | null;
  readonly primary: Deployment | undefined;
  readonly inFlight: boolean;
  readonly input: DecideInput;
}

interface Verdict {
  readonly decision: DecisionKind;
  readonly reason: DecisionReason;
  /** The state to write with a `record`. */
  readonly write?: ServiceStateTag;
  readonly report?: Omit<DeploymentReport, 'cluster' | 'service'>;
  /** The number of binding overwrites in a row to write next (state-tag.ts `x`). */
  readonly flips?: number;
}

/** The decision for one fully read service, or undefined (with a failure) when there is none to make. */
function judge(c: ServiceContext, fail: (stage: Failure['stage'], error: string) => void): Verdict | undefined {
  const { read, input } = c;
  if (c.svc.controller !== 'ECS') {
    return { decision: 'exclude', reason: 'deployment-controller' };
  }
  switch (read.trust) {
    case 'unknown':
      fail('state', `its state tag was written by a newer watcher (${read.version}): left alone, never overwritten`);
      return undefined;
    case 'invalid':
      // Loud (a failure, exit 3), and no evidence: decided as if there were no tag, from deployment times.
      fail('state', `its state tag ${read.reason} (forged, copied from another service, or signed with another key)`);
      return fallback(c, 0);
    case 'absent':
    case 'untrusted':
      return fallback(c, 0);
    case 'v1':
      // The first watcher's fingerprint. Unsigned watchers take it as it is; a signed one takes nothing unsigned.
      if (input.key) return fallback(c, 0);
      if (read.fingerprint === fingerprintV1(c.versions)) return record(c, 'no-state', 0);
      return redeploy(c, 'fingerprint-changed');
    case 'signed':
    case 'unsigned':
      return fromState(c, read.tag, fail);
  }
}

/** A state this watcher can read: what its tasks run, a claim, a redeploy in flight or one that failed. */
function fromState(
  c: ServiceContext,
  tag: ServiceStateTag,
  fail: (stage: Failure['stage'], error: string) => void,
): Verdict | undefined {
  if (tag.binding !== c.binding) {
    // Rebound again soon after a rebind: two watchers binding it differently take turns (each would redeploy it for
    // the other). Refused, loudly, until one binding remains; a rebind long after the last one is taken.
    if (tag.flips >= 1 && c.input.now - tag.writtenAt * 1000 < REBIND_WINDOW_MS) {
      fail(
        'binding',
        'bound to other secrets again within 6 hours of its last rebind: another watcher binds it differently ' +
          '(each would redeploy it for the other; bind it once, in one config or one tag), or it was rebound twice ' +
          '(taken 6 hours after the last rebind)',
      );
      return undefined;
    }
    // Rebound (an id added or removed): the old fingerprint says nothing about the new set. Decided from times.
    return fallback(c, Math.min(tag.flips + 1, 9));
  }
  // A state about the tasks of another deployment than the PRIMARY one (an operator's deploy since, or an old
  // state put back: a replay) says nothing about the tasks running now: decided from what they can have seen.
  if (settled(tag) && tag.deployment !== (c.primary?.id ?? null)) return fallback(c, tag.flips);
  switch (tag.state) {
    case 'pending': {
      const claimedAt = tag.writtenAt * 1000;
      // The claim names the PRIMARY deployment it saw; another one now means a deployment started since.
      if (c.primary && c.primary.id !== tag.deployment) {
        // A deployment begun within the claim's life: the claimed UpdateService happened (its answer or its tag was
        // lost), so that deployment is followed: one listed beside the PRIMARY (failed, being rolled back), or the
        // PRIMARY unless it is the rollback of it.
        const within = claimWindow(tag, c.input.claimTtlMs);
        // The claim's own deployment is the first one begun within its life: a rollback of it comes after.
        const listed = c.svc.deployments
          .filter((d) => d.id !== tag.deployment && within(d.createdAt))
          .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0))[0];
        const history = c.input.history?.get(c.svc.arn);
        if (listed && listed.status !== 'PRIMARY') {
          return fromDeployment(c, { ...tag, state: 'deploying', deployment: listed.id }, fail);
        }
        if (history && !history.ok) {
          fail('service', `reading its service deployments: ${history.error}`);
          return undefined;
        }
        // The one listed is the PRIMARY, or none is: was the claim's deployment rolled back (and is the PRIMARY the
        // rollback, nothing since)? Then its end is news; else the PRIMARY is the claim's own deployment (followed),
        // or the claim says nothing (an old claim put back, a call lost before ECS): decided from times.
        const rolledBackNow = rolledBackByPrimary(c, within);
        if (!rolledBackNow && listed) {
          return fromDeployment(c, { ...tag, state: 'deploying', deployment: listed.id }, fail);
        }
        if (rolledBackNow) {
          // Its end, as for a redeploy rolled back and gone from the list.
          return fromDeployment(c, { ...tag, state: 'deploying', deployment: null }, fail, 'rolled-back');
        }
        return fallback(c, tag.flips);
      }
      if (tag.run !== c.input.run && c.input.now - claimedAt < c.input.claimTtlMs) {
        return { decision: 'wait', reason: 'claimed-by-another-run' };
      }
      // Claimed, and no deployment followed: it was refused or never sent. Still due (to what is current now).
      return redeploy(c, c.newFingerprint === tag.fingerprint ? 'unconfirmed-redeploy' : 'fingerprint-changed');
    }
    case 'deploying':
      return fromDeployment(c, tag, fail);
    case 'failed':
      if (c.newFingerprint === tag.fingerprint) return { decision: 'skip', reason: 'failed-before' };
      return redeploy(c, 'fingerprint-changed');
    case 'ok':
      if (c.newFingerprint === tag.fingerprint) return { decision: 'skip', reason: 'unchanged' };
      return redeploy(c, 'fingerprint-changed');
  }
}

/**
 * A redeploy this watcher started (deployment `tag.deployment`): still rolling out (wait), completed or replaced by
 * a later deployment (its tasks read the versions current then: recorded), failed or rolled back (recorded as
 * failed, reported once; a circuit-breaker rollback cannot undo a bad rotated value, since the rolled-back tasks
 * read AWSCURRENT again). If the versions moved on meanwhile, the service is due again, whatever the outcome.
 */
function fromDeployment(
  c: ServiceContext,
  tag: ServiceStateTag,
  fail: (stage: Failure['stage'], error: string) => void,
  /** Its end where the caller already knows it (a claim's deployment rolled back and gone). */
  known?: 'rolled-back',
): Verdict | undefined {
  const ours = c.svc.deployments.find((d) => d.id === tag.deployment);
  let result: DeploymentReport['result'] | undefined = known;
  if (result === undefined) {
    if (ours?.status === 'PRIMARY') {
      if (ours.rolloutState === 'FAILED') result = 'failed';
      else if (ours.rolloutState === 'COMPLETED' || (ours.rolloutState === undefined && !c.inFlight))
        result = 'completed';
    } else if (ours?.rolloutState === 'FAILED') {
      result = c.primary && c.primary.id !== ours.id ? 'rolled-back' : 'failed';
    } else if (!ours && c.primary) {
      const history = c.input.history?.get(c.svc.arn);
      if (!rolledBack(c.primary) && history && !history.ok) {
        // Rolled back or replaced: only the service deployments tell, and they could not be read. No decision, and
        // loud; a later pass that reads them reports the end.
        fail('service', `reading its service deployments: ${history.error}`);
        return undefined;
      }
      result = rolledBack(c.primary) || historyRolledBack(c, tag) ? 'rolled-back' : 'replaced';
    }
  }
  if (result === undefined) return { decision: 'wait', reason: 'deployment-in-progress' };
  const report = { deployment: tag.deployment, fingerprint: tag.fingerprint, result };
  const failed = result === 'failed' || result === 'rolled-back';
  const reason: DecisionReason = failed
    ? result === 'failed'
      ? 'redeploy-failed'
      : 'redeploy-rolled-back'
    : 'redeploy-completed';
  const settledState = failed ? ('failed' as const) : ('ok' as const);
  // The end, as a state: the versions the watcher's deployment went to. While that deployment is listed (done, or
  // failed and being rolled back), the state names the PRIMARY, so a failed redeploy is not retried for the same
  // versions. Once it has left the list (replaced, rolled back and done), it names the watcher's deployment: the
  // state so speaks for no task running now, and the next pass decides from deployment times, never from versions
  // the replacement's tasks may not hold.
  const ended: ServiceStateTag = {
    ...stateOf(c, settledState, tag.flips, spentOf(tag)),
    fingerprint: tag.fingerprint,
    deployment: ours ? (c.primary?.id ?? null) : tag.deployment,
  };
  if (!ours) {
    // Gone from the list (replaced, or rolled back and done): the PRIMARY's tasks read what was current when it
    // began, so it is decided from that; a record says how the redeploy ended. Due or waiting, the end is written
    // (or put back) as it is, so it is reported once.
    const v = fallback(c, tag.flips);
    if (v.decision !== 'record' || !v.write) return { ...v, report, write: ended };
    return { ...v, reason, write: { ...v.write, ...stateOf(c, settledState, tag.flips, spentOf(tag)) }, report };
  }
  // The outcome is reported once: the state written names the versions the deployment went to. Versions that moved
  // on since the claim are due at once, in this pass (its tasks may hold the claimed ones), that state being the one
  // to put back if the redeploy is not sent; waiting a pass would let an old state put back before each pass (a
  // replay) hide them for ever. While other deployments still drain, it is recorded and due on the next pass.
  const write = ended;
  if (c.newFingerprint !== tag.fingerprint && !c.inFlight) {
    return { decision: 'redeploy', reason: 'fingerprint-changed', write, report, flips: tag.flips };
  }
  return { decision: 'record', reason, write, report, flips: tag.flips };
}

/**
 * What the service deployments say of the watcher's redeploy: one created between its claim and the state written
 * after UpdateService (seconds, so a second either side) with a ROLLBACK_* status was rolled back by the circuit
 * breaker (or an alarm).
 */
function historyRolledBack(c: ServiceContext, tag: ServiceStateTag): boolean {
  const until = (tag.writtenAt + 1) * 1000;
  return rollbackWithin(c, (at) => at !== null && at >= redeployStart(tag) && at <= until) !== undefined;
}

/**
 * The service deployment begun within a window that was rolled back (a ROLLBACK_* status: ECS keeps the rollback
 * within the failed service deployment, with no service deployment of its own), if the history was read.
 */
function rollbackWithin(c: ServiceContext, within: (at: number | null) => boolean): DeploymentEnd | undefined {
  const seen = c.input.history?.get(c.svc.arn);
  if (!seen?.ok) return undefined;
  return seen.value.find((d) => within(d.createdAt) && d.status.startsWith('ROLLBACK'));
}

/**
 * Whether a deployment begun within a claim's life was rolled back, nothing since: ECS's words on a PRIMARY begun
 * within the claim's life, else the service deployments (a ROLLBACK_* status on one begun within it, and no service
 * deployment after it: ECS keeps a rollback within the failed service deployment). A claim put back long after a
 * rollback (an operator's deploy since) reports nothing again.
 */
function rolledBackByPrimary(c: ServiceContext, within: (at: number | null) => boolean): boolean {
  const primary = c.primary;
  if (!primary) return false;
  if (rolledBack(primary) && within(primary.createdAt)) return true;
  const rolled = rollbackWithin(c, within);
  const seen = c.input.history?.get(c.svc.arn);
  return rolled !== undefined && seen?.ok === true && !seen.value.some((d) => d.createdAt > rolled.createdAt);
}

/** A PRIMARY deployment that ECS's circuit breaker started to roll another back (its reason says so). */
function rolledBack(primary: Deployment): boolean {
  return /roll(ing|ed)? ?back/i.test(primary.rolloutStateReason ?? '');
}

/**
 * No state to trust: decide from what the tasks can have seen. A version that became current after the PRIMARY
 * deployment began is one its tasks may not hold: due. Otherwise they run the current versions: recorded.
 */
function fallback(c: ServiceContext, flips: number): Verdict {
  const newest = Math.max(...c.versions.map((v) => v.changedAt ?? Number.NEGATIVE_INFINITY));
  const since = c.svc.deployedAt;
  if (since !== null && Number.isFinite(newest) && newest > since) {
    return { ...redeploy(c, 'changed-since-deployment'), flips };
  }
  return record(c, 'no-state', flips);
}

function record(c: ServiceContext, reason: DecisionReason, flips: number): Verdict {
  return { decision: 'record', reason, write: stateOf(c, 'ok', flips, c.spent), flips };
}

/** The redeploys a state records for the cap: when the last began (seconds), and how many it stands for. */
export interface Spent {
  readonly at: number;
  readonly redeploys: number;
}

function spentOf(tag: ServiceStateTag): Spent | null {
  return tag.redeployedAt === null ? null : { at: tag.redeployedAt, redeploys: tag.redeploys ?? 1 };
}

/**
 * The redeploys of the service the watcher (any run) claimed or started within the cap window: the state's `w` and
 * `n`. A state without one to trust (removed, forged) says nothing: a tagger who strips it resets the service's share
 * of the cap, which a redeploy it then gets is due for anyway.
 */
export function spentIn(read: ReadState, windowStart: number): Spent | null {
  if (read.trust !== 'signed' && read.trust !== 'unsigned') return null;
  const spent = spentOf(read.tag);
  return spent && spent.at >= windowStart ? spent : null;
}

/** Due; but while a deployment is in flight (a rollout, a blue/green shift or bake) it waits and stays due. */
function redeploy(c: ServiceContext, reason: DecisionReason): Verdict {
  if (c.inFlight) return { decision: 'wait', reason: 'deployment-in-progress' };
  return { decision: 'redeploy', reason };
}

function stateOf(
  c: ServiceContext,
  state: ServiceStateTag['state'],
  flips: number,
  spent: Spent | null,
): ServiceStateTag {
  return {
    state,
    fingerprint: c.newFingerprint,
    binding: c.binding,
    deployment: c.primary?.id ?? null,
    writtenAt: Math.floor(c.input.now / 1000),
    redeployedAt: spent?.at ?? null,
    run: c.input.run,
    flips,
    ...(spent && spent.redeploys > 1 && { redeploys: spent.redeploys }),
  };
}

function toDecision(c: ServiceContext, v: Verdict): Decision {
  const tag = c.read.trust === 'signed' || c.read.trust === 'unsigned' ? c.read.tag : undefined;
  return {
    cluster: c.svc.cluster,
    service: c.svc.name,
    serviceArn: c.svc.arn,
    decision: v.decision,
    reason: v.reason,
    oldFingerprint: tag?.fingerprint ?? (c.read.trust === 'v1' ? c.read.fingerprint : null),
    newFingerprint: c.newFingerprint,
    trust: c.read.trust,
    secretIds: c.secretIds,
    binding: c.binding,
    deployedAt: c.svc.deployedAt,
    deployment: c.primary?.id ?? null,
    ...(v.write && { write: v.write }),
    // What a claim taken back restores: the outcome a redeploy decision recorded, else the state read.
    ...(v.decision === 'redeploy' && v.write ? { previous: v.write } : tag && { previous: tag }),
    flips: v.flips ?? 0,
  };
}

function distinctIds(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort(byCodeUnit);
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
