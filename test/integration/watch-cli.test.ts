import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { CreateServiceCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { bundleFiles } from '../helpers/bundle.ts';
import { BUNDLE, cliArgs, ROOT } from '../helpers/cli.ts';
import {
  BINDING_TAG,
  cluster,
  FINGERPRINT_TAG,
  rotate,
  secrets,
  seeded,
  services,
  value,
} from '../helpers/ecs-fleet.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// The built CLI (bundle or startup snapshot, helpers/cli.ts), run the way ECS runs it: `secrets-init watch ...`,
// talking to moto through the counting proxy.

let moto: Moto;
let proxy: AwsProxy;
let ecs: ECSClient;
let sm: SecretsManagerClient;
let dir: string;
const outputs: string[] = [];

before(async () => {
  if (!bundleFiles().some((f) => readFileSync(f, 'utf8').includes('secrets-init/fingerprint'))) {
    throw new Error(`${BUNDLE} has no watch command: run "npm run build" first (npm test does)`);
  }
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  ecs = new ECSClient(clientOptions(moto.endpoint));
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  dir = mkdtempSync(join(tmpdir(), 'watch-cli-'));
});

after(async () => {
  ecs?.destroy();
  sm?.destroy();
  await proxy?.close();
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  proxy.resetCounts();
  proxy.clearFaults();
});

afterEach(() => {
  assert.equal(proxy.count('GetSecretValue'), 0);
  assert.equal(proxy.count('BatchGetSecretValue'), 0);
  const all = outputs.join('\n');
  for (const v of seeded) assert.ok(!all.includes(v), 'a seeded secret value reached stdout or stderr');
});

interface Run {
  readonly child: ChildProcess;
  /** JSON log lines so far. */
  lines(): Record<string, unknown>[];
  readonly done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; at: number }>;
}

function watch(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, cliArgs(['watch', ...args]), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...awsEnv(proxy.endpoint), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; at: number }>(
    (resolve) =>
      child.on('close', (code, signal) => {
        clearTimeout(killer);
        outputs.push(stdout, stderr);
        resolve({ code, signal, stdout, stderr, at: Date.now() });
      }),
  );
  const lines = () =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, lines, done };
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Cluster "prod" with `n` services svc00.. bound to secrets, round robin over `secretCount` secrets. */
async function fleet(n: number, secretCount: number, untagged: string[] = []): Promise<string[]> {
  await cluster(ecs, 'prod');
  const ids = Array.from({ length: secretCount }, (_, i) => `sec${i}`);
  await secrets(sm, ids);
  const names = Array.from({ length: n }, (_, i) => `svc${String(i).padStart(2, '0')}`);
  await services(ecs, 'prod', Object.fromEntries(names.map((name, i) => [name, ids[i % secretCount]])));
  await services(ecs, 'prod', Object.fromEntries(untagged.map((name) => [name, undefined])));
  return names;
}

async function fingerprintOf(service: string): Promise<string | undefined> {
  const res = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [service], include: ['TAGS'] }));
  return res.services?.[0]?.tags?.find((t) => t.key === FINGERPRINT_TAG)?.value;
}

