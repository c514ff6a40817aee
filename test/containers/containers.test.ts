import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse } from 'dotenv';
import { debrisIn, leakedValues, recordOutput, seedValues, visibleNames } from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { SEED_SECRET, SEED_SECRET_NAME, SEED_VALUES } from '../helpers/seed.ts';
import { compressedLayers, type ImageLayer } from './image-layers.ts';
import { type Podman, ROOT, type RunResult, run, setupPodman } from './podman.ts';
import { startRegistry } from './registry.ts';

/**
 * Builds Dockerfile.init and Dockerfile.app unchanged with podman and runs them the way ECS and
 * `docker compose` do: init against moto (production) or a dotenv file (local) into a shared volume,
 * then the non-root app with that volume read-only. Prints the image facts that docs/images.md quotes.
 */

// The names manifests/compose.yaml uses, so compose runs exactly the images built here.
const INIT_IMAGE = 'localhost/ecs-secrets-init/init:local';
const APP_IMAGE = 'localhost/ecs-secrets-init/app:local';
/** The init image's base: the FROM of Dockerfile.init's `init` stage. */
const INIT_BASE = /^FROM (\S+) AS init$/m.exec(readFileSync(join(ROOT, 'Dockerfile.init'), 'utf8'))![1]!;
/** Dockerfile.init's `init-snapshot` target: the init image started from a V8 startup snapshot (not shipped). */
const SNAPSHOT_IMAGE = 'localhost/ecs-secrets-init/init-snapshot:local';
/** The platform the init image is built for, named as docs/deploy-by-hand.md builds it (the task's, there). */
const PLATFORM = `linux/${process.arch === 'arm64' ? 'arm64' : 'amd64'}`;
const COMPOSE_FILE = join(ROOT, 'manifests', 'compose.yaml');
const COMPOSE_MOTO = join(ROOT, 'test', 'containers', 'compose.moto.yaml');
const REQUIRED = 'OPENAI_API_KEY,PINECONE_API_KEY,GCP_PROJECT_ID,APP_SECRET_KEY,MILVUS_HOST,MILVUS_PORT';
/** What app.env holds: the seeded keys, with the GCP JSON replaced by the path of its file. */
const APP_KEYS = [
  ...Object.keys(SEED_SECRET).filter((k) => k !== 'GOOGLE_APPLICATION_CREDENTIALS_JSON'),
  'GOOGLE_APPLICATION_CREDENTIALS',
];
const EXAMPLE_ENV = readFileSync(join(ROOT, 'examples', '.env'), 'utf8');
/** Per-run HMAC key: the app prints HMAC(key, value) digests, which the test recomputes; never a value. */
const DIGEST_KEY = randomBytes(16).toString('hex');
const hmac = (value: string | Buffer) => createHmac('sha256', DIGEST_KEY).update(value).digest('hex');

let pm: Podman;
let moto: Moto;
let work: string;

interface Report {
  app: string;
  user: { uid: number; gid: number; groups: number[]; name: string | null };
  pid: number;
  present: string[];
  missing: string[];
  envNames: string[];
  gcpCredentials: {
    named: boolean;
    path?: string;
    readable?: boolean;
    parses?: boolean;
    type?: string | null;
    hasPrivateKey?: boolean;
    digest?: string;
  };
  secretsDirWritable: boolean;
  digests?: Record<string, string>;
}

function fact(line: string): void {
  process.stdout.write(`# ${line}\n`);
}

/** Records the output for the leak scan and fails with the output when the exit code differs. */
function expectCode(res: RunResult, code: number, what: string): RunResult {
  recordOutput(`${res.stdout}\n${res.stderr}`);
  assert.equal(res.code, code, `${what}: exit ${res.code}, expected ${code}\n${res.stdout}\n${res.stderr}`);
  return res;
}

function lastReport(stdout: string): Report {
  const lines = stdout
    .split('\n')
    .map((l) => l.replace(/^[\w.-]+\s+\|\s/, '')) // compose log prefix "app_1  | "
    .filter((l) => l.startsWith('{"app":"secrets-demo","user"'));
  assert.ok(lines.length > 0, `no report in app output:\n${stdout}`);
  return JSON.parse(lines.at(-1)!) as Report;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function inspect(container: string, format: string): Promise<string> {
  const res = await pm.podman(['inspect', '--format', format, container]);
  return res.code === 0 ? res.stdout.trim() : '';
}

const waitExited = (container: string, timeoutMs = 60_000) =>
  waitFor(
    `${container} to exit`,
    async () => ((await inspect(container, '{{.State.Status}}')) === 'exited' ? true : undefined),
    timeoutMs,
  );

async function volumePath(volume: string): Promise<string> {
  const res = expectCode(await pm.podman(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume]), 0, 'inspect');
  return res.stdout.trim();
}

function describeMode(path: string): string {
  const s = statSync(path);
  return `${(s.mode & 0o7777).toString(8).padStart(4, '0')} ${s.uid}:${s.gid}`;
}

/** `store`: podman's storage options, to run from another image store than the one the images were built in. */
const initProduction = (
  volume: string,
  secretName: string,
  extra: string[] = [],
  { image = INIT_IMAGE, store = [] as string[] } = {},
) =>
  pm.podman([
    ...store,
    'run',
    '--rm',
    '--pull=never',
    '--network=host',
    // As an ECS task definition should run it: read-only root file system, no capabilities.
    '--read-only',
    '--cap-drop=ALL',
    '-v',
    `${volume}:/run/secrets`,
    ...Object.entries({
      ...awsEnv(moto.endpoint),
      APP_ENV: 'production',
      SECRET_NAME: secretName,
      SECRETS_REQUIRED: REQUIRED,
    }).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    ...extra,
    image,
  ]);

