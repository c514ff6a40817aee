import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Bundles, ROOT } from './bundles.ts';
import { fillImageCache, type ImageStart, type Layer } from './image-layers.ts';
import { cliEnv, measuredRun } from './measured-run.ts';
import type { Meter, Sample } from './meter.ts';

// Cold starts: every variant run once (a warm-up), then all of them interleaved round by round (a noisy neighbour
// hits them alike), each from an empty working directory, as at a task start.

export interface Variant {
  readonly id: string;
  readonly label: string;
  readonly argv: readonly string[];
  readonly env?: Record<string, string>;
  /**
   * Node's compile cache. `image`: the one the init image bakes for the bundle in that directory (fillImageCache),
   * a fresh copy for every run, as every task starts from the image; `warm`: a NODE_COMPILE_CACHE directory kept
   * across the variant's runs (filled by its warm-up run); `default`: no NODE_COMPILE_CACHE (the npm bin: cli/bin.ts
   * enables Node's default cache, under TMPDIR, kept across runs). Without it the cache is off.
   */
  readonly cache?: { readonly image: string } | 'warm' | 'default';
  /** Credentials from the task-role endpoint (as on ECS), not from the environment. */
  readonly taskRole?: boolean;
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
  const image = (entry: string) => ({ image: dirname(entry) });
  const layer = (start: ImageStart) => layers.find((l) => l.start === start)!;
  const unpack = (start: ImageStart): Variant => ({
    id: `unpack-${start}`,
    label: `unpacking the layer it adds (${layer(start).label}; \`tar -xzf\`)`,
    argv: ['tar', '-xzf', layer(start).file],
  });
  const variants: Variant[] = [
    { id: 'floor', label: '`node -e 0` (the floor)', argv: [NODE, '-e', '0'] },
    { id: 'floor-snapshot', label: 'an empty startup snapshot', argv: [NODE, '--snapshot-blob', b.emptySnapshot] },
    { id: 'render-1', label: '`render`, 1 secret', argv: [NODE, b.shipped], env: one, cache: image(b.shipped) },
    { id: 'render-20', label: '`render`, 20 secrets', argv: [NODE, b.shipped], env: twenty, cache: image(b.shipped) },
    {
      id: 'render-local',
      label: '`render`, local mode (dotenv, no AWS)',
      argv: [NODE, b.shipped],
      cache: image(b.shipped),
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
      cache: 'warm',
    },
    { id: 'aws-1', label: '`aws` CLI + `jq`, 1 secret', argv: ['sh', baseline], env: one },
    { id: 'aws-20', label: '`aws` CLI + `jq`, 20 secrets', argv: ['sh', baseline], env: twenty, every: awsEvery },
    { id: 'off-cache', label: 'compile cache off', argv: [NODE, b.shipped], env: one },
    {
      id: 'off-lazy',
      label: 'lazy built-ins off (eager `import`)',
      argv: [NODE, b.eager],
      env: one,
      cache: image(b.eager),
    },
    { id: 'off-minify', label: 'minify off', argv: [NODE, b.unminified], env: one, cache: image(b.unminified) },
    {
      id: 'off-bundle',
      label: 'bundling off (`node cli/bin.ts`, sources + node_modules)',
      argv: [NODE, join(ROOT, 'cli', 'bin.ts')],
      env: one,
      cache: 'warm',
    },
    ...splitVariants(b, one),
    unpack('shipped'),
    unpack('single'),
    unpack('snapshot'),
  ];
  return variants;
}

/** The render starts compared split (shipped) against one file: `split-<start>-<cache>` and `single-<start>-<cache>`. */
export const SPLIT_STARTS = [
  { start: 'help', label: '`render --help`', args: ['render', '--help'] },
  { start: 'local', label: '`render`, local mode (dotenv, no AWS)', args: [], dotenv: true },
  { start: 'sm', label: '`render`, 1 secret, credentials in the environment', args: [], one: true },
  {
    start: 'task-role',
    label: '`render`, 1 secret, task-role credentials (as on ECS)',
    args: [],
    one: true,
    taskRole: true,
  },
] as const;

/** How the split is compared: with the image's compile cache, without a cache, and as the npm bin (local mode only). */
export const SPLIT_CACHES = [
  { cache: 'image', label: "the image's" },
  { cache: 'none', label: 'none' },
  { cache: 'default', label: 'npm bin: no NODE_COMPILE_CACHE' },
] as const;

/**
 * The id of a start in the split-against-one-file comparison. Three of the shipped bundle's are rows of the main
 * table already (the same runs): `render-1`, `off-cache`, `render-local`.
 */
export function splitId(kind: 'split' | 'single', start: string, cache: string): string {
  const shared: Record<string, string> = {
    'sm-image': 'render-1',
    'sm-none': 'off-cache',
    'local-image': 'render-local',
  };
  return (kind === 'split' && shared[`${start}-${cache}`]) || `${kind}-${start}-${cache}`;
}

