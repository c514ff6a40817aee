import { join } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsProxy } from '../test/helpers/aws-proxy.ts';
import { seedValues } from '../test/helpers/cli.ts';
import { rotate, seeded } from '../test/helpers/ecs-fleet.ts';
import { ROTATED, WATCH_FLEET } from './fleet.ts';
import { cliEnv, measuredRun } from './measured-run.ts';
import type { Meter, Sample } from './meter.ts';

export interface WatchRun {
  readonly label: string;
  readonly sample: Sample;
  /** Calls on the wire by action. */
  readonly wire: Record<string, number>;
  /** The pass's own `durationMs` (logged). */
  readonly passMs: number;
  /** Decision events by decision. */
  readonly decisions: Record<string, number>;
}

/** Three `watch --once` passes of the shipped bundle over the seeded fleet: first sight, steady, after 3 rotations. */
export async function measureWatch(
  meter: Meter,
  o: {
    readonly dir: string;
    readonly home: string;
    readonly proxy: AwsProxy;
    readonly sm: SecretsManagerClient;
    readonly bundle: string;
    readonly say: (s: string) => void;
  },
): Promise<WatchRun[]> {
  const runs: WatchRun[] = [];
  const once = async (label: string) => {
    o.proxy.resetCounts();
    const { sample, stdout } = await measuredRun(meter, o.dir, `watch --once (${label})`, {
      argv: [process.execPath, o.bundle, 'watch', '--once', '--cluster', WATCH_FLEET.cluster],
      env: cliEnv(o.home, o.proxy.endpoint, { NODE_COMPILE_CACHE: join(o.dir, 'cache', 'watch') }),
      cwd: o.dir,
    });
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.find((l) => l.event === 'watch.pass')!;
    const decisions: Record<string, number> = {};
    for (const l of lines.filter((x) => x.event === 'watch.decision')) {
      decisions[String(l.decision)] = (decisions[String(l.decision)] ?? 0) + 1;
    }
    runs.push({ label, sample, wire: o.proxy.counts(), passMs: Number(summary.durationMs), decisions });
  };
  o.say(`watcher: first pass (records ${WATCH_FLEET.services} fingerprints)`);
  await once(`first sight: ${WATCH_FLEET.services} fingerprints recorded`);
  o.say('watcher: steady pass');
  await once('steady state: nothing changed');
  await rotate(o.sm, ...ROTATED);
  seedValues(seeded);
  o.say(`watcher: pass after ${ROTATED.length} rotations`);
  await once(`${ROTATED.length} secrets rotated: ${ROTATED.length} services redeployed`);
  return runs;
}