/** Runs the app image (removed afterwards unless detached: a detached run is inspected, then removed). */
const appRun = (volume: string, extra: string[] = [], cmd: string[] = [], image = APP_IMAGE) =>
  pm.podman([
    'run',
    ...(extra.includes('-d') ? [] : ['--rm']),
    '--pull=never',
    '--network=none',
    '-v',
    `${volume}:/run/secrets:ro`,
    '-e',
    `SECRETS_REQUIRED=${REQUIRED}`,
    '-e',
    `REPORT_KEYS=${APP_KEYS.join(',')}`,
    '-e',
    `REPORT_DIGEST_KEY=${DIGEST_KEY}`,
    ...extra,
    image,
    ...cmd,
  ]);

before(async () => {
  seedValues(SEED_VALUES);
  work = mkdtempSync(join(tmpdir(), 'secrets-init-containers-'));
  const t0 = Date.now();
  pm = await setupPodman();
  fact(`podman setup and local base images: ${Date.now() - t0} ms (state in ${pm.stateDir})`);
  for (const [file, tag, platform] of [
    ['Dockerfile.init', INIT_IMAGE, ['--platform', PLATFORM]],
    ['Dockerfile.app', APP_IMAGE, []],
  ] as const) {
    const res = await pm.podman(['build', '--pull=never', ...platform, '-f', file, '-t', tag, '.'], {
      timeoutMs: 600_000,
    });
    assert.equal(
      res.code,
      0,
      `podman build -f ${file} failed:\n${res.stdout.slice(-4000)}\n${res.stderr.slice(-4000)}`,
    );
    fact(`podman build -f ${file}: ${res.ms} ms`);
  }
  moto = await startMoto();
  const sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  try {
    await sm.send(new CreateSecretCommand({ Name: SEED_SECRET_NAME, SecretString: JSON.stringify(SEED_SECRET) }));
  } finally {
    sm.destroy();
  }
});

after(async () => {
  await moto?.stop();
  await pm?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  const leaks = leakedValues();
  assert.deepEqual(leaks.length, 0, 'a seeded secret value appeared in container output');
});

