import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Bundles, ROOT } from './bundles.ts';
import type { ImageStart, Layer } from './image-layers.ts';
import { cliEnv, measuredRun } from './measured-run.ts';
import type { Meter, Sample } from './meter.ts';

// Cold starts: every variant run once to warm its compile cache, then all of them interleaved round by round (a
// noisy neighbour hits them alike), each from an empty working directory, as at a task start.

export interface Variant {
  readonly id: string;
  readonly label: string;
  readonly argv: readonly string[];
  readonly env?: Record<string, string>;
  /** A warm NODE_COMPILE_CACHE directory (as in the init image); without it the cache is off. */
  readonly cache?: boolean;
  /** Run only every Nth round (slow baselines). */
  readonly every?: number;
  /** A dotenv file in the working directory (local mode). */
  readonly dotenv?: boolean;
}

export interface Measured {
  readonly variant: Variant;
  readonly samples: readonly Sample[];
}

const NODE = process.execPath;

/** Every variant of the cold-start tables, by id. `ids`: the render secrets; `awsEvery`: see BENCH_AWS20_EVERY. */
export function coldStartVariants(b: Bundles, layers: readonly Layer[], ids: readonly string[], awsEvery: number) {
  const one = { SECRET_NAME: ids[0]! };
  const twenty = { SECRET_NAME: ids.slice(0, 20).join(',') };
  const baseline = join(ROOT, 'bench', 'entrypoint-baseline.sh');
  const snapshot = [NODE, '--snapshot-blob', b.snapshot, '--'];
  const layer = (start: ImageStart) => layers.find((l) => l.start === start)!;
  const unpack = (start: ImageStart): Variant => ({
    id: `unpack-${start}`,
    label: `unpacking the layer it adds (${layer(start).label}; \`tar -xzf\`)`,
    argv: ['tar', '-xzf', layer(start).file],
  });
  const variants: Variant[] = [
    { id: 'floor', label: '`node -e 0` (the floor)', argv: [NODE, '-e', '0'] },
    { id: 'floor-snapshot', label: 'an empty startup snapshot', argv: [NODE, '--snapshot-blob', b.emptySnapshot] },
    { id: 'render-1', label: '`render`, 1 secret', argv: [NODE, b.shipped], env: one, cache: true },
    { id: 'render-20', label: '`render`, 20 secrets', argv: [NODE, b.shipped], env: twenty, cache: true },
    {
      id: 'render-local',
      label: '`render`, local mode (dotenv, no AWS)',
      argv: [NODE, b.shipped],
      cache: true,
      dotenv: true,
    },
    { id: 'snapshot-1', label: '`render` from the startup snapshot, 1 secret', argv: snapshot, env: one },
    { id: 'snapshot-20', label: '`render` from the startup snapshot, 20 secrets', argv: snapshot, env: twenty },
    { id: 'snapshot-local', label: '`render` from the startup snapshot, local mode', argv: snapshot, dotenv: true },
    {
      id: 'sdk-floor',
      label: 'reference: the AWS SDK alone reading 1 secret (bench/sdk-floor.ts, bundled)',
      argv: [NODE, b.sdkFloor],
      env: one,
      cache: true,
    },
    { id: 'aws-1', label: '`aws` CLI + `jq`, 1 secret', argv: ['sh', baseline], env: one },
    { id: 'aws-20', label: '`aws` CLI + `jq`, 20 secrets', argv: ['sh', baseline], env: twenty, every: awsEvery },
    { id: 'off-cache', label: 'compile cache off', argv: [NODE, b.shipped], env: one },
    { id: 'off-lazy', label: 'lazy built-ins off (eager `import`)', argv: [NODE, b.eager], env: one, cache: true },
    { id: 'off-minify', label: 'minify off', argv: [NODE, b.unminified], env: one, cache: true },
    {
      id: 'off-bundle',
      label: 'bundling off (`node cli/bin.ts`, sources + node_modules)',
      argv: [NODE, join(ROOT, 'cli', 'bin.ts')],
      env: one,
      cache: true,
    },
    unpack('shipped'),
    unpack('snapshot'),
  ];
  return variants;
}

export async function measureColdStart(
  meter: Meter,
  o: {
    readonly dir: string;
    readonly home: string;
    readonly endpoint: string;
    readonly variants: readonly Variant[];
    readonly runs: number;
    readonly say: (s: string) => void;
  },
): Promise<Map<string, Measured>> {
  const samples = new Map<string, Sample[]>(o.variants.map((v) => [v.id, []]));
  const work = (v: Variant) => join(o.dir, 'work', v.id);
  const runOnce = async (v: Variant, round: number) => {
    rmSync(work(v), { recursive: true, force: true }); // a fresh volume, as at every task start
    mkdirSync(work(v), { recursive: true });
    if (v.dotenv) writeFileSync(join(work(v), '.env'), 'LOCAL_ONE=1\nLOCAL_TWO=two\n');
    const env = cliEnv(o.home, o.endpoint, {
      AWS_DEFAULT_REGION: 'us-east-1', // the aws CLI baseline reads this one
      APP_ENV: v.dotenv ? 'local' : 'production',
      SECRETS_DIR: join(work(v), 'out'),
      ...(v.cache ? { NODE_COMPILE_CACHE: join(o.dir, 'cache', v.id) } : { NODE_DISABLE_COMPILE_CACHE: '1' }),
      ...v.env,
    });
    return (await measuredRun(meter, o.dir, `${v.id} (round ${round})`, { argv: v.argv, env, cwd: work(v) })).sample;
  };

  o.say(`warm-up: one run of each of ${o.variants.length} variants (fills the compile caches)`);
  for (const v of o.variants) await runOnce(v, -1);
  checkSameEnvFiles((id) => readFileSync(join(o.dir, 'work', id, 'out', 'app.env'), 'utf8'));

  o.say(`cold start: ${o.runs} interleaved rounds`);
  for (let round = 0; round < o.runs; round++) {
    for (const v of o.variants) {
      if (v.every && round % v.every !== 0) continue;
      samples.get(v.id)!.push(await runOnce(v, round));
    }
    if (round % 5 === 4) o.say(`  round ${round + 1}/${o.runs}`);
  }
  return new Map(o.variants.map((v) => [v.id, { variant: v, samples: samples.get(v.id)! }]));
}

/**
 * The variants compared write the same env file: the snapshot byte for byte; the `aws` baseline the same variables
 * (values byte for byte; only the line order differs).
 */
function checkSameEnvFiles(appEnv: (id: string) => string): void {
  const sorted = (id: string) => appEnv(id).split('\n').filter(Boolean).sort().join('\n');
  if (sorted('render-20') !== sorted('aws-20')) throw new Error('the aws CLI baseline wrote a different env file');
  if (appEnv('render-20') !== appEnv('snapshot-20')) throw new Error('the snapshot wrote a different env file');
}
