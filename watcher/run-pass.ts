import { randomBytes } from 'node:crypto';
import type { EcsPort, SecretsPort, SsmPort } from '../shared/aws-ports.ts';
import { isParameterId, PARAMETER_ID_PREFIX } from '../shared/binding-id.ts';
import type { ClusterBinding } from '../shared/config.ts';
import { FINGERPRINT_TAG } from '../shared/contract.ts';
import { ExitCode } from '../shared/errors.ts';
import { logEvent } from '../shared/log-events.ts';
import type { Logger } from '../shared/logger.ts';
import { sleep } from '../shared/sleep.ts';
import { applyPlan } from './apply-plan.ts';
import { bindingFromTags, bindingsFromConfig } from './bindings.ts';
import { type CallContext, createCallContext } from './call-context.ts';
import { type DeploymentReport, decide, needsDeploymentHistory, needsVersionTimes, type Target } from './decide.ts';
import { describeServices } from './describe-services.ts';
import { distinctClusters, serviceName } from './ecs-identity.ts';
import { byCodeUnit } from './fingerprint.ts';
import { listServiceArns } from './list-services.ts';
import { passMetrics } from './metrics.ts';
import type { Decision, Failure, Observation, Outcome, SecretVersion, ServiceState } from './model.ts';
import { readDeploymentHistory } from './read-deployment-history.ts';
import { readParameterVersions } from './read-parameter-versions.ts';
import { readSecretVersions } from './read-secrets.ts';
import { readStateKey } from './read-state-key.ts';
import { type MutableImage, readMutableImages } from './read-task-definitions.ts';
import { readVersionTimes } from './read-version-times.ts';

/** Where bindings come from: the config file, or the `secrets-init/secrets` tags of every service in clusters. */
export type BindingSource =
  | { readonly kind: 'config'; readonly clusters: readonly ClusterBinding[] }
  | { readonly kind: 'discover'; readonly clusters: readonly string[] };

export interface PassDeps {
  /** Every ECS call but UpdateService. */
  readonly ecs: EcsPort;
  /**
   * UpdateService only: the watch command passes createRedeployClient(), which never resends an UpdateService that
   * may have been applied. Defaults to `ecs` (fakes, benchmarks).
   */
  readonly deploy?: EcsPort;
  readonly secrets: SecretsPort;
  /** Parameter Store, for bindings to parameters and paths (`ssm:` ids); without it those are failures. */
  readonly ssm?: SsmPort;
  readonly log: Logger;
  /** ms since the epoch: state tags and AWS's times are compared with it. */
  readonly now: () => number;
  /** Waits (the claims' settle time); the pass deadline cuts it short. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** This run's id in the state tags (random by default). */
  readonly runId?: () => string;
}

export interface PassOptions {
  readonly source: BindingSource;
  /** Redeploys started at most within `capWindowMs`, by every run of the watcher together. */
  readonly maxRedeploys: number;
  readonly capWindowMs: number;
  readonly dryRun: boolean;
  /** AWS calls in flight at once. */
  readonly concurrency: number;
  /**
   * The pass's deadline: reads are aborted at it, and no write starts after it (those services stay due, as
   * failures). A write already started runs to its end (each has WRITE_TIMEOUT_MS of its own).
   */
  readonly timeoutMs: number;
  /** The secret holding the key the state tags are signed with; without one they are taken as written. */
  readonly stateKey?: string;
  /** How long a claim settles before it is read back, and how long another run's claim holds. */
  readonly claimSettleMs: number;
  readonly claimTtlMs: number;
  readonly metricsNamespace: string;
  /** Mutable images by task definition ARN, kept across the passes of a long-running watcher. */
  readonly imageCache?: Map<string, readonly MutableImage[]>;
  /** Pass number, for the logs. */
  readonly pass?: number;
}