describe('images', () => {
  test('the init image holds Node, the bundle (entry and chunks, read-only) and its compile cache only, and runs as 65532:10001', async () => {
    const meta = JSON.parse(expectCode(await pm.podman(['image', 'inspect', INIT_IMAGE]), 0, 'inspect').stdout)[0];
    assert.equal(meta.Config.User, '65532:10001');
    assert.deepEqual(meta.Config.Entrypoint, ['/nodejs/bin/node', '/app/secrets-init.mjs']);
    assert.deepEqual(meta.Config.Cmd, ['render']);
    assert.deepEqual(Object.keys(meta.Config.Volumes ?? {}), ['/run/secrets']);
    assert.ok(
      (meta.Config.Env as string[]).includes('NODE_COMPILE_CACHE=/app/compile-cache'),
      'NODE_COMPILE_CACHE is set',
    );

    const root = expectCode(await pm.podman(['image', 'mount', INIT_IMAGE]), 0, 'image mount').stdout.trim();
    try {
      const files = walk(root);
      const names = [...files.keys()];
      assert.deepEqual(
        names.filter((p) => /(^|\/)(npm|npx|yarn|corepack|node_modules)(\/|$)|\.ts$|package\.json$/.test(p)),
        [],
        'no npm, no node_modules, no sources',
      );
      for (const shell of ['/bin/sh', '/bin/bash', '/bin/busybox', '/usr/bin/env']) {
        assert.ok(!files.has(shell), `no ${shell} in the final image`);
      }
      // What `npm run build` wrote (the same sources and lock file, so the same chunk names), and nothing else.
      const chunks = readdirSync(join(ROOT, 'dist', 'chunks')).sort();
      assert.deepEqual(
        names.filter((p) => p.startsWith('/app/') && !p.startsWith('/app/compile-cache/')),
        ['/app/chunks', ...chunks.map((c) => `/app/chunks/${c}`), '/app/compile-cache', '/app/secrets-init.mjs'],
      );
      assert.equal(describeMode(join(root, 'app/chunks')), '0555 0:0', '/app/chunks');
      for (const f of ['secrets-init.mjs', ...chunks.map((c) => `chunks/${c}`)]) {
        assert.equal(describeMode(join(root, 'app', f)), '0444 0:0', `/app/${f}`);
      }
      assert.ok(
        names.some((p) => /^\/app\/compile-cache\/v24\.[^/]+-65532\/[0-9a-f]+$/.test(p)),
        `a compile cache entry for uid 65532: ${names.filter((p) => p.startsWith('/app/compile-cache'))}`,
      );
      assert.equal(describeMode(join(root, 'run/secrets')), '0750 65532:10001', '/run/secrets in the image');
      assert.deepEqual(readdirSync(join(root, 'run/secrets')), []);

      const size = Number(meta.Size);
      const groups = new Map<string, number>();
      for (const [p, bytes] of files) {
        const group = p.startsWith('/nodejs/')
          ? 'node binary (/nodejs)'
          : p === '/app/secrets-init.mjs' || p.startsWith('/app/chunks')
            ? 'bundle (/app/secrets-init.mjs, /app/chunks)'
            : p.startsWith('/app/compile-cache')
              ? 'compile cache (/app/compile-cache)'
              : /^\/(lib|lib64|usr\/lib)\//.test(p)
                ? 'shared libraries (glibc, libstdc++)'
                : 'other (/etc: passwd, group, CA bundle)';
        groups.set(group, (groups.get(group) ?? 0) + bytes);
      }
      fact(`init image ${INIT_IMAGE}: ${mb(size)}, user ${meta.Config.User}, ${files.size} paths`);
      for (const [g, bytes] of [...groups].sort((a, b) => b[1] - a[1])) fact(`  ${g}: ${mb(bytes)}`);
      assert.ok(size < 200e6, `init image is ${mb(size)}: more than Node plus a bundle`);
    } finally {
      await pm.podman(['image', 'unmount', INIT_IMAGE]);
    }
  });

  test('the compile cache is accepted at start and measured against a cold start', async () => {
    const debug = expectCode(
      await pm.podman([
        'run',
        '--rm',
        '--pull=never',
        '--read-only',
        '--network=none',
        '-e',
        'NODE_DEBUG_NATIVE=COMPILE_CACHE',
        INIT_IMAGE,
        'render',
        '--help',
      ]),
      0,
      'render --help',
    );
    assert.match(debug.stderr + debug.stdout, /V8 code cache for ESM file:\/\/\/app\/secrets-init\.mjs was accepted/);
    assert.match(debug.stderr, /V8 code cache for ESM file:\/\/\/app\/chunks\/start-\w+\.mjs was accepted/);
    // A Secrets Manager render loads chunks `render --help` does not: the image caches every chunk, so it compiles
    // none of them either (Node says "was not initialized" for a module it finds no cache entry for).
    const volume = 'compile-cache';
    expectCode(await pm.podman(['volume', 'create', volume]), 0, 'volume create');
    const production = expectCode(
      await initProduction(volume, SEED_SECRET_NAME, ['-e', 'NODE_DEBUG_NATIVE=COMPILE_CACHE']),
      0,
      'render (production)',
    );
    assert.match(
      production.stderr,
      /V8 code cache for ESM file:\/\/\/app\/chunks\/secrets-manager-wiring-\w+\.mjs was accepted/,
    );
    assert.deepEqual(
      production.stderr.split('\n').filter((l) => /file:\/\/\/app\/.* was not initialized/.test(l)),
      [],
      'modules compiled without the cache',
    );

    // Interleaved runs inside one container (no podman start-up in the numbers): a local render of a
    // small dotenv file with the baked cache, and with the cache disabled.
    const script = join(work, 'measure.cjs');
    writeFileSync(script, MEASURE_SCRIPT);
    const res = expectCode(
      await pm.podman([
        'run',
        '--rm',
        '--pull=never',
        '--read-only',
        '--network=none',
        '--tmpfs',
        '/tmp:mode=1777',
        '-v',
        `${script}:/measure.cjs:ro`,
        '--entrypoint',
        '/nodejs/bin/node',
        INIT_IMAGE,
        '/measure.cjs',
        '15',
      ]),
      0,
      'measure',
    );
    const m = JSON.parse(res.stdout) as { cached: number; cold: number; bare: number };
    fact(
      `cold start of a local render (median of 15, in the container): ${m.cached.toFixed(0)} ms with the baked ` +
        `compile cache, ${m.cold.toFixed(0)} ms without (saves ${(m.cold - m.cached).toFixed(0)} ms, ` +
        `${((1 - m.cached / m.cold) * 100).toFixed(0)}%); bare node -e 0: ${m.bare.toFixed(0)} ms`,
    );
  });

  test('as a registry stores it (Fargate downloads it at every task start): the base and each layer we add', async () => {
    const layers = await compressedLayers(pm, INIT_IMAGE, join(work, 'layers'));
    const base = JSON.parse(expectCode(await pm.podman(['image', 'inspect', INIT_BASE]), 0, 'inspect base').stdout)[0];
    const baseCount = (base.RootFS.Layers as string[]).length;
    const ours = layers.slice(baseCount);
    const sum = (list: readonly ImageLayer[], key: 'gzipBytes' | 'zstdBytes') => list.reduce((n, l) => n + l[key], 0);
    const size = (list: readonly ImageLayer[]) =>
      `${compressed(sum(list, 'gzipBytes'))} gzip, ${compressed(sum(list, 'zstdBytes'))} zstd`;
    fact(`init image compressed (what a registry stores and Fargate pulls per task): ${size(layers)} (target: 50 MB)`);
    fact(`  base ${INIT_BASE} (this machine's stand-in, ${baseCount} layer): ${size(layers.slice(0, baseCount))}`);
    for (const l of ours) fact(`  ${describeStep(l.createdBy)}: ${size([l])}`);
    fact(`  the layers Dockerfile.init adds: ${size(ours)}`);
    // What we control: a dependency tree, the sources or a second Node in a layer would be megabytes.
    assert.ok(sum(ours, 'gzipBytes') < 1e6, `the layers Dockerfile.init adds are ${size(ours)}`);
  });

  test("the init-snapshot target: a blob written by the image's own Node, rendering what the init image renders", async () => {
    const res = await pm.podman(
      [
        'build',
        '--pull=never',
        '--platform',
        PLATFORM,
        '-f',
        'Dockerfile.init',
        '--target',
        'init-snapshot',
        '-t',
        SNAPSHOT_IMAGE,
        '.',
      ],
      { timeoutMs: 600_000 },
    );
    assert.equal(
      res.code,
      0,
      `podman build --target init-snapshot failed:\n${res.stdout.slice(-4000)}\n${res.stderr.slice(-4000)}`,
    );
    fact(`podman build -f Dockerfile.init --target init-snapshot (after the init image): ${res.ms} ms`);
    const meta = JSON.parse(expectCode(await pm.podman(['image', 'inspect', SNAPSHOT_IMAGE]), 0, 'inspect').stdout)[0];
    assert.deepEqual(meta.Config.Entrypoint, ['/nodejs/bin/node', '--snapshot-blob', '/app/secrets-init.blob', '--']);
    assert.equal(meta.Config.User, '65532:10001');

    // The same secret rendered by each image: the same files, byte for byte. The snapshot start loads no module of
    // the bundle (Node's compile-cache log names each ES module it loads; the snapshot has them in its heap).
    const volumes = { init: 'snapshot-ref', snapshot: 'snapshot-ok' };
    for (const v of Object.values(volumes)) expectCode(await pm.podman(['volume', 'create', v]), 0, 'volume create');
    const debug = ['-e', 'NODE_DEBUG_NATIVE=COMPILE_CACHE'];
    const bundleModules = (stderr: string) => stderr.split('\n').filter((l) => /file:\/\/\/app\//.test(l));
    const fromBundle = expectCode(await initProduction(volumes.init, SEED_SECRET_NAME, debug), 0, 'render (init)');
    assert.notDeepEqual(bundleModules(fromBundle.stderr), [], 'the init image logs the modules it loads');
    const fromBlob = expectCode(
      await initProduction(volumes.snapshot, SEED_SECRET_NAME, debug, { image: SNAPSHOT_IMAGE }),
      0,
      'render (init-snapshot image)',
    );
    assert.match(fromBlob.stdout, /"event":"render.done"/);
    assert.deepEqual(bundleModules(fromBlob.stderr), [], 'modules of the bundle loaded by a start from the snapshot');
    const [ref, snap] = [await volumePath(volumes.init), await volumePath(volumes.snapshot)];
    assert.deepEqual(visibleNames(snap), visibleNames(ref));
    for (const f of ['app.env', 'gcp-credentials.json']) {
      assert.ok(readFileSync(join(snap, f)).equals(readFileSync(join(ref, f))), `${f} differs between the images`);
      assert.equal(describeMode(join(snap, f)), describeMode(join(ref, f)), f);
    }

    // A missing secret: the same exit code and the same one line.
    const missing = 'short-cut/prod/not-there';
    const errors: string[] = [];
    for (const image of [INIT_IMAGE, SNAPSHOT_IMAGE]) {
      const volume = `snapshot-missing-${errors.length}`;
      expectCode(await pm.podman(['volume', 'create', volume]), 0, 'volume create');
      errors.push(expectCode(await initProduction(volume, missing, [], { image }), 3, `render ${image}`).stderr);
      assert.deepEqual(readdirSync(await volumePath(volume)), []);
    }
    assert.equal(errors[1], errors[0]);

    // What it would add to every Fargate task start's download: the blob's layer.
    const [init, snapshot] = [
      await compressedLayers(pm, INIT_IMAGE, join(work, 'layers')),
      await compressedLayers(pm, SNAPSHOT_IMAGE, join(work, 'snapshot-layers')),
    ];
    const added = snapshot.slice(init.length);
    assert.equal(added.length, 1, `init-snapshot adds ${added.length} layers to the init image`);
    fact(
      `init-snapshot: the blob's layer adds ${compressed(added[0]!.gzipBytes)} gzip, ` +
        `${compressed(added[0]!.zstdBytes)} zstd to the init image (not shipped: docs/performance.md)`,
    );
  });

  test('flags reach the CLI through the entrypoint, and log lines name no pid or host', async () => {
    const help = expectCode(
      await pm.podman(['run', '--rm', '--pull=never', '--network=none', INIT_IMAGE, '--help']),
      0,
      '--help',
    );
    assert.match(help.stdout, /^Usage: secrets-init \[COMMAND\]/);
    const dotenv = join(work, 'flags.env');
    writeFileSync(dotenv, 'GREETING=hello\n', { mode: 0o644 });
    const host = `runtime-${randomBytes(4).toString('hex')}`;
    const local = expectCode(
      await pm.podman([
        'run',
        '--rm',
        '--pull=never',
        '--network=none',
        '--read-only',
        '--hostname',
        host,
        '-v',
        `${dotenv}:/config/.env:ro`,
        INIT_IMAGE,
        'render',
        '--app-env',
        'local',
      ]),
      0,
      'render --app-env local',
    );
    const lines = local.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      lines.some((l) => l.event === 'render.done'),
      local.stdout,
    );
    for (const line of lines) {
      assert.equal('pid' in line || 'hostname' in line, false, JSON.stringify(line));
    }
    assert.ok(!local.stdout.includes(host), "the container's host name is in no log line");
  });

  test('the same image runs the watcher: `watch --help` exits 0', async () => {
    const res = expectCode(
      await pm.podman(['run', '--rm', '--pull=never', '--network=none', INIT_IMAGE, 'watch', '--help']),
      0,
      'watch --help',
    );
    assert.match(res.stdout, /secrets-init watch/);
  });

  test('the app image runs as 1000:10001 with secrets-entrypoint as its ENTRYPOINT', async () => {
    const meta = JSON.parse(expectCode(await pm.podman(['image', 'inspect', APP_IMAGE]), 0, 'inspect').stdout)[0];
    assert.equal(meta.Config.User, '1000:10001');
    assert.deepEqual(meta.Config.Entrypoint, ['/usr/local/bin/secrets-entrypoint']);
    assert.deepEqual(meta.Config.Cmd, ['node', '/app/report.mjs']);
    assert.equal(meta.Config.Volumes?.['/run/secrets'], undefined, 'the app image does not declare the volume');
    fact(`app image ${APP_IMAGE}: ${mb(Number(meta.Size))}, user ${meta.Config.User}`);
  });
});