describe('secrets-init watch (the built CLI, against moto)', () => {
  it('--help prints the usage and exits 0 without a network call', async () => {
    const r = await watch(['--help']).done;
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: secrets-init watch/);
    assert.deepEqual(proxy.counts(), {});
  });

  it('exits 2 with one line on stderr, before any network call, when no region is set', async () => {
    const r = await watch(['--once', '--cluster', 'prod'], { AWS_REGION: '', AWS_DEFAULT_REGION: '' }).done;
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'secrets-init watch: AWS_REGION (or AWS_DEFAULT_REGION) is required\n');
    assert.deepEqual(proxy.counts(), {});
  });

  it('takes the region from AWS_DEFAULT_REGION when AWS_REGION is not set (a shell set up for the aws CLI)', async () => {
    await fleet(1, 1);
    const r = await watch(['--once'], { AWS_REGION: '', AWS_DEFAULT_REGION: 'us-east-1', WATCH_CLUSTER: 'prod' }).done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.count('TagResource'), 1, 'the service was recorded');
  });

  it('--once: records on first sight, then after PutSecretValue redeploys exactly the bound services, exit 0', async () => {
    const names = await fleet(4, 2, ['legacy']);
    const first = await watch(['--once'], { WATCH_CLUSTER: 'prod' }).done;
    assert.equal(first.code, 0, first.stderr);
    assert.equal(proxy.count('UpdateService'), 0);
    assert.equal(proxy.count('TagResource'), 4);
    assert.match((await fingerprintOf('svc00')) ?? '', /^v2 s=ok /);
    assert.equal(await fingerprintOf('legacy'), undefined);

    const before = await fingerprintOf('svc01');
    await rotate(sm, 'sec1');
    proxy.resetCounts();
    const second = await watch(['--once', '--cluster', 'prod']).done;
    assert.equal(second.code, 0, second.stderr);
    const updated = proxy.bodies('UpdateService').map((b) => (JSON.parse(b) as { service: string }).service);
    assert.deepEqual(
      updated.sort(),
      names.filter((_, i) => i % 2 === 1),
    );
    assert.notEqual(await fingerprintOf('svc01'), before);
    const lines = second.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.filter((l) => l.event === 'watch.decision').map((l) => `${l.service}:${l.decision}`),
      ['svc00:skip', 'svc01:redeploy', 'svc02:skip', 'svc03:redeploy'],
    );
    const summary = lines.find((l) => l.event === 'watch.pass')!;
    assert.deepEqual([summary.due, summary.redeployed], [2, 2]);
    // A claim (TagResource), read back (DescribeServices), UpdateService, the new deployment (TagResource); the
    // task definition's images looked at once (DescribeTaskDefinition).
    assert.deepEqual(summary.apiCalls, {
      ListServices: 1,
      DescribeServices: 2,
      DescribeSecret: 2,
      DescribeTaskDefinition: 1,
      UpdateService: 2,
      TagResource: 4,
    });
  });

  it('--once: a binding ECS would refuse fails for that service alone; continuation tags bind; exit 3', async () => {
    await cluster(ecs, 'prod');
    await secrets(sm, ['sec0', 'sec1', 'sec2']);
    await services(ecs, 'prod', { ok: 'sec0' });
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'prod',
        serviceName: 'wide',
        taskDefinition: 'app',
        desiredCount: 0,
        tags: [
          { key: BINDING_TAG, value: 'sec0' },
          { key: `${BINDING_TAG}-2`, value: 'sec1 sec2' },
        ],
      }),
    );
    // Commas and 257 characters are what AWS refuses (the limits proxy does too), so only moto itself can hold
    // them: what the watcher does when a tag store is more lenient than ECS.
    const raw = new ECSClient(clientOptions(moto.serverEndpoint));
    await services(raw, 'prod', { commas: 'sec0,sec1', long: `sec0 ${'x'.repeat(260)}` });
    raw.destroy();

    const r = await watch(['--once', '--cluster', 'prod']).done;
    assert.equal(r.code, 3, r.stderr);
    const failures = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.event === 'watch.failure')
      .map((l) => [l.service, l.stage, l.msg]);
    assert.deepEqual(failures, [
      [
        'commas',
        'binding',
        'reading the binding tags of service commas in prod: secrets-init/secrets: commas are not allowed in ECS tag values; separate ids with spaces',
      ],
      [
        'long',
        'binding',
        'reading the binding tags of service long in prod: secrets-init/secrets: 265 characters, an ECS tag value holds at most 256 (continue the ids in the next key)',
      ],
    ]);
    assert.match((await fingerprintOf('ok')) ?? '', /^v2 s=ok /, 'the others are handled');
    assert.match((await fingerprintOf('wide')) ?? '', /^v2 s=ok /);
    assert.equal(await fingerprintOf('commas'), undefined, 'nothing written for a skipped service');

    await rotate(sm, 'sec2');
    proxy.resetCounts();
    const second = await watch(['--once', '--cluster', 'prod']).done;
    assert.equal(second.code, 3, second.stderr);
    const updated = proxy.bodies('UpdateService').map((b) => (JSON.parse(b) as { service: string }).service);
    assert.deepEqual(updated, ['wide'], 'a secret of the continuation tag rotated: that service redeploys');
  });

  it('--once: services bound to an SSM path and to a parameter are recorded, then redeployed once when what they name changes', async () => {
    const ssm = new SSMClient(clientOptions(moto.endpoint));
    const put = (Name: string, Overwrite = false) =>
      ssm.send(new PutParameterCommand({ Name, Value: value(), Type: 'SecureString', Overwrite }));
    await put('/app/prod/db-password');
    await put('/app/prod/api-key');
    await put('/app/token');
    await cluster(ecs, 'prod');
    await services(ecs, 'prod', { bypath: 'ssm:/app/prod/', byname: 'ssm:/app/token' });
    const first = await watch(['--once', '--cluster', 'prod']).done;
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(
      first.stdout
        .split('\n')
        .filter((l) => l.includes('"watch.decision"'))
        .map((l) => JSON.parse(l) as { service: string; decision: string })
        .map((l) => `${l.service}:${l.decision}`),
      ['byname:record', 'bypath:record'],
    );
    assert.equal(proxy.count('DescribeParameters'), 2, 'one call for the named parameter, one for the path');

    await put('/app/prod/api-key', true);
    proxy.resetCounts();
    const second = await watch(['--once', '--cluster', 'prod']).done;
    assert.equal(second.code, 0, second.stderr);
    const updated = proxy.bodies('UpdateService').map((b) => (JSON.parse(b) as { service: string }).service);
    assert.deepEqual(updated, ['bypath'], 'a parameter under the bound path changed');
    await watch(['--once', '--cluster', 'prod']).done;
    proxy.resetCounts();
    const quiet = await watch(['--once', '--cluster', 'prod']).done;
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(proxy.count('UpdateService') + proxy.count('TagResource'), 0, 'then nothing');
    assert.equal(proxy.count('GetParameter') + proxy.count('GetParameters') + proxy.count('GetParametersByPath'), 0);
    ssm.destroy();
  });

  it('--once with a config: a missing service is logged, the other is handled, exit 3', async () => {
    await fleet(1, 1);
    const config = join(dir, 'watch.yaml');
    writeFileSync(
      config,
      [
        'apiVersion: secrets-init/v1',
        'kind: SecretsInit',
        'spec:',
        '  watch:',
        '    clusters:',
        '      - name: prod',
        '        services:',
        '          - { name: svc00, secrets: [sec0] }',
        '          - { name: ghost, secrets: [sec0] }',
        '',
      ].join('\n'),
    );
    const r = await watch(['--once', '--config', config]).done;
    assert.equal(r.code, 3);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const failure = lines.find((l) => l.event === 'watch.failure');
    assert.equal(failure?.service, 'ghost');
    assert.equal(failure?.error, 'service not found (MISSING)');
    assert.match((await fingerprintOf('svc00')) ?? '', /^v2 s=ok /);
    assert.equal(proxy.count('ListServices'), 0, 'config bindings need no discovery');
  });

  it('SIGTERM in the middle of a pass: the pass finishes, no other starts, exit 0 within the pass deadline', async () => {
    await fleet(20, 5);
    // The first DescribeSecret hangs until the SDK's request timeout (a third of --pass-timeout, 2 s) and is
    // retried: the pass is reliably in flight when the signal lands, and still completes.
    proxy.addFault({ action: 'DescribeSecret', kind: 'stall', times: 1 });
    const run = watch(['--interval', '1s', '--pass-timeout', '6s'], { WATCH_CLUSTER: 'prod' });
    await until('the pass to be reading secrets', () => proxy.count('DescribeSecret') >= 1);
    assert.equal(run.lines().filter((l) => l.event === 'watch.pass').length, 0, 'the signal lands mid-pass');
    const signalled = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    // Bound: the pass deadline (6 s, which started before the signal) plus a second for the exit itself.
    assert.ok(r.at - signalled < 7000, `exit ${r.at - signalled} ms after SIGTERM`);
    const passes = run.lines().filter((l) => l.event === 'watch.pass');
    assert.equal(passes.length, 1);
    assert.equal(passes[0]!.failures, 0, 'the pass in flight was finished, not abandoned');
    assert.equal(passes[0]!.recorded, 20);
    assert.equal(proxy.count('TagResource'), 20);
    assert.equal(proxy.count('ListServices'), 1, 'no second pass');
    assert.equal(run.lines().at(-1)?.event, 'watch.stop');
  });

  it('the loop never overlaps passes, even when a pass outlasts the interval; SIGINT stops it with exit 0', async () => {
    await fleet(10, 2);
    proxy.addFault({ action: 'DescribeSecret', kind: 'stall', times: 1 });
    const run = watch(['--interval', '1s', '--pass-timeout', '3s'], { WATCH_CLUSTER: 'prod' });
    await until('three passes', () => run.lines().filter((l) => l.event === 'watch.pass').length >= 3);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const passes = run.lines().filter((l) => l.event === 'watch.pass');
    const spans = passes.map((p) => {
      const end = Date.parse(String(p.time));
      return { n: p.pass as number, start: end - (p.durationMs as number), end };
    });
    assert.deepEqual(
      spans.map((s) => s.n),
      spans.map((_, i) => i + 1),
    );
    assert.ok((passes[0]!.durationMs as number) > 1000, 'the first pass outlasted the 1 s interval');
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i]!.start >= spans[i - 1]!.end - 1, `pass ${i + 1} started before pass ${i} ended`);
    }
    assert.equal(proxy.count('ListServices'), passes.length, 'one listing per pass, none abandoned');
    assert.equal(run.lines().at(-1)?.event, 'watch.stop');
  });
});