function splitVariants(b: Bundles, one: Record<string, string>): Variant[] {
  const out: Variant[] = [];
  for (const [kind, entry] of [
    ['split', b.shipped],
    ['single', b.single],
  ] as const) {
    for (const s of SPLIT_STARTS) {
      for (const c of SPLIT_CACHES) {
        const id = splitId(kind, s.start, c.cache);
        if ((c.cache === 'default' && s.start !== 'local') || !id.startsWith(kind)) continue;
        out.push({
          id,
          label: `${s.label}, ${kind === 'split' ? 'split' : 'one file'}, cache: ${c.label}`,
          argv: [NODE, entry, ...s.args],
          ...('one' in s && { env: one }),
          ...('dotenv' in s && { dotenv: true }),
          ...('taskRole' in s && { taskRole: true }),
          ...(c.cache === 'image' && { cache: { image: dirname(entry) } }),
          ...(c.cache === 'default' && { cache: 'default' as const }),
        });
      }
    }
  }
  return out;
}

export async function measureColdStart(
  meter: Meter,
  o: {
    readonly dir: string;
    readonly home: string;
    readonly endpoint: string;
    /** The task-role credentials endpoint (bench/task-role-endpoint.ts). */
    readonly taskRoleUrl: string;
    readonly variants: readonly Variant[];
    readonly runs: number;
    readonly say: (s: string) => void;
  },
): Promise<Map<string, Measured>> {
  const samples = new Map<string, Sample[]>(o.variants.map((v) => [v.id, []]));
  const work = (v: Variant) => join(o.dir, 'work', v.id);
  // The image's cache of each bundle directory, filled once, copied fresh into every run that starts from it.
  const imageCaches = new Map<string, string>();
  for (const v of o.variants) {
    if (typeof v.cache !== 'object' || imageCaches.has(v.cache.image)) continue;
    const cache = join(o.dir, 'image-cache', String(imageCaches.size));
    fillImageCache(v.cache.image, cache);
    imageCaches.set(v.cache.image, cache);
  }
  const cacheEnv = (v: Variant): Record<string, string> => {
    if (v.cache === 'warm') return { NODE_COMPILE_CACHE: join(o.dir, 'cache', v.id) };
    if (v.cache === 'default') return { TMPDIR: join(o.dir, 'tmpdir', v.id) };
    if (v.cache === undefined) return { NODE_DISABLE_COMPILE_CACHE: '1' };
    const copy = join(work(v), 'compile-cache');
    cpSync(imageCaches.get(v.cache.image)!, copy, { recursive: true });
    return { NODE_COMPILE_CACHE: copy };
  };
  const runOnce = async (v: Variant, round: number) => {
    rmSync(work(v), { recursive: true, force: true }); // a fresh volume, as at every task start
    mkdirSync(work(v), { recursive: true });
    if (v.cache === 'default') mkdirSync(join(o.dir, 'tmpdir', v.id), { recursive: true });
    const env = prepareRun(v, o, work(v), cacheEnv(v));
    return (await measuredRun(meter, o.dir, `${v.id} (round ${round})`, { argv: v.argv, env, cwd: work(v) })).sample;
  };

  o.say(`warm-up: one run of each of ${o.variants.length} variants`);
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
 * The environment of one run of `v` in its fresh working directory `work` (and the dotenv file of a local render in
 * it): the bench's AWS endpoint and empty HOME, the render's settings, `cache`'s compile cache settings.
 */
export function prepareRun(
  v: Variant,
  o: { readonly home: string; readonly endpoint: string; readonly taskRoleUrl: string },
  work: string,
  cache: Record<string, string>,
): Record<string, string> {
  if (v.dotenv) writeFileSync(join(work, '.env'), 'LOCAL_ONE=1\nLOCAL_TWO=two\n');
  const env = cliEnv(o.home, o.endpoint, {
    AWS_DEFAULT_REGION: 'us-east-1', // the aws CLI baseline reads this one
    APP_ENV: v.dotenv ? 'local' : 'production',
    SECRETS_DIR: join(work, 'out'),
    ...cache,
    ...v.env,
  });
  if (v.taskRole) {
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI = o.taskRoleUrl;
  }
  return env;
}

/**
 * The variants compared write the same env file: the snapshot and the one-file bundle byte for byte; the `aws`
 * baseline the same variables (values byte for byte; only the line order differs).
 */
function checkSameEnvFiles(appEnv: (id: string) => string): void {
  const sorted = (id: string) => appEnv(id).split('\n').filter(Boolean).sort().join('\n');
  if (sorted('render-20') !== sorted('aws-20')) throw new Error('the aws CLI baseline wrote a different env file');
  if (appEnv('render-20') !== appEnv('snapshot-20')) throw new Error('the snapshot wrote a different env file');
  for (const start of ['local', 'sm', 'task-role']) {
    if (appEnv(splitId('split', start, 'image')) !== appEnv(splitId('single', start, 'image'))) {
      throw new Error(`the one-file bundle wrote a different env file (${start})`);
    }
  }
}