describe('init then app, as ECS runs them (podman, moto on the host network)', () => {
  test('production: init exits 0 and leaves three files; the non-root app sees exactly the secret', async () => {
    const volume = 'prod-ok';
    expectCode(await pm.podman(['volume', 'create', volume]), 0, 'volume create');
    const init = expectCode(await initProduction(volume, SEED_SECRET_NAME), 0, 'init');
    assert.match(init.stdout, /"event":"render.done"/);

    const dir = await volumePath(volume);
    assert.deepEqual(visibleNames(dir), ['app.env', 'gcp-credentials.json', 'render.json']);
    assert.deepEqual(debrisIn(dir), []);
    // The volume took the image's directory (owner and mode) on first mount, as on ECS.
    assert.equal(describeMode(dir), '0750 65532:10001', 'volume root');
    assert.equal(describeMode(join(dir, '..data')), '0750 65532:10001', 'the set directory');
    for (const f of visibleNames(dir)) assert.equal(describeMode(join(dir, f)), '0440 65532:10001', f);

    const app = expectCode(await appRun(volume), 0, 'app');
    const report = lastReport(app.stdout);
    assert.equal(report.user.uid, 1000);
    assert.equal(report.user.gid, 10001);
    assert.deepEqual(report.missing, []);
    assert.deepEqual(report.present.sort(), [...APP_KEYS].sort());
    assert.ok(!report.envNames.includes('GOOGLE_APPLICATION_CREDENTIALS_JSON'), 'the JSON key is a file only');
    assert.equal(report.secretsDirWritable, false, 'the app mounts /run/secrets read-only');
    // Digests of what the app's environment holds against the seeded values (quotes, $(), backticks).
    const expected = Object.fromEntries(
      APP_KEYS.filter((k) => k !== 'GOOGLE_APPLICATION_CREDENTIALS').map((k) => [k, hmac(SEED_SECRET[k]!)]),
    );
    const { GOOGLE_APPLICATION_CREDENTIALS: gacDigest, ...digests } = report.digests ?? {};
    assert.deepEqual(digests, expected);
    assert.equal(gacDigest, hmac('/run/secrets/gcp-credentials.json'));
    assert.equal(report.gcpCredentials.path, '/run/secrets/gcp-credentials.json');
    assert.equal(report.gcpCredentials.readable, true);
    assert.equal(report.gcpCredentials.parses, true);
    assert.equal(report.gcpCredentials.type, 'service_account');
    assert.equal(report.gcpCredentials.hasPrivateKey, true);
    assert.deepEqual(
      JSON.parse(readFileSync(join(dir, 'gcp-credentials.json'), 'utf8')),
      JSON.parse(SEED_SECRET.GOOGLE_APPLICATION_CREDENTIALS_JSON!),
    );
    assert.equal(report.gcpCredentials.digest, hmac(readFileSync(join(dir, 'gcp-credentials.json'))));
  });

  test('the entrypoint execs the app as PID 1, so SIGTERM stops it at once with status 0', async () => {
    const volume = 'prod-signal';
    expectCode(await pm.podman(['volume', 'create', volume]), 0, 'volume create');
    expectCode(await initProduction(volume, SEED_SECRET_NAME), 0, 'init');
    const name = 'app-signal';
    expectCode(
      await appRun(volume, ['-d', '--name', name], ['node', '/app/report.mjs', '--stay']).then((r) => ({
        ...r,
        stdout: '',
      })),
      0,
      'app -d',
    );
    const report = await waitFor('the app report', async () => {
      const logs = await pm.podman(['logs', name]);
      return logs.stdout.includes('"app":"secrets-demo"') ? lastReport(logs.stdout) : undefined;
    });
    assert.equal(report.pid, 1, 'the app is PID 1: secrets-entrypoint must exec it, not run it as a child');
    const stop = await pm.podman(['stop', '--time', '10', name]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await inspect(name, '{{.State.ExitCode}}'), '0');
    assert.ok(stop.ms < 5000, `podman stop took ${stop.ms} ms: SIGTERM did not reach the app`);
    const logs = await pm.podman(['logs', name]);
    recordOutput(logs.stdout + logs.stderr);
    assert.match(logs.stdout, /"stopped":"SIGTERM"/);
    await pm.podman(['rm', name]);
  });

  test('a uid outside the shared group cannot read the secrets: the entrypoint stops with one line', async () => {
    const volume = 'prod-other-uid';
    expectCode(await pm.podman(['volume', 'create', volume]), 0, 'volume create');
    expectCode(await initProduction(volume, SEED_SECRET_NAME), 0, 'init');
    const app = expectCode(await appRun(volume, ['--user', '1234:1234']), 1, 'app as 1234:1234');
    assert.equal(app.stdout, '', 'the app did not start');
    assert.match(app.stderr, /secrets-entrypoint: .*\/run\/secrets.*(not readable|cannot enter)/);
  });

  test('a missing secret: init exits 3 with one line, writes nothing, and an app started anyway refuses', async () => {
    const volume = 'prod-missing';
    expectCode(await pm.podman(['volume', 'create', volume]), 0, 'volume create');
    const init = expectCode(await initProduction(volume, 'short-cut/prod/does-not-exist'), 3, 'init');
    const lines = init.stderr.trim().split('\n');
    assert.equal(lines.length, 1, init.stderr);
    assert.match(lines[0]!, /short-cut\/prod\/does-not-exist/);
    assert.deepEqual(readdirSync(await volumePath(volume)), []);
    const app = expectCode(await appRun(volume), 1, 'app without app.env');
    assert.equal(app.stdout, '');
    assert.match(app.stderr, /secrets-entrypoint: \/run\/secrets\/app\.env does not exist/);
  });
});

