// `npm run bench` (= npm run build && node bench/run.ts): start-up and API-call benchmark of secrets-init against
// moto on loopback. Not a test: it measures (bench/measure-*.ts), renders the tables (bench/report.ts) and writes
// them, with the machine, to bench/RESULTS.md. Every command is measured by the kernel (wait4: wall, user+sys CPU,
// peak RSS; bench/rusage.py), variants are interleaved run by run (so a noisy neighbour hits all of them alike) and
// medians are reported.
//
// Environment: BENCH_RUNS (default 21) runs per variant; BENCH_AWS20_EVERY (default 4): the slow `aws` CLI loop over
// 20 secrets runs every Nth round only; BENCH_MODEL_LATENCY_MS (default 20): API latency of the watcher model;
// BENCH_RESULTS: where to write (default bench/RESULTS.md).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startAwsProxy } from '../test/helpers/aws-proxy.ts';
import { leakedValues } from '../test/helpers/cli.ts';
import { clientOptions, startMoto } from '../test/helpers/moto.ts';
import { buildBundles, ROOT } from './bundles.ts';
import { seedBench, WATCH_FLEET } from './fleet.ts';
import { buildLayers } from './image-layers.ts';
import { describeMachine, load } from './machine.ts';
import { measureCallsPerRender } from './measure-calls.ts';
import { coldStartVariants, measureColdStart } from './measure-cold-start.ts';
import { measureParsed } from './measure-parsed.ts';
import { measureWatch } from './measure-watch.ts';
import { measureWatchModel } from './measure-watch-model.ts';
import { startMeter } from './meter.ts';
import { renderResults } from './report.ts';
import { startTaskRoleEndpoint } from './task-role-endpoint.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const AWS20_EVERY = Number(process.env.BENCH_AWS20_EVERY ?? 4);
const MODEL_LATENCY_MS = Number(process.env.BENCH_MODEL_LATENCY_MS ?? 20);
const RESULTS = process.env.BENCH_RESULTS ?? join(ROOT, 'bench', 'RESULTS.md');
/** Secrets seeded for `render` (the calls table reads up to 100). */
const RENDER_SECRETS = 100;

const say = (s: string) => process.stderr.write(`bench: ${s}\n`);
const dir = mkdtempSync(join(tmpdir(), 'secrets-init-bench-'));
const home = join(dir, 'home'); // empty: neither the SDK nor the aws CLI finds a ~/.aws
mkdirSync(home);
const meter = startMeter();
const moto = await startMoto();
const proxy = await startAwsProxy(moto.endpoint);
const taskRole = await startTaskRoleEndpoint();
const sm = new SecretsManagerClient(clientOptions(moto.endpoint));
const ecs = new ECSClient(clientOptions(moto.endpoint));
const loadBefore = load();
const started = Date.now();

try {
  const bundles = buildBundles(dir, say);
  const layers = buildLayers(dir, bundles);
  say(`seeding ${RENDER_SECRETS + WATCH_FLEET.secrets} secrets and ${WATCH_FLEET.services} services into moto`);
  // Seeded before anything is measured: moto busy with seeding would slow the renders down.
  const ids = await seedBench(sm, ecs, RENDER_SECRETS);
  const variants = coldStartVariants(bundles, layers, ids, AWS20_EVERY);
  const where = { dir, home, endpoint: moto.endpoint, taskRoleUrl: taskRole.url };
  const parsed = await measureParsed({ ...where, variants });
  const coldStart = await measureColdStart(meter, { ...where, variants, runs: RUNS, say });
  const calls = await measureCallsPerRender(meter, { dir, home, proxy, bundle: bundles.shipped, ids });
  const watch = await measureWatch(meter, { dir, home, proxy, sm, bundle: bundles.shipped, say });
  const model = await measureWatchModel(MODEL_LATENCY_MS);
  const text = renderResults({
    at: new Date(),
    machine: describeMachine(),
    loadBefore,
    loadAfter: load(),
    runs: RUNS,
    awsEvery: AWS20_EVERY,
    modelLatencyMs: MODEL_LATENCY_MS,
    sizes: bundles.sizes,
    files: bundles.files,
    parsed,
    layers,
    coldStart,
    calls,
    watch,
    model,
    watchFleet: WATCH_FLEET,
  });
  const leaks = leakedValues([text]);
  if (leaks.length > 0) throw new Error(`a seeded secret value appeared in an output (${leaks.length} values)`);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, text);
  process.stdout.write(text);
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${RESULTS}`);
} finally {
  sm.destroy();
  ecs.destroy();
  await meter.close();
  await proxy.close();
  await taskRole.close();
  await moto.stop();
  rmSync(dir, { recursive: true, force: true });
}
