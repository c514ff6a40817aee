import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { SECRETS_TAG } from '../../shared/contract.ts';
import { createLogger } from '../../shared/logger.ts';
import { fingerprintV1 } from '../../watcher/fingerprint.ts';
import { type BindingSource, type PassOptions, passExitCode, runPass } from '../../watcher/run-pass.ts';
import { decodeState, encodeState } from '../../watcher/state-tag.ts';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { cluster, FINGERPRINT_TAG as FP, fleet, rotate, seeded, services, value } from '../helpers/ecs-fleet.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { PASS } from '../helpers/pass-options.ts';

// The watcher's safety rules (issue 12) through the real SDK against moto. Where moto does not answer as AWS does,
// the proxy in front of it does (test/helpers/aws-model.ts), and each test says so: secret version times
// (ListSecretVersionIds CreatedDate), ECS rollouts (a new PRIMARY beside the old one while it rolls out, then
// COMPLETED, FAILED or a circuit-breaker rollback), and answers lost on the wire (aws-proxy.ts `lose`).

let moto: Moto;
let proxy: AwsProxy;
let seedEcs: ECSClient;
let seedSm: SecretsManagerClient;
let ecs: ECSClient;
let sm: SecretsManagerClient;
let lines: Record<string, unknown>[] = [];
const rawLog: string[] = [];
let skew = 0;
const KEY_SECRET = 'secrets-init/watcher-state-key';

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  seedEcs = new ECSClient(clientOptions(moto.endpoint));
  seedSm = new SecretsManagerClient(clientOptions(moto.endpoint));
  ecs = new ECSClient(clientOptions(proxy.endpoint));
  sm = new SecretsManagerClient(clientOptions(proxy.endpoint));
});
after(async () => {
  for (const c of [seedEcs, seedSm, ecs, sm]) c?.destroy();
  await proxy?.close();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  proxy.resetCounts();
  proxy.clearFaults();
  lines = [];
  skew = 0;
});
afterEach(() => {
  // The watcher reads no secret value but its state key's (by its own id), and no seeded value reaches a log line.
  for (const body of proxy.bodies('GetSecretValue')) assert.match(body, new RegExp(KEY_SECRET));
  assert.equal(proxy.count('BatchGetSecretValue'), 0);
  const all = rawLog.join('\n');
  for (const v of seeded) assert.ok(!all.includes(v), 'a seeded value reached a log line');
});

const log = createLogger('debug', {
  write: (s: string) => {
    rawLog.push(s);
    lines.push(JSON.parse(s));
  },
});
const events = (event: string) => lines.filter((l) => l.event === event);

const pass = (o: Partial<PassOptions> = {}) =>
  runPass({ ecs, secrets: sm, log, now: () => Date.now() + skew }, { ...PASS, ...o });

const decisions = (r: { decisions: readonly { service: string; decision: string; reason: string }[] }) =>
  r.decisions.map((d) => `${d.service}:${d.decision}:${d.reason}`);
const updates = () => proxy.bodies('UpdateService').map((b) => (JSON.parse(b) as { service: string }).service);

async function service(name: string, clusterName = 'prod') {
  const res = await seedEcs.send(
    new DescribeServicesCommand({ cluster: clusterName, services: [name], include: ['TAGS'] }),
  );
  const s = res.services![0]!;
  return { arn: s.serviceArn!, tag: s.tags?.find((t) => t.key === FP)?.value, primary: s.deployments?.[0]?.id };
}
const tag = (arn: string, v: string) =>
  seedEcs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: FP, value: v }] }));

/** The state key in Secrets Manager (48 random characters, scanned for like every seeded value). */
async function stateKey(): Promise<void> {
  await seedSm.send(new CreateSecretCommand({ Name: KEY_SECRET, SecretString: value().padEnd(48, 'k') }));
}

