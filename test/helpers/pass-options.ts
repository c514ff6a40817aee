import type { PassOptions } from '../../watcher/run-pass.ts';

/**
 * A watcher pass's options as the tests start from them: the cap and its window, claims that settle at once (one
 * run at a time unless a test starts rivals), another run's claim held two minutes, a test namespace for metrics.
 */
export const PASS: PassOptions = {
  source: { kind: 'discover', clusters: ['prod'] },
  maxRedeploys: 10,
  capWindowMs: 60_000,
  dryRun: false,
  concurrency: 10,
  timeoutMs: 30_000,
  claimSettleMs: 0,
  claimTtlMs: 120_000,
  metricsNamespace: 'Test/Watcher',
};