describe('docker-compose (v1) against the podman socket', () => {
  const project = (name: string) => `si${name}`;
  const composeIn = (name: string, files: string[], args: string[], env: Record<string, string>) =>
    pm.compose(['-p', project(name), ...files.flatMap((f) => ['-f', f]), ...args], {
      env: { REPORT_DIGEST_KEY: DIGEST_KEY, ...env },
      timeoutMs: 180_000,
    });
  const down = (name: string, files: string[], env: Record<string, string>) =>
    composeIn(name, files, ['--profile', 'watch', 'down', '--volumes', '--timeout', '5'], env);

  function envDir(name: string, content: string): { DOTENV_FILE: string; DOTENV_DIR: string } {
    const dir = mkdtempSync(join(work, `${name}-`));
    // The watch profile mounts the folder: the init user (65532) must be able to enter it.
    chmodSync(work, 0o755);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, '.env'), content, { mode: 0o644 });
    return { DOTENV_FILE: join(dir, '.env'), DOTENV_DIR: dir };
  }
  const exampleValues = parse(EXAMPLE_ENV);

  test('config validates without a daemon', async () => {
    const res = await pm.compose(['-f', COMPOSE_FILE, '--profile', 'watch', 'config', '--quiet']);
    assert.equal(res.code, 0, res.stderr);
  });

  test('local mode: up runs init to completion, then the app, which sees the .env values', async () => {
    const env = envDir('local', EXAMPLE_ENV);
    try {
      const up = expectCode(await composeIn('local', [COMPOSE_FILE], ['up', '-d', '--no-build'], env), 0, 'up');
      await waitExited(`${project('local')}_app_1`);
      assert.equal(await inspect(`${project('local')}_init_1`, '{{.State.ExitCode}}'), '0', up.stderr);
      assert.equal(await inspect(`${project('local')}_app_1`, '{{.State.ExitCode}}'), '0');
      const initDone = Date.parse(await inspect(`${project('local')}_init_1`, '{{.State.FinishedAt}}'));
      const appStart = Date.parse(await inspect(`${project('local')}_app_1`, '{{.State.StartedAt}}'));
      assert.ok(appStart >= initDone, `app started ${appStart - initDone} ms before init finished`);

      const logs = await pm.podman(['logs', `${project('local')}_app_1`]);
      recordOutput(logs.stdout + logs.stderr);
      const report = lastReport(logs.stdout);
      assert.deepEqual(report.missing, []);
      assert.deepEqual(report.present.sort(), REQUIRED.split(',').sort());
      assert.equal(report.user.uid, 1000);
      assert.equal(report.gcpCredentials.parses, true);
      assert.equal(report.gcpCredentials.type, 'service_account');
      assert.equal(report.secretsDirWritable, false);
      for (const k of REQUIRED.split(',')) assert.equal(report.digests?.[k], hmac(exampleValues[k]!), k);

      // The volume is a tmpfs owned by the init user and the shared group.
      const mounts = await pm.podman([
        'run',
        '--rm',
        '--pull=never',
        '-v',
        `${project('local')}_secrets:/s:ro`,
        '--entrypoint',
        '/nodejs/bin/node',
        INIT_IMAGE,
        '-e',
        "const l = require('fs').readFileSync('/proc/self/mounts', 'utf8').split('\\n').find((x) => x.includes(' /s ')); console.log(l)",
      ]);
      assert.match(mounts.stdout, /^tmpfs \/s tmpfs .*mode=750,uid=65532,gid=10001/);
    } finally {
      await down('local', [COMPOSE_FILE], env);
    }
  });

  test('local mode: a required key missing from .env makes init exit 4 and the app is never created', async () => {
    const env = envDir('badlocal', EXAMPLE_ENV.replace(/^OPENAI_API_KEY=.*$/m, ''));
    try {
      const up = await composeIn('badlocal', [COMPOSE_FILE], ['up', '-d', '--no-build'], env);
      recordOutput(up.stdout + up.stderr);
      assert.notEqual(up.code, 0, 'up fails');
      assert.equal(await inspect(`${project('badlocal')}_init_1`, '{{.State.ExitCode}}'), '4');
      const ps = await pm.podman(['ps', '--all', '--format', '{{.Names}}']);
      assert.ok(!ps.stdout.includes(`${project('badlocal')}_app_1`), `the app container exists:\n${ps.stdout}`);
    } finally {
      await down('badlocal', [COMPOSE_FILE], env);
    }
  });

  test('production mode against moto: a missing secret makes init exit 3 and the app never starts', async () => {
    const env = {
      ...envDir('badprod', ''),
      MOTO_ENDPOINT: moto.endpoint,
      SECRET_NAME: 'short-cut/prod/does-not-exist',
    };
    try {
      const up = await composeIn('badprod', [COMPOSE_FILE, COMPOSE_MOTO], ['up', '-d', '--no-build'], env);
      recordOutput(up.stdout + up.stderr);
      assert.notEqual(up.code, 0, 'up fails');
      assert.equal(await inspect(`${project('badprod')}_init_1`, '{{.State.ExitCode}}'), '3');
      const ps = await pm.podman(['ps', '--all', '--format', '{{.Names}}']);
      assert.ok(!ps.stdout.includes(`${project('badprod')}_app_1`), `the app container exists:\n${ps.stdout}`);
    } finally {
      await down('badprod', [COMPOSE_FILE, COMPOSE_MOTO], env);
    }
  });

  test('production mode against moto: the app started after init sees the secret', async () => {
    const env = { ...envDir('prod', ''), MOTO_ENDPOINT: moto.endpoint, SECRET_NAME: SEED_SECRET_NAME };
    try {
      expectCode(await composeIn('prod', [COMPOSE_FILE, COMPOSE_MOTO], ['up', '-d', '--no-build'], env), 0, 'up');
      await waitExited(`${project('prod')}_app_1`);
      const logs = await pm.podman(['logs', `${project('prod')}_app_1`]);
      recordOutput(logs.stdout + logs.stderr);
      const report = lastReport(logs.stdout);
      for (const k of REQUIRED.split(',')) assert.equal(report.digests?.[k], hmac(SEED_SECRET[k]!), k);
      assert.equal(report.gcpCredentials.parses, true);
    } finally {
      await down('prod', [COMPOSE_FILE, COMPOSE_MOTO], env);
    }
  });

  test('watch profile: an edit of .env is rendered within a second and a newly started app sees it', async () => {
    const env = envDir('watch', EXAMPLE_ENV);
    const p = project('watch');
    const watchLogs = async () => (await pm.podman(['logs', `${p}_init-watch_1`])).stdout;
    const events = async () =>
      (await watchLogs())
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; time: string; changed?: boolean });
    const appReport = async () => {
      // `start`, not `up`/`run`: see docs/images.md on podman and compose v1's volume check.
      await waitExited(`${p}_app_1`);
      const before = (await pm.podman(['logs', `${p}_app_1`])).stdout.split('\n').length;
      expectCode(await composeIn('watch', [COMPOSE_FILE], ['start', 'app'], env), 0, 'start app');
      await waitFor('the restarted app to report', async () => {
        const out = (await pm.podman(['logs', `${p}_app_1`])).stdout;
        return out.split('\n').length > before ? true : undefined;
      });
      await waitExited(`${p}_app_1`);
      const logs = await pm.podman(['logs', `${p}_app_1`]);
      recordOutput(logs.stdout + logs.stderr);
      return lastReport(logs.stdout);
    };
    try {
      expectCode(
        await composeIn('watch', [COMPOSE_FILE], ['--profile', 'watch', 'up', '-d', '--no-build'], env),
        0,
        'up',
      );
      await waitFor('dotenv-watch.ready', async () => {
        if ((await inspect(`${p}_init-watch_1`, '{{.State.Status}}')) === 'exited') {
          throw new Error(`init-watch exited:\n${await watchLogs()}`);
        }
        return (await events()).some((e) => e.event === 'dotenv-watch.ready') ? true : undefined;
      });
      assert.equal((await appReport()).digests?.MILVUS_PORT, hmac('19530'));

      // An edit (written in place, as most editors do for a bind-mounted folder too).
      const renders = (await events()).filter((e) => e.event === 'render.done').length;
      const edited = Date.now();
      writeFileSync(env.DOTENV_FILE, EXAMPLE_ENV.replace('MILVUS_PORT=19530', 'MILVUS_PORT=19531'));
      const done = await waitFor('the edit to be rendered', async () => {
        const list = (await events()).filter((e) => e.event === 'render.done');
        return list.length > renders ? list.at(-1) : undefined;
      });
      const latency = Date.parse(done.time) - edited;
      fact(`render --watch in a container: edit rendered ${latency} ms after the write`);
      assert.ok(latency < 1000, `rendered ${latency} ms after the edit`);
      assert.equal((await appReport()).digests?.MILVUS_PORT, hmac('19531'));

      // A broken edit: logged, and the last good files stay.
      writeFileSync(env.DOTENV_FILE, EXAMPLE_ENV.replace(/^OPENAI_API_KEY=.*$/m, 'OPENAI_API_KEY='));
      await waitFor('render.failed', async () =>
        (await events()).some((e) => e.event === 'render.failed') ? true : undefined,
      );
      const kept = await appReport();
      assert.deepEqual(kept.missing, []);
      assert.equal(kept.digests?.OPENAI_API_KEY, hmac(exampleValues.OPENAI_API_KEY!));
      assert.equal(kept.digests?.MILVUS_PORT, hmac('19531'));

      // SIGTERM (compose stop) ends the watcher with status 0.
      expectCode(
        await composeIn('watch', [COMPOSE_FILE], ['--profile', 'watch', 'stop', 'init-watch'], env),
        0,
        'stop',
      );
      assert.equal(await inspect(`${p}_init-watch_1`, '{{.State.ExitCode}}'), '0');
      recordOutput(await watchLogs());
    } finally {
      await down('watch', [COMPOSE_FILE], env);
    }
  });
});