describe('watch safety against moto (real SDK; rollouts, version times and lost answers modelled in the proxy)', () => {
  it('rival runs do not multiply: three concurrent runs send one UpdateService per service', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db', c: 'db', d: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    // EventBridge delivering twice and the schedule: three runs at once, each claiming and waiting for claims to
    // settle before it sends anything.
    const runs = await Promise.all([1, 2, 3].map(() => pass({ claimSettleMs: 500 })));
    assert.deepEqual(updates().sort(), ['a', 'b', 'c', 'd']);
    const outcomes = runs.flatMap((r) => r.outcomes.map((o) => `${o.outcome}${o.reason ? `:${o.reason}` : ''}`));
    assert.equal(outcomes.filter((o) => o === 'redeployed').length, 4);
    assert.ok(
      outcomes.every((o) => o === 'redeployed' || o === 'deferred:rival'),
      outcomes.join(' '),
    );
    for (const r of runs) assert.equal(passExitCode(r), 0);
  });

  it('the cap is per window, for every run together: back-to-back runs share it', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    await fleet(seedEcs, seedSm, 'prod', Object.fromEntries(names.map((n) => [n, 'db'])));
    await pass();
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    const first = await pass({ maxRedeploys: 5 });
    const second = await pass({ maxRedeploys: 5 });
    assert.equal(updates().length, 5, 'the second run within the window gets no budget of its own');
    assert.equal(second.outcomes.filter((o) => o.reason === 'cap').length, 7);
    assert.equal(first.outcomes.filter((o) => o.outcome === 'redeployed').length, 5);
    skew += 61_000;
    proxy.resetCounts();
    await pass({ maxRedeploys: 5 });
    assert.equal(updates().length, 5, 'the next window');
  });

  it('two watchers binding one service to different secrets are detected and refused, loudly, instead of taking turns', async () => {
    await fleet(seedEcs, seedSm, 'prod', { api: 'db openai' });
    const config: BindingSource = {
      kind: 'config',
      clusters: [{ name: 'prod', services: [{ name: 'api', secrets: ['db'] }] }],
    };
    await pass(); // discovery: db openai
    await pass({ source: config }); // the config watcher rebinds it once (decided from deployment times)
    await rotate(seedSm, 'openai');
    proxy.resetCounts();
    lines = [];
    const third = await pass(); // and the tag watcher finds its state rewritten by another binding
    assert.equal(passExitCode(third), 3);
    assert.deepEqual(
      third.failures.map((f) => [f.service, f.stage]),
      [['api', 'binding']],
    );
    assert.match(String(events('watch.failure')[0]?.error), /another watcher binds it differently/);
    // The config watcher finds its own state (nothing of its binding rotated); the tag watcher refuses on every pass
    // until the service is bound once.
    assert.equal(passExitCode(await pass({ source: config })), 0);
    assert.equal(passExitCode(await pass()), 3);
    assert.equal(proxy.count('UpdateService'), 0, 'neither redeploys it for the other');
  });

  it('a principal who can only tag cannot cause a redeploy: a forged or copied state is refused loudly and decided from deployment times', async () => {
    await stateKey();
    await fleet(seedEcs, seedSm, 'prod', { api: 'db', web: 'db' });
    const first = await pass({ stateKey: KEY_SECRET });
    assert.deepEqual(decisions(first), ['api:record:no-state', 'web:record:no-state']);
    const api = await service('api');
    const web = await service('web');
    assert.equal(decodeState(api.tag, api.arn, undefined).trust, 'unsigned', 'signed: m= carries a MAC');
    assert.doesNotMatch(api.tag!, / m=-$/);

    // Forged: a state that says api runs other versions, signed with a key the attacker guessed.
    const read = decodeState(api.tag, api.arn, undefined);
    assert.equal(read.trust, 'unsigned');
    if (read.trust !== 'unsigned') return;
    await tag(
      api.arn,
      encodeState({ ...read.tag, fingerprint: '0'.repeat(32) }, api.arn, Buffer.from('guessed-key-guessed')),
    );
    // Copied: web's genuine state put on api after an edit would not verify either (the MAC covers the ARN).
    await tag(web.arn, encodeState({ ...read.tag, fingerprint: '1'.repeat(32) }, web.arn, undefined));
    proxy.resetCounts();
    lines = [];
    const forged = await pass({ stateKey: KEY_SECRET });
    assert.equal(proxy.count('UpdateService'), 0, 'no bound secret rotated since the deployments: no redeploy');
    assert.equal(passExitCode(forged), 3);
    assert.deepEqual(
      forged.failures.map((f) => [f.service, f.stage]),
      [['api', 'state']],
    );
    assert.deepEqual(decisions(forged), ['api:record:no-state', 'web:record:no-state']);
    assert.equal(forged.decisions.find((d) => d.service === 'web')?.trust, 'untrusted');
  });

  it('a principal who can only tag cannot suppress a redeploy: a stripped state after a rotation is decided from deployment times', async () => {
    await stateKey();
    await fleet(seedEcs, seedSm, 'prod', { api: 'db' });
    await pass({ stateKey: KEY_SECRET });
    await rotate(seedSm, 'db');
    const api = await service('api');
    await seedEcs.send(new UntagResourceCommand({ resourceArn: api.arn, tagKeys: [FP] }));
    proxy.resetCounts();
    const result = await pass({ stateKey: KEY_SECRET });
    // Modelled: the secret's LastChangedDate to the millisecond (moto keeps whole seconds).
    assert.deepEqual(decisions(result), ['api:redeploy:changed-since-deployment']);
    assert.deepEqual(updates(), ['api']);
  });

  it('AWSCURRENT moved back after a completed redeploy, then the state stripped: the label move is a change', async () => {
    await fleet(seedEcs, seedSm, 'prod', { api: 'db' });
    await pass();
    const first = await seedSm.send(new DescribeSecretCommand({ SecretId: 'db' }));
    const v1 = Object.entries(first.VersionIdsToStages ?? {}).find(([, st]) => st.includes('AWSCURRENT'))![0];
    await rotate(seedSm, 'db');
    await pass(); // redeployed to v2
    await pass(); // completed
    const second = await seedSm.send(new DescribeSecretCommand({ SecretId: 'db' }));
    const v2 = Object.entries(second.VersionIdsToStages ?? {}).find(([, st]) => st.includes('AWSCURRENT'))![0];
    await seedSm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'db',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v1,
        RemoveFromVersionId: v2,
      }),
    );
    const api = await service('api');
    await seedEcs.send(new UntagResourceCommand({ resourceArn: api.arn, tagKeys: [FP] }));
    proxy.resetCounts();
    // Modelled: LastChangedDate moves with the label (moto leaves it); v1 itself was created before the deployment.
    const result = await pass();
    assert.deepEqual(decisions(result), ['api:redeploy:changed-since-deployment']);
    assert.deepEqual(updates(), ['api']);
  });

  it('a first-sight record that failed never loses a rotation: decided from what the tasks can have seen', async () => {
    await fleet(seedEcs, seedSm, 'prod', { api: 'db' });
    proxy.addFault({ action: 'TagResource', kind: 'accessDenied' });
    assert.equal(passExitCode(await pass()), 3);
    proxy.clearFaults();
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    const result = await pass();
    assert.deepEqual(decisions(result), ['api:redeploy:changed-since-deployment']);
    assert.deepEqual(updates(), ['api']);
  });

  it('a service created just after a rotation is recorded, not redeployed; one created just before is redeployed', async () => {
    await cluster(seedEcs, 'prod');
    await seedSm.send(new CreateSecretCommand({ Name: 'db', SecretString: value() }));
    await services(seedEcs, 'prod', { early: 'db' });
    await rotate(seedSm, 'db');
    await services(seedEcs, 'prod', { late: 'db' });
    const result = await pass();
    assert.deepEqual(decisions(result), ['early:redeploy:changed-since-deployment', 'late:record:no-state']);
  });

  it('in flight means wait: a rollout in progress is not redeployed and stays due; it goes once the rollout ends', async () => {
    await fleet(seedEcs, seedSm, 'prod', { api: 'db' });
    await pass();
    // Modelled: an operator's deployment that is still rolling out (a PRIMARY IN_PROGRESS beside the ACTIVE one).
    moto.model.rollout('api', 'in-progress');
    await seedEcs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'api', forceNewDeployment: true }));
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    const waiting = await pass();
    assert.deepEqual(decisions(waiting), ['api:wait:deployment-in-progress']);
    assert.equal(proxy.count('UpdateService'), 0);
    assert.equal(proxy.count('DescribeServices'), 1, 'DescribeServices says it: no extra call');
    const line = events('watch.pass').at(-1)!;
    assert.equal(line.WaitingOnDeployment, 1);
    moto.model.finish('api');
    proxy.resetCounts();
    // Its state speaks for the deployment before the operator's: decided from times, db changed after it began.
    const after = await pass();
    assert.deepEqual(decisions(after), ['api:redeploy:changed-since-deployment']);
    assert.deepEqual(updates(), ['api']);
  });

  it('outcomes: completed, failed and rolled back are each reported once; a failed one is an error and a metric, and is not retried for the same versions', async () => {
    await fleet(seedEcs, seedSm, 'prod', { ok: 'db', bad: 'db', back: 'db', gone: 'db' });
    await pass();
    // Modelled: how each rollout ends (moto never ends one), and the service deployments ECS lists (moto has none).
    moto.model.rollout('bad', 'failed');
    moto.model.rollout('back', 'rolled-back');
    moto.model.rollout('gone', 'rolled-back');
    await rotate(seedSm, 'db');
    await pass();
    // gone's rollback finished before the next pass: ECS's words no longer say it; its service deployments do.
    moto.model.settle('gone');
    lines = [];
    proxy.resetCounts();
    const reported = await pass();
    assert.deepEqual(
      events('watch.deployment').map((e) => [e.service, e.result, e.level]),
      [
        ['back', 'rolled-back', 'error'],
        ['bad', 'failed', 'error'],
        ['gone', 'rolled-back', 'error'],
        ['ok', 'completed', 'info'],
      ],
    );
    assert.equal(proxy.count('ListServiceDeployments'), 1, 'only for gone, whose deployment left the list');
    assert.deepEqual(decisions(reported), [
      'back:record:redeploy-rolled-back',
      'bad:record:redeploy-failed',
      'gone:record:redeploy-rolled-back',
      'ok:record:redeploy-completed',
    ]);
    const metrics = events('watch.pass').at(-1)!;
    assert.equal(metrics.RedeploysFailed, 3);
    assert.equal(metrics.RedeploysRolledBack, 2);
    assert.equal(metrics.RedeploysCompleted, 1);
    lines = [];
    proxy.resetCounts();
    const next = await pass();
    assert.deepEqual(decisions(next), [
      'back:skip:failed-before',
      'bad:skip:failed-before',
      'gone:skip:failed-before',
      'ok:skip:unchanged',
    ]);
    assert.equal(events('watch.deployment').length, 0, 'reported once');
    assert.equal(proxy.count('UpdateService'), 0, 'not retried in a loop');
    // A new rotation (the fix) redeploys them again.
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    await pass();
    assert.deepEqual(updates().sort(), ['back', 'bad', 'gone', 'ok']);
  });

  it('CODE_DEPLOY and EXTERNAL services are excluded (no UpdateService ECS would refuse), not failed on every pass', async () => {
    await fleet(seedEcs, seedSm, 'prod', { api: 'db' });
    for (const [name, type] of [
      ['bluegreen', 'CODE_DEPLOY'],
      ['external', 'EXTERNAL'],
    ] as const) {
      await seedEcs.send(
        new CreateServiceCommand({
          cluster: 'prod',
          serviceName: name,
          taskDefinition: 'app',
          desiredCount: 0,
          deploymentController: { type },
          tags: [{ key: SECRETS_TAG, value: 'db' }],
        }),
      );
    }
    await pass();
    await rotate(seedSm, 'db');
    for (let n = 0; n < 2; n++) {
      proxy.resetCounts();
      const result = await pass();
      assert.equal(passExitCode(result), 0);
      assert.deepEqual(
        result.decisions.filter((d) => d.service !== 'api').map((d) => `${d.service}:${d.decision}:${d.reason}`),
        ['bluegreen:exclude:deployment-controller', 'external:exclude:deployment-controller'],
      );
      assert.deepEqual(updates(), n === 0 ? ['api'] : []);
    }
  });

  it("another version's state does not flip-flop: the first watcher's v1 fingerprint is taken as it is, a newer format is left alone", async () => {
    await fleet(seedEcs, seedSm, 'prod', { old: 'db', newer: 'db' });
    const old = await service('old');
    const newer = await service('newer');
    // What the first watcher wrote for the same versions.
    const described = await seedSm.send(new DescribeSecretCommand({ SecretId: 'db' }));
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))![0];
    await tag(old.arn, fingerprintV1([{ arn: described.ARN!, currentVersionId: current }]));
    await tag(newer.arn, 'v3 s=ok whatever=1');
    proxy.resetCounts();
    const result = await pass();
    assert.deepEqual(decisions(result), ['old:record:no-state']);
    assert.deepEqual(
      result.failures.map((f) => [f.service, f.stage]),
      [['newer', 'state']],
    );
    assert.equal((await service('newer')).tag, 'v3 s=ok whatever=1', 'never overwritten');
    assert.equal(proxy.count('UpdateService'), 0);
  });

  it('flags mutable image tags of due services: one DescribeTaskDefinition per distinct task definition', async () => {
    await cluster(seedEcs, 'prod');
    await seedEcs.send(
      new RegisterTaskDefinitionCommand({
        family: 'pinned',
        containerDefinitions: [
          { name: 'app', image: `public.ecr.aws/docker/library/busybox@sha256:${'a'.repeat(64)}`, memory: 64 },
        ],
      }),
    );
    await seedSm.send(new CreateSecretCommand({ Name: 'db', SecretString: value() }));
    await services(seedEcs, 'prod', { a: 'db', b: 'db' });
    await seedEcs.send(
      new CreateServiceCommand({
        cluster: 'prod',
        serviceName: 'pinned',
        taskDefinition: 'pinned',
        desiredCount: 0,
        tags: [{ key: SECRETS_TAG, value: 'db' }],
      }),
    );
    await pass();
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    lines = [];
    const result = await pass();
    assert.equal(proxy.count('DescribeTaskDefinition'), 2, 'app (a and b) and pinned');
    assert.deepEqual(
      result.decisions.map((d) => [d.service, d.mutableImages ?? []]),
      [
        ['a', ['app: public.ecr.aws/docker/library/busybox:latest (version consistency enabled)']],
        ['b', ['app: public.ecr.aws/docker/library/busybox:latest (version consistency enabled)']],
        ['pinned', []],
      ],
    );
    assert.match(String(events('watch.decision')[0]?.msg), /re-resolves its mutable image tags/);
  });

  it('each pass emits CloudWatch Embedded Metric Format on its summary line', async () => {
    await fleet(seedEcs, seedSm, 'prod', { a: 'db', b: 'db', c: 'db' });
    await pass();
    await rotate(seedSm, 'db');
    lines = [];
    await pass({ maxRedeploys: 2, metricsNamespace: 'Acme/SecretsInit' });
    const line = events('watch.pass')[0]!;
    const emf = (
      line._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
    ).CloudWatchMetrics[0]!;
    assert.equal(emf.Namespace, 'Acme/SecretsInit');
    assert.deepEqual(emf.Dimensions, [[]]);
    for (const { Name } of emf.Metrics) assert.equal(typeof line[Name], 'number', Name);
    assert.equal(line.RedeploysAccepted, 2);
    assert.equal(line.RedeploysCapped, 1);
    assert.equal(line.SecretsRead, 1);
    assert.equal(line.ServicesSeen, 3);
    assert.equal(line.Failures, 0);
    assert.equal(line.PassCompleted, 1);
  });
});
