import type { EcsPort, SecretsPort } from '../shared/aws-ports.ts';
import type { ClusterBinding } from '../shared/config.ts';
import { ExitCode } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { applyPlan } from './apply-plan.ts';
import { bindingFromTags, bindingsFromConfig } from './bindings.ts';
import { type CallContext, createCallContext } from './call-context.ts';
import { decide, type Target } from './decide.ts';
import { describeServices } from './describe-services.ts';
import { distinctClusters, serviceName } from './ecs-identity.ts';
import { byCodeUnit } from './fingerprint.ts';
import { listServiceArns } from './list-services.ts';
import type { Decision, Failure, Outcome } from './model.ts';
import { readSecretVersions } from './read-secrets.ts';

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
  readonly log: Logger;
  /** Milliseconds, for durationMs only. */
  readonly now: () => number;
}

export interface PassOptions {
  readonly source: BindingSource;
  readonly maxRedeploys: number;
  readonly dryRun: boolean;
  /** AWS calls in flight at once. */
  readonly concurrency: number;
  /**
   * The pass's deadline: reads are aborted at it, and no write starts after it (those services stay due, as
   * failures). A redeploy started before it still gets its tag (each write has WRITE_TIMEOUT_MS of its own).
   */
  readonly timeoutMs: number;
  /** Pass number, for the logs. */
  readonly pass?: number;
}

export interface PassResult {
  readonly pass: number;
  readonly decisions: readonly Decision[];
  /** One per `record` and `redeploy` decision applied (none in a dry run). */
  readonly outcomes: readonly Outcome[];
  readonly failures: readonly Failure[];
  readonly apiCalls: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

/**
 * One pass of the controller: read (services ten at a time, each distinct secret once), decide (pure core),
 * log every decision, apply (unless dry run), log one summary. Failures never stop the pass; they are data.
 */
export async function runPass(deps: PassDeps, options: PassOptions): Promise<PassResult> {
  const started = deps.now();
  const pass = options.pass ?? 1;
  const log = deps.log.child({ pass });
  const ctx = createCallContext({ signal: AbortSignal.timeout(options.timeoutMs), concurrency: options.concurrency });

  const { targets, failures: readFailures } = await collectTargets(deps.ecs, options.source, ctx);
  const secretIds = [...new Set(targets.filter((t) => t.service.ok).flatMap((t) => t.binding.secretIds))];
  const secrets = await readSecretVersions(deps.secrets, secretIds, ctx);

  const plan = decide({ targets, secrets });
  const failures: Failure[] = [...sortFailures(readFailures), ...plan.failures];
  for (const f of failures) logFailure(log, f);
  for (const d of plan.decisions) logDecision(log, d, options.dryRun);

  let outcomes: Outcome[] = [];
  if (!options.dryRun) {
    const ports = { ecs: deps.ecs, deploy: deps.deploy ?? deps.ecs };
    outcomes = await applyPlan(ports, plan, ctx, { maxRedeploys: options.maxRedeploys });
    for (const o of outcomes) logOutcome(log, o);
    failures.push(...outcomes.flatMap((o) => o.failure ?? []));
  }

  const result: PassResult = {
    pass,
    decisions: plan.decisions,
    outcomes,
    failures,
    apiCalls: ctx.counts(),
    durationMs: deps.now() - started,
  };
  const decided = (kind: Decision['decision']) => plan.decisions.filter((d) => d.decision === kind).length;
  const did = (kind: Outcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
  log[failures.length > 0 ? 'warn' : 'info'](
    {
      event: 'watch.pass',
      services: targets.length,
      secrets: secretIds.length,
      unchanged: decided('skip'),
      due: decided('redeploy'),
      recorded: did('recorded'),
      redeployed: did('redeployed'),
      deferred: did('deferred'),
      failures: failures.length,
      apiCalls: result.apiCalls,
      durationMs: result.durationMs,
      dryRun: options.dryRun,
    },
    `pass ${pass}: ${plan.decisions.length} services decided, ${did('redeployed')} redeployed, ${failures.length} failures`,
  );
  return result;
}

/** The pass's exit code: 3 when anything failed (AWS side), else 0. */
export function passExitCode(result: PassResult): number {
  return result.failures.length > 0 ? ExitCode.source : ExitCode.ok;
}

async function collectTargets(
  ecs: EcsPort,
  source: BindingSource,
  ctx: CallContext,
): Promise<{ targets: Target[]; failures: Failure[] }> {
  const targets: Target[] = [];
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
    return { targets, failures };
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
        if (bound?.ok) targets.push({ binding: bound.binding, service });
        else if (bound) {
          const error = bound.problems.join('; ');
          failures.push({ cluster, service: service.value.name, secretId: null, stage: 'binding', error });
        }
      }
    }),
  );
  return { targets, failures };
}

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
      return `reading secret "${f.secretId}" for service ${service}: ${f.error}`;
    case 'redeploy':
      return `redeploying service ${service} in ${f.cluster}: ${f.error}`;
    case 'tag':
      return `tagging service ${service} in ${f.cluster} with its fingerprint: ${f.error}`;
  }
}

/** One event per decision, final: what the service needs. What applying it did follows as its outcome. */
function logDecision(log: Logger, d: Decision, dryRun: boolean): void {
  log.info(
    {
      event: 'watch.decision',
      cluster: d.cluster,
      service: d.service,
      decision: d.decision,
      reason: d.reason,
      oldFingerprint: d.oldFingerprint,
      newFingerprint: d.newFingerprint,
      secretIds: d.secretIds,
      dryRun,
    },
    `${d.decision} ${d.service}: ${d.reason}`,
  );
}

/** One event per applied decision; a failed one is an error naming the stage (redeploy or tag). */
function logOutcome(log: Logger, o: Outcome): void {
  const { cluster, service } = o.decision;
  const failed = o.failure !== undefined;
  log[failed ? 'error' : 'info'](
    {
      event: 'watch.outcome',
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
  log.error({ event: 'watch.failure', cluster, service, secretId, stage, error }, failureMessage(f));
}