describe('publishing: the init image through a registry, as ECR serves it', () => {
  test('pushed to a registry on loopback and pulled into an empty image store, it renders', async () => {
    const registry = await startRegistry(join(work, 'registry'));
    const remote = `${registry.host}/secrets-init:0.1.0`;
    // A second image store: the image can only come from the registry, as on a fresh ECS host.
    const store = ['--root', join(pm.stateDir, 'pulled'), '--runroot', join(pm.stateDir, 'pulled-run')];
    try {
      expectCode(await pm.podman(['tag', INIT_IMAGE, remote]), 0, 'tag');
      const push = expectCode(await pm.podman(['push', '--tls-verify=false', remote]), 0, 'push');
      const pull = expectCode(await pm.podman([...store, 'pull', '--tls-verify=false', remote]), 0, 'pull');
      fact(`init image through ${registry.host}: push ${push.ms} ms, pull into an empty store ${pull.ms} ms`);
      const inspectId = async (args: string[]) =>
        JSON.parse(expectCode(await pm.podman([...args, 'image', 'inspect', remote]), 0, 'inspect').stdout)[0];
      const pulled = await inspectId(store);
      assert.equal(`${pulled.Os}/${pulled.Architecture}`, PLATFORM);
      assert.equal(pulled.Id, (await inspectId([])).Id, 'the image that was built');
      assert.equal(pulled.Config.User, '65532:10001');

      const init = expectCode(
        await initProduction('pulled-ok', SEED_SECRET_NAME, [], { image: remote, store }),
        0,
        'init from the registry',
      );
      assert.match(init.stdout, /"event":"render.done"/);
      const volume = expectCode(
        await pm.podman([...store, 'volume', 'inspect', '--format', '{{.Mountpoint}}', 'pulled-ok']),
        0,
        'volume inspect',
      ).stdout.trim();
      assert.deepEqual(visibleNames(volume), ['app.env', 'gcp-credentials.json', 'render.json']);
      assert.deepEqual(debrisIn(volume), []);
    } finally {
      await pm.podman([...store, 'volume', 'rm', '--all', '--force']);
      await pm.podman([...store, 'rmi', '--all', '--force']);
      spawnSync('umount', ['-R', join(pm.stateDir, 'pulled', 'overlay')], { stdio: 'ignore' });
      await registry.stop();
    }
  });
});

