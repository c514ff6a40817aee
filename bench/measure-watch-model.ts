import { SECRETS_TAG } from '../shared/contract.ts';
import { createLogger } from '../shared/logger.ts';
import { FakeAws } from '../test/fakes/aws.ts';
import { runPass } from '../watcher/run-pass.ts';
import { WATCH_DEFAULTS } from '../watcher/watch-settings.ts';
import { WATCH_FLEET, watchBindings } from './fleet.ts';

export interface ModelRun {
  readonly latencyMs: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Calls answered by action. */
  readonly counts: Record<string, number>;
  readonly maxInFlight: number;
}

/**
 * The watcher's steady pass in this process against an in-memory API with a fixed latency per call (moto answers
 * about 250 calls/s, whatever the client does): at 0 ms and at `latencyMs`.
 */
export async function measureWatchModel(latencyMs: number): Promise<ModelRun[]> {
  const log = createLogger('info', { write: () => undefined });
  const out: ModelRun[] = [];
  for (const latency of [0, latencyMs]) {
    const fake = new FakeAws();
    fake.delay = () => latency;
    for (const [service, ids] of watchBindings()) {
      for (const id of ids) if (!fake.secrets.has(id)) fake.addSecret(id);
      fake.addService(WATCH_FLEET.cluster, service, { [SECRETS_TAG]: ids.join(' ') });
    }
    const options = {
      source: { kind: 'discover', clusters: [WATCH_FLEET.cluster] } as const,
      maxRedeploys: WATCH_DEFAULTS.maxRedeploys,
      capWindowMs: WATCH_DEFAULTS.intervalMs,
      dryRun: false,
      concurrency: WATCH_DEFAULTS.concurrency,
      timeoutMs: WATCH_DEFAULTS.passTimeoutMs,
      claimSettleMs: WATCH_DEFAULTS.claimSettleMs,
      claimTtlMs: WATCH_DEFAULTS.claimTtlMs,
      metricsNamespace: 'Bench/Watcher',
    };
    const deps = { ecs: fake.ecs, secrets: fake.sm, log, now: () => fake.clock };
    await runPass(deps, options); // first sight: records the states
    const before = fake.counts();
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const result = await runPass(deps, options); // the steady pass that is measured
    const wallMs = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    if (result.failures.length > 0) throw new Error('the model pass failed');
    const counts = Object.fromEntries(
      Object.entries(fake.counts())
        .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
        .filter(([, v]) => v > 0),
    );
    out.push({
      latencyMs: latency,
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      counts,
      maxInFlight: fake.maxInFlight,
    });
  }
  return out;
}
