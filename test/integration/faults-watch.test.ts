import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { createLogger } from '../../shared/logger.ts';
import { clientConfig } from '../../shared/secrets-manager-client.ts';
import { runLoop } from '../../watcher/loop.ts';
import { redeployClientConfig } from '../../watcher/redeploy-client.ts';
import { type PassOptions, type PassResult, passExitCode, runPass } from '../../watcher/run-pass.ts';
import { decodeState, type ServiceStateTag } from '../../watcher/state-tag.ts';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { FINGERPRINT_TAG as FP, fleet, rotate, seeded } from '../helpers/ecs-fleet.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { PASS } from '../helpers/pass-options.ts';

// The watcher's pass (in process, real SDK clients with the product's retry settings) against moto behind the fault
// proxy. Seeding goes to moto directly, so the proxy counts exactly the watcher's calls, retries included.

let moto: Moto;
let proxy: AwsProxy;
let seedEcs: ECSClient;
let seedSm: SecretsManagerClient;
let ecs: ECSClient;
let deploy: ECSClient;
let sm: SecretsManagerClient;
const rawLog: string[] = [];
/** How far the watcher's clock is ahead of this machine's (past claims and cap windows). */
let skew = 0;

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  seedEcs = new ECSClient(clientOptions(moto.endpoint));
  seedSm = new SecretsManagerClient(clientOptions(moto.endpoint));
  // As the watch command builds them: standard retry, 4 attempts, a request timeout that throws.
  const config = {
    ...clientConfig({ region: 'us-east-1', requestTimeoutMs: 5000 }),
    endpoint: proxy.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  ecs = new ECSClient(config);
  sm = new SecretsManagerClient(config);
  // UpdateService's own client, as the watch command builds it (retried only when throttled), with a 2 s
  // request timeout so that the stalled-answer case is quick.
  deploy = new ECSClient({
    ...redeployClientConfig({ region: 'us-east-1', requestTimeoutMs: 2000 }),
    endpoint: proxy.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
});
after(async () => {
  for (const c of [seedEcs, seedSm, ecs, deploy, sm]) c?.destroy();
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.resetCounts();
  proxy.clearFaults();
  skew = 0;
});
afterEach(() => {
  assert.equal(proxy.count('GetSecretValue') + proxy.count('BatchGetSecretValue'), 0, 'the watcher never reads values');
  const all = rawLog.join('\n');
  for (const v of seeded) assert.ok(!all.includes(v), 'a seeded secret value reached a log line');
});

const log = createLogger('debug', { write: (s: string) => void rawLog.push(s) });

function pass(o: Partial<PassOptions> = {}): Promise<PassResult> {
  return runPass({ ecs, deploy, secrets: sm, log, now: () => Date.now() + skew }, { ...PASS, ...o });
}

/** Service `name` as the watcher left it: its state tag decoded (unsigned here), its PRIMARY deployment. */
async function state(name: string): Promise<{ tag?: ServiceStateTag; primary?: string; deployments: number }> {
  const res = await seedEcs.send(new DescribeServicesCommand({ cluster: 'prod', services: [name], include: ['TAGS'] }));
  const s = res.services?.[0];
  const read = decodeState(s?.tags?.find((t) => t.key === FP)?.value, s?.serviceArn ?? '', undefined);
  return {
    ...(read.trust === 'unsigned' && { tag: read.tag }),
    primary: s?.deployments?.find((d) => d.status === 'PRIMARY')?.id,
    deployments: s?.deployments?.length ?? 0,
  };
}

/** UpdateService calls on the wire for one service (SDK retries included). */
const updatesOf = (service: string) =>
  proxy.bodies('UpdateService').filter((b) => (JSON.parse(b) as { service: string }).service === service).length;

const LOST = 'the answer was lost, so it may have started (its claim says so)';
/** Past another run's claim (120 s) and the cap window (60 s): the watcher's clock moves, AWS's does not. */
const LATER = 121_000;

describe('watch pass under faults', () => {
  it('a 5xx on UpdateService may hide an applied update: not resent, counted against the cap, its claim holds it until the claim expires, then it goes once', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db', c: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    const old = await state('b');
    proxy.resetCounts();
    proxy.addFault({ action: 'UpdateService', kind: 'http500', bodyIncludes: '"service":"b"' });

    const second = await pass();
    assert.equal(passExitCode(second), 3);
    assert.deepEqual(
      second.failures.map((f) => [f.service, f.stage, f.error]),
      [['b', 'redeploy', `ServerException (HTTP 500): ${LOST}`]],
    );
    assert.deepEqual(
      second.outcomes.map((o) => `${o.decision.service}:${o.outcome}`),
      ['a:redeployed', 'b:unknown', 'c:redeployed'],
    );
    assert.deepEqual([updatesOf('a'), updatesOf('b'), updatesOf('c')], [1, 1, 1], 'b: sent once, not resent');
    const b = await state('b');
    assert.equal(b.tag?.state, 'pending', 'the claim says a redeploy may have started');
    assert.equal(b.primary, old.primary);

    proxy.clearFaults();
    proxy.resetCounts();
    const third = await pass();
    assert.equal(proxy.count('UpdateService'), 0, 'within its claim, b is not redeployed again');
    assert.deepEqual(
      third.decisions.map((d) => `${d.service}:${d.decision}:${d.reason}`),
      ['a:record:redeploy-completed', 'b:wait:claimed-by-another-run', 'c:record:redeploy-completed'],
    );

    skew += LATER;
    proxy.resetCounts();
    const fourth = await pass();
    assert.equal(passExitCode(fourth), 0);
    assert.deepEqual([updatesOf('a'), updatesOf('b'), updatesOf('c')], [0, 1, 0], 'only b, once');
    assert.deepEqual(
      fourth.decisions.filter((d) => d.service === 'b').map((d) => d.reason),
      ['unconfirmed-redeploy'],
    );
    await pass();
    proxy.resetCounts();
    await pass();
    assert.equal(proxy.count('UpdateService') + proxy.count('TagResource'), 0, 'converged');
    assert.equal((await state('b')).tag?.fingerprint, (await state('a')).tag?.fingerprint);
  });

  it('an UpdateService that ECS applied but whose answer was lost is followed, never sent again', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    const before = await state('b');
    proxy.resetCounts();
    // Modelled: the call reaches ECS (moto acts on it), and the connection drops before the answer.
    proxy.addFault({ action: 'UpdateService', kind: 'lose', times: 1, bodyIncludes: '"service":"b"' });
    const second = await pass();
    assert.deepEqual(
      second.outcomes.map((o) => `${o.decision.service}:${o.outcome}`),
      ['a:redeployed', 'b:unknown'],
    );
    const deployed = await state('b');
    assert.notEqual(deployed.primary, before.primary, 'the update took effect');
    assert.equal(deployed.tag?.state, 'pending');

    // The next pass sees a deployment after the claim: the claimed redeploy happened. It follows it, whatever the
    // clock, and never sends it again.
    skew += LATER;
    proxy.resetCounts();
    const third = await pass();
    assert.equal(updatesOf('b'), 0);
    assert.deepEqual(
      third.decisions.filter((d) => d.service === 'b').map((d) => `${d.decision}:${d.reason}`),
      ['record:redeploy-completed'],
    );
    const after = await state('b');
    assert.equal(after.tag?.state, 'ok');
    assert.equal(after.tag?.deployment, deployed.primary);
    assert.equal(after.tag?.fingerprint, (await state('a')).tag?.fingerprint);
  });

  it('a lost outcome never hides a rollback of the secret: AWSCURRENT moved back after an unconfirmed redeploy still redeploys', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db' });
    await pass();
    const good = await seedSm.send(new GetSecretValueCommand({ SecretId: 'db', VersionStage: 'AWSCURRENT' }));
    await rotate(seedSm, 'db');
    // The redeploy to the new (bad) version happens; its answer and everything after it are lost.
    proxy.addFault({ action: 'UpdateService', kind: 'lose', times: 1 });
    await pass();
    // The operator moves AWSCURRENT back to the old version before the watcher runs again.
    const described = await seedSm.send(new DescribeSecretCommand({ SecretId: 'db' }));
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))![0];
    await seedSm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'db',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: good.VersionId!,
        RemoveFromVersionId: current,
      }),
    );
    proxy.resetCounts();
    // The claim is followed: its deployment went to the bad version (reported once), and the old version, current
    // again, is due in the same pass: its tasks read the bad one.
    const third = await pass();
    assert.deepEqual(
      third.decisions.map((d) => `${d.service}:${d.decision}:${d.reason}`),
      ['a:redeploy:fingerprint-changed'],
    );
    assert.deepEqual(
      third.reports.map((r) => `${r.service}:${r.result}`),
      ['a:completed'],
    );
    assert.equal(updatesOf('a'), 1);
  });

  it('UpdateService throttled twice is retried and succeeds in the pass: a throttled request was refused, so not deployed', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    const before = await state('b');
    proxy.resetCounts();
    proxy.addFault({ action: 'UpdateService', kind: 'throttle', times: 2, bodyIncludes: '"service":"b"' });
    const second = await pass();
    assert.equal(passExitCode(second), 0, JSON.stringify(second.failures));
    assert.deepEqual([updatesOf('a'), updatesOf('b')], [1, 3], 'b: two throttled attempts, then the one that worked');
    assert.deepEqual(second.apiCalls.UpdateService, 2, 'logical calls: one per service');
    const after = await state('b');
    assert.notEqual(after.primary, before.primary);
    assert.equal(after.tag?.deployment, after.primary, 'the state follows the new deployment');
    assert.equal(after.tag?.fingerprint, (await state('a')).tag?.fingerprint);
  });

  it('an UpdateService whose answer never comes is not resent: at most one per service per pass; its claim holds it', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    proxy.addFault({ action: 'UpdateService', kind: 'stall', times: 1, bodyIncludes: '"service":"b"' });
    const second = await pass();
    assert.equal(passExitCode(second), 3);
    assert.deepEqual(
      second.failures.map((f) => [f.service, f.stage, f.error]),
      [['b', 'redeploy', `request timed out: ${LOST}`]],
    );
    assert.deepEqual([updatesOf('a'), updatesOf('b')], [1, 1], 'b: sent once, not retried after the timeout');
    assert.equal((await state('b')).tag?.state, 'pending');

    skew += LATER;
    proxy.resetCounts();
    const third = await pass();
    assert.equal(passExitCode(third), 0);
    assert.deepEqual([updatesOf('a'), updatesOf('b')], [0, 1]);
    assert.equal((await state('b')).tag?.fingerprint, (await state('a')).tag?.fingerprint);
  });

  it('an answer whose body never ends fails that one call at the response cap, on every client, without a retry', async () => {
    const CAP = 'response body over 10 MiB, refused (an endpoint that is not AWS, or a broken proxy?)';
    const cases: [string, string, string][] = [
      ['ListServices', 'discover', CAP],
      ['DescribeServices', 'service', CAP],
      ['DescribeSecret', 'secret', CAP],
      ['TagResource', 'tag', `claiming it: ${CAP}`],
      ['UpdateService', 'redeploy', `${CAP}: ${LOST}`], // the redeploy client
    ];
    for (const [action, stage, error] of cases) {
      await moto.reset();
      proxy.clearFaults();
      await fleet(seedEcs, seedSm, 'prod', { a: 'db' });
      await pass();
      await rotate(seedSm, 'db');
      proxy.resetCounts();
      proxy.addFault({ action, kind: 'endless', times: 1 });
      const second = await pass();
      assert.deepEqual(
        second.failures.map((f) => [f.stage, f.error]),
        [[stage, error]],
        action,
      );
      assert.equal(proxy.count(action), 1, `${action}: not retried`);
    }
  });

  it('the cap holds when answers are lost: with the cap at 2 and every UpdateService failing 5xx, at most 2 are sent per window, not one per due service', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    await fleet(seedEcs, seedSm, 'prod', Object.fromEntries(names.map((n) => [n, 'db'])), 1);
    await pass({ maxRedeploys: 2 });
    await rotate(seedSm, 'db');
    proxy.addFault({ action: 'UpdateService', kind: 'http500' });
    const sent: number[] = [];
    for (let n = 0; n < 3; n++) {
      proxy.resetCounts();
      const result = await pass({ maxRedeploys: 2 });
      sent.push(proxy.count('UpdateService'));
      assert.equal(passExitCode(result), n === 0 ? 3 : 0, `pass ${n + 2}`);
    }
    assert.deepEqual(sent, [2, 0, 0], 'an ECS brownout: 2 in the window, then the claims and the cap hold');
    skew += LATER;
    proxy.resetCounts();
    await pass({ maxRedeploys: 2 });
    assert.equal(proxy.count('UpdateService'), 2, 'the next window: 2 more');
  });

  it('only a definite refusal frees a slot: with the cap at 1 and UpdateService refused (4xx) for a, b takes its slot in the same pass', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db', c: 'db' }, 1);
    await pass({ maxRedeploys: 1 });
    await rotate(seedSm, 'db');
    const before = await state('b');
    proxy.resetCounts();
    proxy.addFault({ action: 'UpdateService', kind: 'accessDenied', bodyIncludes: '"service":"a"' });

    const second = await pass({ maxRedeploys: 1 });
    assert.equal(passExitCode(second), 3);
    assert.deepEqual(
      second.failures.map((f) => [f.service, f.stage]),
      [['a', 'redeploy']],
    );
    assert.deepEqual([updatesOf('a'), updatesOf('b'), updatesOf('c')], [1, 1, 0], 'a (oldest) refused, b went');
    const after = await state('b');
    assert.notEqual(after.primary, before.primary, 'b was redeployed');
    assert.equal(after.tag?.state, 'deploying');
    assert.equal((await state('a')).tag?.state, 'ok', "a's claim was taken back: nothing started");
    assert.deepEqual(
      second.decisions.map((d) => `${d.service}:${d.decision}:${d.reason}`),
      ['a:redeploy:fingerprint-changed', 'b:redeploy:fingerprint-changed', 'c:redeploy:fingerprint-changed'],
    );
    assert.deepEqual(
      second.outcomes.map((o) => `${o.decision.service}:${o.outcome}`),
      ['a:failed', 'b:redeployed', 'c:deferred'],
    );

    skew += LATER;
    proxy.resetCounts();
    await pass({ maxRedeploys: 1 });
    assert.deepEqual([updatesOf('a'), updatesOf('b'), updatesOf('c')], [1, 0, 1], 'a refused again; c goes');
    proxy.clearFaults();
    skew += LATER;
    proxy.resetCounts();
    await pass({ maxRedeploys: 1 });
    assert.deepEqual([updatesOf('a'), updatesOf('b'), updatesOf('c')], [1, 0, 0], 'a, once it works');
    skew += LATER;
    await pass({ maxRedeploys: 1 });
    proxy.resetCounts();
    await pass({ maxRedeploys: 1 });
    assert.equal(proxy.count('UpdateService'), 0, 'converged');
  });

  it('TagResource failing after a successful UpdateService: the claim already says a redeploy started; no extra deploy', async () => {
    await fleet(seedEcs, seedSm, 'prod', { b: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    const before = await state('b');
    proxy.resetCounts();
    // The claim goes through; the write after UpdateService (the new deployment) fails.
    proxy.addFault({ action: 'TagResource', kind: 'http500', bodyIncludes: 's=deploying' });
    const second = await pass();
    assert.deepEqual(
      second.failures.map((f) => [f.service, f.stage]),
      [['b', 'tag']],
    );
    assert.equal(updatesOf('b'), 1);
    const afterFirst = await state('b');
    assert.notEqual(afterFirst.primary, before.primary, 'the redeploy happened');
    assert.equal(afterFirst.tag?.state, 'pending', 'and the claim holds');

    proxy.clearFaults();
    skew += LATER;
    proxy.resetCounts();
    const third = await pass();
    assert.equal(passExitCode(third), 0);
    assert.equal(updatesOf('b'), 0, 'no extra deploy: the claimed one is followed');
    const settled = await state('b');
    assert.equal(settled.tag?.state, 'ok');
    assert.equal(settled.tag?.fingerprint, second.decisions[0]?.newFingerprint);
    proxy.resetCounts();
    await pass();
    assert.equal(proxy.count('UpdateService') + proxy.count('TagResource'), 0, 'converged');
  });

  it('TagResource refused on every pass: nothing is redeployed without a claim, every pass exits 3, it goes as soon as tagging works', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    proxy.addFault({ action: 'TagResource', kind: 'accessDenied', bodyIncludes: 'service/prod/b"' });
    for (let n = 0; n < 3; n++) {
      proxy.resetCounts();
      const result = await pass();
      assert.equal(passExitCode(result), 3, 'the failure is reported on every pass');
      assert.deepEqual(
        result.failures.map((f) => [f.service, f.stage, f.error]),
        [['b', 'tag', 'claiming it: AccessDeniedException']],
      );
      assert.equal(updatesOf('b'), 0, `pass ${n + 2}: no UpdateService for b without its claim`);
    }
    proxy.clearFaults();
    proxy.resetCounts();
    await pass();
    assert.equal(updatesOf('b'), 1, 'the pass that can tag claims and deploys once');
    await pass();
    proxy.resetCounts();
    await pass();
    assert.equal(proxy.count('UpdateService'), 0, 'converged once TagResource works');
  });

  it('throttling across 200 services: passes complete with the SDK retries, at most `concurrency` calls in flight, and never overlap', async (t) => {
    const bindings: Record<string, string> = {};
    for (let i = 0; i < 200; i++) bindings[`svc${String(i).padStart(3, '0')}`] = `big/s${i % 100}`;
    await fleet(seedEcs, seedSm, 'prod', bindings);
    const throttle = (n: number) => {
      proxy.clearFaults();
      // Every kind of call the pass makes is hit, each logical call at most once (never more faults than calls
      // of that kind in flight), so none runs out of its 4 attempts. Pass 1 tags 200; pass 2 redeploys and tags 2.
      const writes = n === 1 ? { TagResource: 10 } : { UpdateService: 2, TagResource: 2 };
      const faults = { ListServices: 1, DescribeServices: 10, DescribeSecret: 10, ...writes };
      for (const [action, times] of Object.entries(faults)) proxy.addFault({ action, kind: 'throttle', times });
    };

    const passes: {
      n: number;
      start: number;
      end: number;
      result: PassResult;
      maxInFlight: number;
      wire: Record<string, number>;
      /** Calls the account's quotas refused (aws-limits.ts): each came back as one more call on the wire. */
      refused: Record<string, number>;
    }[] = [];
    const stop = new AbortController();
    await runLoop(
      {
        runPass: async (n) => {
          proxy.resetCounts();
          moto.limits.resetCounts();
          if (n === 2) await rotate(seedSm, 'big/s7');
          throttle(n);
          const start = Date.now();
          const result = await pass({ pass: n });
          const wire = proxy.counts();
          const refused = moto.limits.refusals();
          passes.push({ n, start, end: Date.now(), result, maxInFlight: proxy.maxInFlight(), wire, refused });
          if (n === 2) stop.abort();
          return result;
        },
        sleep: (ms, signal) =>
          new Promise((resolve) => {
            const t = setTimeout(resolve, ms);
            signal.addEventListener(
              'abort',
              () => {
                clearTimeout(t);
                resolve();
              },
              { once: true },
            );
          }),
        monotonic: () => performance.now(),
        random: () => 0.5,
        shutdown: stop.signal,
      },
      // An interval far shorter than a pass: the next pass is due before this one ends, and must still wait.
      { intervalMs: 10, jitter: 0 },
    );

    assert.equal(passes.length, 2);
    assert.ok(passes[1]!.start >= passes[0]!.end, 'pass 2 started only after pass 1 ended');
    const [first, second] = passes.map((p) => p.result);
    assert.equal(first!.failures.length, 0, JSON.stringify(first!.failures.slice(0, 3)));
    assert.equal(first!.decisions.filter((d) => d.decision === 'record').length, 200);
    assert.equal(second!.failures.length, 0, JSON.stringify(second!.failures.slice(0, 3)));
    assert.deepEqual(
      second!.decisions
        .filter((d) => d.decision === 'redeploy')
        .map((d) => d.service)
        .sort(),
      ['svc007', 'svc107'],
    );
    // Logical calls per pass stay S DescribeSecret + ceil(V/10) DescribeServices + discovery; retries are extra
    // requests on the wire, inside the same concurrency slot.
    assert.deepEqual(first!.apiCalls, {
      ListServices: 1,
      DescribeServices: 20,
      DescribeSecret: 100,
      TagResource: 200,
    });
    // On the wire: each logical call, one more per injected fault, and one more per call a quota refused (200
    // TagResource in a few seconds is more than ECS's bucket; how many it refuses depends on the machine).
    const { wire, refused } = passes[0]!;
    t.diagnostic(`pass 1 refused by the account's quotas: ${JSON.stringify(refused)}`);
    const accepted = Object.fromEntries(Object.entries(wire).map(([a, n]) => [a, n - (refused[a] ?? 0)]));
    assert.deepEqual(accepted, {
      ListServices: 2,
      DescribeServices: 30,
      DescribeSecret: 110,
      TagResource: 210,
    });
    for (const p of passes) assert.ok(p.maxInFlight <= 10, `pass ${p.n}: ${p.maxInFlight} requests in flight`);
  });
});