describe('line endings: a checkout made with core.autocrlf=true (as Git for Windows makes it)', () => {
  /** The committed tree, checked out as a clone gets it, with core.autocrlf=true and extra attributes if any. */
  async function checkout(name: string, infoAttributes?: string): Promise<string> {
    const dir = join(work, name);
    const git = async (args: string[]) => expectCode(await run('git', ['-C', dir, ...args]), 0, `git ${args[0]}`);
    mkdirSync(dir);
    await git(['init', '--quiet']);
    await git(['config', 'core.autocrlf', 'true']);
    // $GIT_DIR/info/attributes outranks the tree's .gitattributes.
    if (infoAttributes) writeFileSync(join(dir, '.git', 'info', 'attributes'), infoAttributes);
    await git(['fetch', '--quiet', ROOT, 'HEAD']);
    await git(['checkout', '--quiet', 'FETCH_HEAD']);
    return dir;
  }

  test('builds an app image whose entrypoint runs; without .gitattributes the same checkout would not', async () => {
    const withAttributes = await checkout('autocrlf');
    assert.ok(!readFileSync(join(withAttributes, 'init', 'entrypoint.sh')).includes(0x0d), 'the entrypoint is LF');
    // The control: what a repository without .gitattributes gets (eol left to core.autocrlf: CRLF).
    const without = await checkout('autocrlf-no-attributes', '* text=auto !eol\n');
    assert.ok(readFileSync(join(without, 'init', 'entrypoint.sh'), 'utf8').includes('#!/bin/sh\r\n'), 'control: CRLF');

    const volume = 'autocrlf';
    expectCode(await pm.podman(['volume', 'create', volume]), 0, 'volume create');
    expectCode(await initProduction(volume, SEED_SECRET_NAME), 0, 'init');
    const images: [string, string][] = [
      [withAttributes, 'localhost/ecs-secrets-init/app:autocrlf'],
      [without, 'localhost/ecs-secrets-init/app:autocrlf-no-attributes'],
    ];
    for (const [dir, tag] of images) {
      const res = await pm.podman(['build', '--pull=never', '-f', 'Dockerfile.app', '-t', tag, '.'], { cwd: dir });
      expectCode(res, 0, `podman build from ${dir}`);
    }
    const good = expectCode(await appRun(volume, [], [], images[0]![1]), 0, 'app built from the autocrlf checkout');
    assert.deepEqual(lastReport(good.stdout).missing, []);
    assert.deepEqual(lastReport(good.stdout).present.sort(), [...APP_KEYS].sort());

    const bad = await appRun(volume, [], [], images[1]![1]);
    recordOutput(bad.stdout + bad.stderr);
    assert.notEqual(bad.code, 0, 'the CRLF entrypoint cannot run');
    assert.equal(bad.stdout, '', 'the app never started');
    assert.match(bad.stderr, /secrets-entrypoint: no such file or directory|bad interpreter|not found/);
  });
});