export interface PassResult {
  readonly pass: number;
  readonly decisions: readonly Decision[];
  /** One per applied decision (none in a dry run). */
  readonly outcomes: readonly Outcome[];
  /** Deployments this watcher started that were seen to end this pass. */
  readonly reports: readonly DeploymentReport[];
  readonly failures: readonly Failure[];
  readonly apiCalls: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

/**
 * One pass of the controller: read (services ten at a time with their deployments and state tags, each distinct
 * secret once, the state key, and — only for services without a trusted state — when their versions became
 * current), decide (pure core), log every decision and every deployment outcome, apply under the cap (unless dry
 * run), log the outcomes and one summary that carries the pass's metrics. Failures never stop the pass; they are data.
 */
export async function runPass(deps: PassDeps, options: PassOptions): Promise<PassResult> {
  const started = deps.now();
  const pass = options.pass ?? 1;
  const run = deps.runId?.() ?? randomBytes(4).toString('hex');
  const log = deps.log.child({ pass });
  const ctx = createCallContext({ signal: AbortSignal.timeout(options.timeoutMs), concurrency: options.concurrency });

  const passOf = (targets: readonly Target[]) => ({ pass, log, deps, started, ctx, options, targets });
  const [{ targets, unbound, failures: readFailures }, key] = await Promise.all([
    collectTargets(deps.ecs, options.source, ctx),
    options.stateKey === undefined ? undefined : readStateKey(deps.secrets, options.stateKey, ctx),
  ]);
  if (key && !key.ok) {
    // Without the key nothing can be verified or signed: no decision is safe. Loud, and nothing is changed.
    const failure: Failure = {
      cluster: '*',
      service: null,
      secretId: options.stateKey!,
      stage: 'state',
      error: `reading the state key: ${key.error}`,
    };
    logFailure(log, failure);
    return summarise({
      ...passOf(targets),
      secretIds: [],
      decisions: [],
      outcomes: [],
      reports: [],
      failures: [...readFailures, failure],
    });
  }
  const signingKey = key?.value;
  const secretIds = [...new Set(targets.filter((t) => t.service.ok).flatMap((t) => t.binding.secretIds))];
  const [versions, parameters] = await Promise.all([
    readSecretVersions(
      deps.secrets,
      secretIds.filter((id) => !isParameterId(id)),
      ctx,
    ),
    readParameters(deps.ssm, secretIds.filter(isParameterId), ctx),
  ]);
  // Versions carry their time (a secret's LastChangedDate, a parameter's LastModifiedDate); where DescribeSecret
  // gave none, one ListSecretVersionIds says when the current version was created, only when a decision needs it.
  const timed = [
    ...new Set(
      targets
        .filter((t) => needsVersionTimes(t, signingKey))
        .flatMap((t) => t.binding.secretIds.filter((id) => !isParameterId(id))),
    ),
  ].filter((id) => {
    const v = versions.get(id);
    return v?.ok === true && v.value.changedAt === undefined;
  });
  const times = await readVersionTimes(deps.secrets, timed, ctx);
  const secrets = new Map([...withTimes(versions, times), ...parameters]);

  // A redeploy that left DescribeServices' list: whether it was rolled back, one ListServiceDeployments each.
  const history = await readDeploymentHistory(
    deps.ecs,
    targets.flatMap((t) => {
      const since = needsDeploymentHistory(t, signingKey, options.claimTtlMs);
      return since === undefined || !t.service.ok
        ? []
        : [{ cluster: t.service.value.cluster, serviceArn: t.service.value.arn, since }];
    }),
    ctx,
  );

  const plan = decide({
    targets,
    unbound,
    secrets,
    history,
    key: signingKey,
    now: deps.now(),
    run,
    claimTtlMs: options.claimTtlMs,
    capWindowMs: options.capWindowMs,
  });
  const images = await readMutableImages(
    deps.ecs,
    plan.due
      .flatMap((d) => targets.find((t) => t.service.ok && t.service.value.arn === d.serviceArn)?.service)
      .flatMap((o) => (o?.ok && o.value.taskDefinition ? [o.value.taskDefinition] : [])),
    ctx,
    options.imageCache ?? new Map(),
  );
  const decisions = plan.decisions.map((d) => withImages(d, targets, images));
  const due = plan.due.map((d) => decisions.find((x) => x.serviceArn === d.serviceArn)!);
  const failures: Failure[] = [...sortFailures(readFailures), ...plan.failures];
  for (const f of failures) logFailure(log, f);
  for (const r of plan.reports) logReport(log, r);
  for (const d of decisions) logDecision(log, d, options.dryRun);

  let outcomes: Outcome[] = [];
  if (!options.dryRun) {
    const ports = { ecs: deps.ecs, deploy: deps.deploy ?? deps.ecs };
    outcomes = await applyPlan(ports, { decisions, due }, ctx, {
      maxRedeploys: options.maxRedeploys,
      spent: plan.recentRedeploys,
      key: signingKey,
      run,
      now: deps.now,
      settleMs: options.claimSettleMs,
      capWindowMs: options.capWindowMs,
      readFrom: started,
      sleep: deps.sleep ?? sleep,
      reread: (ds) => rereadServices(deps.ecs, ds, ctx),
    });
    for (const o of outcomes) logOutcome(log, o);
    failures.push(...outcomes.flatMap((o) => o.failure ?? []));
  }
  return summarise({
    ...passOf(targets),
    secretIds,
    decisions,
    outcomes,
    reports: plan.reports,
    failures,
  });
}

function summarise(p: {
  pass: number;
  log: Logger;
  deps: PassDeps;
  started: number;
  ctx: CallContext;
  options: PassOptions;
  targets: readonly Target[];
  secretIds: readonly string[];
  decisions: readonly Decision[];
  outcomes: readonly Outcome[];
  reports: readonly DeploymentReport[];
  failures: readonly Failure[];
}): PassResult {
  const { decisions, outcomes, failures } = p;
  const durationMs = p.deps.now() - p.started;
  const result: PassResult = {
    pass: p.pass,
    decisions,
    outcomes,
    reports: p.reports,
    failures,
    apiCalls: p.ctx.counts(),
    durationMs,
  };
  const decided = (kind: Decision['decision']) => decisions.filter((d) => d.decision === kind).length;
  const did = (kind: Outcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
  const metrics = passMetrics(
    {
      durationMs,
      services: p.targets.length,
      secrets: p.secretIds.length,
      decisions,
      outcomes,
      reports: p.reports,
      failures,
    },
    p.options.metricsNamespace,
    p.deps.now(),
  );
  logEvent(
    p.log,
    failures.length > 0 ? 'warn' : 'info',
    'watch.pass',
    {
      services: p.targets.length,
      secrets: p.secretIds.length,
      unchanged: decided('skip'),
      due: decided('redeploy'),
      waiting: decided('wait'),
      excluded: decided('exclude'),
      recorded: did('recorded'),
      redeployed: did('redeployed'),
      deferred: did('deferred'),
      unknown: did('unknown'),
      failures: failures.length,
      apiCalls: result.apiCalls,
      durationMs,
      dryRun: p.options.dryRun,
      ...metrics,
    },
    `pass ${p.pass}: ${decisions.length} services decided, ${did('redeployed')} redeployed, ${failures.length} failures`,
  );
  return result;
}

/** The versions of the bound parameters and paths; without an SSM client (fakes) each is a failure. */
async function readParameters(
  ssm: SsmPort | undefined,
  ids: readonly string[],
  ctx: CallContext,
): Promise<ReadonlyMap<string, Observation<SecretVersion>>> {
  if (ids.length === 0) return new Map();
  if (!ssm) return new Map(ids.map((id) => [id, { ok: false, error: 'no Parameter Store client' }]));
  return readParameterVersions(ssm, ids, ctx);
}

/** The versions with the times the pass read for them; a time that could not be read is a failure of its secret. */
function withTimes(
  versions: ReadonlyMap<string, Observation<SecretVersion>>,
  times: ReadonlyMap<string, Observation<number>>,
): Map<string, Observation<SecretVersion>> {
  const out = new Map(versions);
  for (const [id, t] of times) {
    const v = versions.get(id);
    if (!v?.ok) continue;
    out.set(
      id,
      t.ok
        ? { ok: true, value: { ...v.value, changedAt: t.value } }
        : { ok: false, error: `listing its versions: ${t.error}` },
    );
  }
  return out;
}

function withImages(
  d: Decision,
  targets: readonly Target[],
  images: ReadonlyMap<string, readonly MutableImage[]>,
): Decision {
  if (d.decision !== 'redeploy') return d;
  const t = targets.find((x) => x.service.ok && x.service.value.arn === d.serviceArn)?.service;
  const td = t?.ok ? t.value.taskDefinition : null;
  const found = td ? images.get(td) : undefined;
  if (!found || found.length === 0) return d;
  return {
    ...d,
    mutableImages: found.map((i) => `${i.container}: ${i.image} (version consistency ${i.versionConsistency})`),
  };
}

/** The claimed services read again (DescribeServices with tags, ten a call), by ARN. */
async function rereadServices(
  ecs: EcsPort,
  decisions: readonly Decision[],
  ctx: CallContext,
): Promise<Map<string, Observation<ServiceState>>> {
  const out = new Map<string, Observation<ServiceState>>();
  for (const cluster of [...new Set(decisions.map((d) => d.cluster))]) {
    const arns = decisions.filter((d) => d.cluster === cluster).map((d) => d.serviceArn);
    for (const [arn, seen] of await describeServices(ecs, cluster, arns, ctx)) out.set(arn, seen);
  }
  return out;
}

/** The pass's exit code: 3 when anything failed (AWS side), else 0. */
export function passExitCode(result: PassResult): number {
  return result.failures.length > 0 ? ExitCode.source : ExitCode.ok;
}

async function collectTargets(
  ecs: EcsPort,
  source: BindingSource,
  ctx: CallContext,
): Promise<{ targets: Target[]; unbound: ServiceState[]; failures: Failure[] }> {
  const targets: Target[] = [];
  /** Described services with a state tag but no usable binding: their redeploys still count against the cap. */
  const unbound: ServiceState[] = [];
  const failures: Failure[] = [];
  if (source.kind === 'config') {
    const bindings = bindingsFromConfig(source.clusters);
    const clusters = [...new Set(bindings.map((b) => b.cluster))];
    await Promise.all(
      clusters.map(async (cluster) => {
        const mine = bindings.filter((b) => b.cluster === cluster);
        const seen = await describeServices(
          ecs,
          cluster,
          mine.map((b) => b.service),
          ctx,
        );
        for (const binding of mine) {
          targets.push({ binding, service: seen.get(binding.service) ?? { ok: false, error: 'not described' } });
        }
      }),
    );
    return { targets, unbound, failures };
  }
  await Promise.all(
    distinctClusters(source.clusters).map(async (cluster) => {
      const listed = await listServiceArns(ecs, cluster, ctx);
      if (!listed.ok) {
        failures.push({ cluster, service: null, secretId: null, stage: 'discover', error: listed.error });
        return;
      }
      const seen = await describeServices(ecs, cluster, listed.value, ctx);
      for (const [arn, service] of seen) {
        if (!service.ok) {
          // Listed a moment ago: either gone since (harmless) or unreadable (not harmless); report both.
          const name = serviceName(arn);
          failures.push({ cluster, service: name, secretId: null, stage: 'service', error: service.error });
          continue;
        }
        const bound = bindingFromTags(service.value);
        if (bound?.ok) {
          targets.push({ binding: bound.binding, service });
          continue;
        }
        if (service.value.tags[FINGERPRINT_TAG] !== undefined) unbound.push(service.value);
        if (bound) {
          const error = bound.problems.join('; ');
          failures.push({ cluster, service: service.value.name, secretId: null, stage: 'binding', error });
        } else if (service.value.status === 'ACTIVE' && service.value.tags[FINGERPRINT_TAG] !== undefined) {
          // Its binding tag was removed but not the watcher's state: unwatching it takes both, so that removing
          // the binding alone (a way to suppress a redeploy) is never silent.
          failures.push({ cluster, service: service.value.name, secretId: null, stage: 'binding', error: UNBOUND });
        }
      }
    }),
  );
  return { targets, unbound, failures };
}

const UNBOUND =
  'it has the state tag secrets-init/fingerprint but no binding tag secrets-init/secrets: to stop watching it, ' +
  'remove both; to watch it, put its binding back';

/** Reads finish in any order; logs and results should not. */
function sortFailures(list: readonly Failure[]): Failure[] {
  const key = (f: Failure) => `${f.cluster}\u0000${f.service ?? ''}\u0000${f.secretId ?? ''}`;
  return [...list].sort((a, b) => byCodeUnit(key(a), key(b)));
}

/** One line naming what failed and where, lower-case context first (`reading secret "db" for api: ...`). */
export function failureMessage(f: Failure): string {
  const service = f.service ?? '?';
  switch (f.stage) {
    case 'discover':
      return `listing services of cluster ${f.cluster}: ${f.error}`;
    case 'service':
      return `describing service ${service} in ${f.cluster}: ${f.error}`;
    case 'binding':
      return `reading the binding tags of service ${service} in ${f.cluster}: ${f.error}`;
    case 'secret':
      return f.secretId !== null && isParameterId(f.secretId)
        ? `reading parameter "${f.secretId.slice(PARAMETER_ID_PREFIX.length)}" for service ${service}: ${f.error}`
        : `reading secret "${f.secretId}" for service ${service}: ${f.error}`;
    case 'state':
      return f.service === null
        ? `${f.error} ("${f.secretId}")`
        : `reading the state of service ${service} in ${f.cluster}: ${f.error}`;
    case 'redeploy':
      return `redeploying service ${service} in ${f.cluster}: ${f.error}`;
    case 'tag':
      return `writing the state of service ${service} in ${f.cluster}: ${f.error}`;
  }
}

/** One event per decision, final: what the service needs. What applying it did follows as its outcome. */
function logDecision(log: Logger, d: Decision, dryRun: boolean): void {
  logEvent(
    log,
    'info',
    'watch.decision',
    {
      cluster: d.cluster,
      service: d.service,
      decision: d.decision,
      reason: d.reason,
      oldFingerprint: d.oldFingerprint,
      newFingerprint: d.newFingerprint,
      trust: d.trust,
      secretIds: d.secretIds,
      ...(d.mutableImages && { mutableImages: d.mutableImages }),
      dryRun,
    },
    `${d.decision} ${d.service}: ${d.reason}${d.mutableImages ? ' (a forced deployment re-resolves its mutable image tags)' : ''}`,
  );
}

/**
 * One event per deployment this watcher started, when it is seen to end: an error for one that failed or was rolled
 * back (rolled-back tasks read AWSCURRENT again, so a bad rotated value is still in service: fix the secret).
 */
function logReport(log: Logger, r: DeploymentReport): void {
  const bad = r.result === 'failed' || r.result === 'rolled-back';
  logEvent(
    log,
    bad ? 'error' : 'info',
    'watch.deployment',
    {
      cluster: r.cluster,
      service: r.service,
      deployment: r.deployment,
      result: r.result,
      fingerprint: r.fingerprint,
    },
    bad
      ? `the redeploy of ${r.service} ${r.result === 'failed' ? 'failed' : 'was rolled back'}: its tasks still read the current versions; fix the secret (it is not redeployed again for these versions)`
      : `the redeploy of ${r.service} ${r.result}`,
  );
}

/** One event per applied decision; a failed one is an error naming the stage (redeploy or tag). */
function logOutcome(log: Logger, o: Outcome): void {
  const { cluster, service } = o.decision;
  const failed = o.failure !== undefined;
  logEvent(
    log,
    failed ? 'error' : 'info',
    'watch.outcome',
    {
      cluster,
      service,
      outcome: o.outcome,
      ...(o.reason && { reason: o.reason }),
      ...(o.failure && { stage: o.failure.stage, error: o.failure.error }),
    },
    o.failure ? failureMessage(o.failure) : `${o.outcome} ${service}${o.reason ? `: ${o.reason}` : ''}`,
  );
}

function logFailure(log: Logger, f: Failure): void {
  const { cluster, service, secretId, stage, error } = f;
  logEvent(log, 'error', 'watch.failure', { cluster, service, secretId, stage, error }, failureMessage(f));
}
