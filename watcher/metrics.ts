import type { DeploymentReport } from './decide.ts';
import type { Decision, Failure, FailureStage, Outcome } from './model.ts';

/** Where the metrics go in CloudWatch unless WATCH_METRICS_NAMESPACE says otherwise. */
export const DEFAULT_METRICS_NAMESPACE = 'SecretsInit/Watcher';

/** What a pass adds up to. */
export interface PassFigures {
  readonly durationMs: number;
  readonly services: number;
  readonly secrets: number;
  readonly decisions: readonly Decision[];
  readonly outcomes: readonly Outcome[];
  readonly reports: readonly DeploymentReport[];
  readonly failures: readonly Failure[];
}

const STAGES: readonly FailureStage[] = ['discover', 'service', 'binding', 'secret', 'state', 'redeploy', 'tag'];

/**
 * A pass's metrics as CloudWatch Embedded Metric Format: fields of the pass's summary log line plus the `_aws`
 * directive that makes CloudWatch Logs turn them into metrics (no API call, no extra permission). No dimensions:
 * one watcher per namespace (the stack sets it). Alarms: `Failures` and `RedeploysFailed` at 1, and a missing
 * `PassCompleted` for the watcher not running at all.
 */
export function passMetrics(figures: PassFigures, namespace: string, timestamp: number): Record<string, unknown> {
  const did = (kind: Outcome['outcome'], reason?: string) =>
    figures.outcomes.filter((o) => o.outcome === kind && (reason === undefined || o.reason === reason)).length;
  const ended = (...kinds: DeploymentReport['result'][]) =>
    figures.reports.filter((r) => kinds.includes(r.result)).length;
  const values: Record<string, number> = {
    PassCompleted: 1,
    PassDurationMs: figures.durationMs,
    SecretsRead: figures.secrets,
    ServicesSeen: figures.services,
    RedeploysAccepted: did('redeployed'),
    RedeploysUnknown: did('unknown'),
    RedeploysCapped: did('deferred', 'cap'),
    RedeploysLeftToRivals: did('deferred', 'rival'),
    WaitingOnDeployment: figures.decisions.filter((d) => d.reason === 'deployment-in-progress').length,
    Failures: figures.failures.length,
    ...Object.fromEntries(
      STAGES.map((stage) => [
        `Failures${stage[0]!.toUpperCase()}${stage.slice(1)}`,
        figures.failures.filter((f) => f.stage === stage).length,
      ]),
    ),
    RedeploysCompleted: ended('completed', 'replaced'),
    RedeploysFailed: ended('failed', 'rolled-back'),
    RedeploysRolledBack: ended('rolled-back'),
  };
  const unit = (name: string) => (name === 'PassDurationMs' ? 'Milliseconds' : 'Count');
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [[]],
          Metrics: Object.keys(values).map((Name) => ({ Name, Unit: unit(Name) })),
        },
      ],
    },
    ...values,
  };
}