/** Every path under root (no symlink following) with its size in bytes (0 for directories and links). */
function walk(root: string): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = `${rel}/${name}`;
      const s = lstatSync(join(root, p));
      out.set(p, s.isFile() ? s.size : 0);
      if (s.isDirectory()) visit(p);
    }
  };
  visit('');
  return out;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** A layer's step, short: `RUN ...`, `COPY /app/x` or how the base was made. */
function describeStep(createdBy: string): string {
  let step = createdBy
    .replace(/^\/bin\/sh -c (#\(nop\) )?/, '')
    .replace(/^COPY (dir|file):[0-9a-f]+ in /, 'COPY ')
    .trim();
  if (step.startsWith('[')) step = `RUN ${(JSON.parse(step) as string[]).join(' ')}`;
  return step.length > 80 ? `${step.slice(0, 77)}...` : step;
}

/** Sizes as a registry shows them: kB under a megabyte. */
const compressed = (bytes: number) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(0)} kB` : mb(bytes));

/** Runs inside the init image: medians of interleaved cached/cold local renders and of bare node. */
const MEASURE_SCRIPT = `
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
fs.writeFileSync('/tmp/.env', 'A=1\\nB=2\\n');
fs.mkdirSync('/tmp/out');
const runs = Number(process.argv[2]);
const env = { ...process.env, APP_ENV: 'local', DOTENV_PATH: '/tmp/.env', SECRETS_DIR: '/tmp/out', LOG_LEVEL: 'warn' };
const time = (args, extra) => {
  const t = process.hrtime.bigint();
  const r = spawnSync('/nodejs/bin/node', args, { env: { ...env, ...extra } });
  if (r.status !== 0) throw new Error(String(r.stderr));
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const cached = [], cold = [], bare = [];
for (let i = 0; i < runs; i++) {
  cached.push(time(['/app/secrets-init.mjs', 'render'], {}));
  cold.push(time(['/app/secrets-init.mjs', 'render'], { NODE_DISABLE_COMPILE_CACHE: '1' }));
  bare.push(time(['-e', '0'], {}));
}
const median = (x) => x.sort((a, b) => a - b)[x.length >> 1];
process.stdout.write(JSON.stringify({ cached: median(cached), cold: median(cold), bare: median(bare) }));
`;
