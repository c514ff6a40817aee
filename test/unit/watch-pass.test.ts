// runPass against the one in-memory AWS (test/fakes/aws.ts): what a pass reads, decides, writes and reports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { FINGERPRINT_TAG, SECRETS_TAG } from '../../shared/contract.ts';
import { createLogger } from '../../shared/logger.ts';
import { failureMessage, type PassOptions, passExitCode, runPass } from '../../watcher/run-pass.ts';
import { decodeState, encodeState } from '../../watcher/state-tag.ts';
import { ACCOUNT, FakeAws, REGION } from '../fakes/aws.ts';

const KEY_SECRET = 'watcher/state-key';

function logs() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines, events: (event: string) => lines.filter((l) => l.event === event) };
}

const base: PassOptions = {
  source: { kind: 'discover', clusters: ['prod'] },
  maxRedeploys: 10,
  capWindowMs: 60_000,
  dryRun: false,
  concurrency: 8,
  timeoutMs: 5000,
  claimSettleMs: 0,
  claimTtlMs: 120_000,
  metricsNamespace: 'Test/Watcher',
};

/** A fake AWS, a logger, and `pass(options, run)`; `signed`: a state key in Secrets Manager and the watcher using it. */
function world(opts: { signed?: boolean; settle?: number } = {}) {
  const aws = new FakeAws();
  if (opts.signed) {
    aws.addSecret(KEY_SECRET);
    aws.secrets.get(KEY_SECRET)!.value = 'k'.repeat(48);
  }
  const l = logs();
  let runs = 0;
  const pass = (o: Partial<PassOptions> = {}, run?: string) =>
    runPass(
      {
        ecs: aws.ecs,
        secrets: aws.sm,
        log: l.log,
        now: () => aws.clock,
        // Settling lets other runs in this process write their claims first (a real wait would only be longer).
        sleep: () => new Promise((r) => setTimeout(r, opts.settle ?? 1)),
        runId: () => run ?? `run${String(++runs).padStart(4, '0')}`,
      },
      { ...base, ...(opts.signed && { stateKey: KEY_SECRET }), ...o },
    );
  return { aws, pass, ...l };
}

/** prod: api (db, openai), worker (db), web (no binding tag: not ours). */
function seeded(opts: { signed?: boolean } = {}) {
  const w = world(opts);
  w.aws.addSecret('db');
  w.aws.addSecret('openai');
  w.aws.addService('prod', 'api', { [SECRETS_TAG]: 'db openai' });
  w.aws.addService('prod', 'worker', { [SECRETS_TAG]: 'db' });
  w.aws.addService('prod', 'web');
  return w;
}

/** n services bound to db in prod, seen once (recorded). */
async function fleet(n: number, opts: { signed?: boolean } = {}) {
  const w = world(opts);
  w.aws.addSecret('db');
  const names = Array.from({ length: n }, (_, i) => `s${String(i).padStart(2, '0')}`);
  for (const name of names) w.aws.addService('prod', name, { [SECRETS_TAG]: 'db' });
  await w.pass();
  w.aws.calls.length = 0;
  return { ...w, names };
}

/** A gate a test opens once: `wait` resolves when `open` was called (to order two runs' calls). */
function gate() {
  let open!: () => void;
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}

/** A pass of run `runthis` whose deadline (300 ms) passes in its second settle (that of a claim written again). */
function passCutInSecondSettle(aws: FakeAws) {
  let sleeps = 0;
  return runPass(
    {
      ecs: aws.ecs,
      secrets: aws.sm,
      log: createLogger('error', { write: () => {} }),
      now: () => aws.clock,
      sleep: (_ms, signal) =>
        ++sleeps === 1 || signal.aborted
          ? Promise.resolve()
          : new Promise((r) => signal.addEventListener('abort', () => r(), { once: true })),
      runId: () => 'runthis',
    },
    { ...base, timeoutMs: 300 },
  );
}

/** An operator's deployment of prod/`name` begins (rolling out beside the one it replaces), as a claim settles. */
function deployMeanwhile(aws: FakeAws, name: string) {
  const s = aws.service('prod', name);
  const old = s.deployments[0]!;
  s.deployments = [
    {
      ...old,
      id: 'ecs-svc/9999999999999999999',
      rolloutState: 'IN_PROGRESS',
      createdAt: aws.clock,
      serviceStatus: 'IN_PROGRESS',
    },
    { ...old, status: 'ACTIVE' },
  ];
}

/** The first claim (a `pending` state) the watcher wrote, as the tag value it sent. */
function firstClaim(aws: FakeAws): string | undefined {
  return aws.calls
    .filter((c) => c.action === 'TagResource')
    .map((c) => (c.input.tags as { value: string }[])[0]!.value)
    .find((v) => v.includes(' s=pending '));
}

const stateOf = (aws: FakeAws, name: string, key?: Buffer) =>
  decodeState(aws.tag('prod', name, FINGERPRINT_TAG), aws.service('prod', name).arn, key);

describe('runPass: deciding', () => {
  it('records the state of each tagged service on first sight and redeploys nothing', async () => {
    const { aws, pass, events } = seeded();
    const result = await pass();
    assert.equal(aws.count('UpdateService'), 0);
    assert.equal(aws.count('TagResource'), 2);
    const api = stateOf(aws, 'api');
    assert.ok(api.trust === 'unsigned' && api.tag.state === 'ok');
    assert.equal(aws.tag('prod', 'web', FINGERPRINT_TAG), undefined, 'untagged services are not ours');
    assert.deepEqual(
      events('watch.decision').map((e) => [e.service, e.decision, e.reason]),
      [
        ['api', 'record', 'no-state'],
        ['worker', 'record', 'no-state'],
      ],
    );
    assert.equal(passExitCode(result), 0);
  });

  it('redeploys once, however many of its secrets rotated; the deployment is reported done on the next pass, then quiet', async () => {
    const { aws, pass, events } = seeded();
    await pass();
    aws.rotate('db', 'db-v2');
    aws.rotate('openai', 'oa-v2');
    aws.calls.length = 0;
    await pass();
    assert.deepEqual(aws.updated().sort(), ['api', 'worker']);
    for (const service of ['api', 'worker']) {
      const order = aws.calls
        .filter((c) => c.input.service === service || String(c.input.resourceArn).endsWith(`/${service}`))
        .map((c) => c.action);
      assert.deepEqual(order, ['TagResource', 'UpdateService', 'TagResource'], `${service}: claim, redeploy, state`);
    }
    aws.calls.length = 0;
    await pass();
    assert.deepEqual(
      events('watch.deployment').map((e) => [e.service, e.result]),
      [
        ['api', 'completed'],
        ['worker', 'completed'],
      ],
    );
    await pass();
    assert.equal(aws.count('UpdateService'), 0);
  });

  it('a pending rotation (AWSPENDING) triggers nothing', async () => {
    const { aws, pass } = seeded();
    await pass();
    aws.pend('db', 'db-v2');
    await pass();
    assert.equal(aws.count('UpdateService'), 0);
  });

  it('a service bound by name and by ARN, in its cluster by name and by ARN, gets one decision a pass and converges', async () => {
    const { aws, pass } = world();
    aws.addSecret('db');
    aws.addSecret('openai');
    aws.addService('prod', 'api');
    const clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`;
    const source = {
      kind: 'config' as const,
      clusters: [
        { name: 'prod', services: [{ name: 'api', secrets: ['db'] }] },
        {
          name: clusterArn,
          services: [{ name: `${clusterArn.replace('cluster', 'service')}/api`, secrets: ['openai'] }],
        },
      ],
    };
    const first = await pass({ source });
    assert.deepEqual(
      first.decisions.map((d) => [d.service, d.decision, d.secretIds]),
      [['api', 'record', ['db', 'openai']]],
    );
    await pass({ source });
    assert.deepEqual(aws.updated(), [], 'no redeploy without a rotation');
    aws.rotate('openai', 'oa-v2');
    await pass({ source });
    await pass({ source });
    assert.deepEqual(aws.updated(), ['api'], 'one redeploy for one rotation');
  });

  it('binds a service through its continuation tags, read in order', async () => {
    const { aws, pass } = seeded();
    aws.addSecret('stripe');
    aws.addService('prod', 'billing', { [SECRETS_TAG]: 'db', [`${SECRETS_TAG}-2`]: 'stripe openai' });
    const result = await pass();
    assert.equal(result.failures.length, 0);
    assert.deepEqual(result.decisions.find((d) => d.service === 'billing')?.secretIds, ['db', 'openai', 'stripe']);
    aws.rotate('stripe', 'stripe-v2');
    await pass();
    assert.deepEqual(aws.updated(), ['billing'], 'a rotation of a secret from the second tag redeploys it');
  });

  it('--dry-run decides and logs but writes nothing', async () => {
    const { aws, pass, events } = seeded();
    await pass({ dryRun: true });
    assert.equal(aws.count('UpdateService') + aws.count('TagResource'), 0);
    assert.deepEqual(
      events('watch.decision').map((e) => [e.service, e.decision, e.dryRun]),
      [
        ['api', 'record', true],
        ['worker', 'record', true],
      ],
    );
    assert.deepEqual(events('watch.outcome'), []);
  });
});

describe('runPass: a lost answer, a lost tag, a lost record (issue: safety under faults)', () => {
  it('the cap holds when UpdateService answers are lost: 12 due, cap 2, two sent, and none more in the window', async () => {
    const { aws, pass, events } = await fleet(12);
    aws.rotate('db', 'db-v2');
    aws.fault = (action) => (action === 'UpdateService' ? { lose: 'ServerException' } : undefined);
    const first = await pass({ maxRedeploys: 2 });
    assert.equal(aws.count('UpdateService'), 2, 'a lost answer uses up its slot: it may have started');
    assert.deepEqual(
      first.outcomes.map((o) => o.outcome).sort(),
      [...Array(10).fill('deferred'), 'unknown', 'unknown'].sort(),
    );
    const summary = events('watch.pass').at(-1)!;
    assert.deepEqual(
      [summary.redeployed, summary.unknown, summary.RedeploysAccepted],
      [0, 2, 0],
      'accepted, not attempts',
    );
    aws.fault = () => undefined;
    await pass({ maxRedeploys: 2 });
    assert.equal(aws.count('UpdateService'), 2, 'the window is spent: the two that may have started count');
    aws.tick(61_000);
    await pass({ maxRedeploys: 2 });
    assert.equal(aws.count('UpdateService'), 4, 'the next window serves the next two');
  });

  it('a definite refusal frees its slot: the next due service takes it in the same pass', async () => {
    const { aws, pass } = await fleet(3);
    aws.rotate('db', 'db-v2');
    aws.fault = (action, input) =>
      action === 'UpdateService' && input.service === 's00' ? { refuse: 'InvalidParameterException' } : undefined;
    const result = await pass({ maxRedeploys: 1 });
    assert.deepEqual(aws.updated(), ['s00', 's01']);
    assert.deepEqual(
      result.outcomes.map((o) => `${o.decision.service}:${o.outcome}`),
      ['s00:failed', 's01:redeployed', 's02:deferred'],
    );
    const s00 = stateOf(aws, 's00');
    assert.ok(s00.trust === 'unsigned' && s00.tag.state === 'ok', 'the refused claim was taken back');
  });

  it('a lost outcome never hides a rollback: redeployed, its state tag refused, then AWSCURRENT moved back: redeployed again', async () => {
    const { aws, pass } = await fleet(1);
    aws.rotate('db', 'db-v2');
    // The claim is written, UpdateService is accepted, the state after it is refused (the watcher could as well
    // have been killed there).
    let tags = 0;
    aws.fault = (action) =>
      action === 'TagResource' && ++tags === 2 ? { refuse: 'AccessDeniedException' } : undefined;
    await pass();
    assert.deepEqual(aws.updated(), ['s00']);
    aws.fault = () => undefined;
    aws.stageBack('db', 'db-v1'); // the usual reaction to a bad rotation
    // The claim is followed: its deployment is recorded as going to v2 (reported once), then v1 is due.
    await pass();
    await pass();
    assert.deepEqual(aws.updated(), ['s00', 's00'], 'its tasks may hold v2: redeployed to v1');
  });

  it('a failed first-sight record never loses a rotation: decided from what the tasks can have seen', async () => {
    const { aws, pass } = world();
    aws.addSecret('db');
    aws.addService('prod', 'api', { [SECRETS_TAG]: 'db' });
    aws.fault = (action) => (action === 'TagResource' ? { refuse: 'AccessDeniedException' } : undefined);
    await pass();
    aws.fault = () => undefined;
    aws.rotate('db', 'db-v2');
    const result = await pass();
    assert.deepEqual(aws.updated(), ['api']);
    assert.equal(result.decisions[0]?.reason, 'changed-since-deployment');
  });

  it('a service created before a rotation and first seen after it is redeployed; one created after it is only recorded', async () => {
    const { aws, pass } = world();
    aws.addSecret('db');
    aws.addService('prod', 'old', { [SECRETS_TAG]: 'db' });
    aws.rotate('db', 'db-v2');
    aws.addService('prod', 'new', { [SECRETS_TAG]: 'db' });
    const result = await pass();
    assert.deepEqual(
      result.decisions.map((d) => [d.service, d.decision, d.reason]),
      [
        ['new', 'record', 'no-state'],
        ['old', 'redeploy', 'changed-since-deployment'],
      ],
    );
  });

  it('a state tag stripped by IaC after a rotation still redeploys', async () => {
    const { aws, pass } = await fleet(1);
    aws.rotate('db', 'db-v2');
    aws.service('prod', 's00').tags.delete(FINGERPRINT_TAG);
    await pass();
    assert.deepEqual(aws.updated(), ['s00']);
  });
});

describe('runPass: rival runs (the rule firing per secret, EventBridge twice, the schedule)', () => {
  it('three runs at once redeploy each due service once, not three times', async () => {
    const { aws, pass } = await fleet(4);
    aws.rotate('db', 'db-v2');
    const results = await Promise.all([pass({}, 'runaaaa'), pass({}, 'runbbbb'), pass({}, 'runcccc')]);
    assert.deepEqual(aws.updated().sort(), ['s00', 's01', 's02', 's03']);
    const rivals = results.flatMap((r) => r.outcomes).filter((o) => o.reason === 'rival');
    assert.equal(rivals.length, 8, 'each service was left to one run by the other two');
    await Promise.all([pass(), pass()]);
    assert.equal(aws.count('UpdateService'), 4, 'and nobody redeploys them again');
  });

  it('an operator who rebinds a service twice is refused for six hours at most, then the rotation goes', async () => {
    const { aws, pass } = world();
    for (const id of ['db', 'openai', 'cache']) aws.addSecret(id);
    aws.addService('prod', 'api', { [SECRETS_TAG]: 'db' });
    await pass();
    aws.tick(60_000);
    aws.service('prod', 'api').tags.set(SECRETS_TAG, 'db openai');
    await pass();
    aws.tick(60_000);
    aws.service('prod', 'api').tags.set(SECRETS_TAG, 'db openai cache');
    const soon = await pass();
    assert.deepEqual(
      soon.failures.map((f) => f.stage),
      ['binding'],
    );
    aws.tick(6 * 3_600_000);
    aws.rotate('db', 'db-v2');
    const later = await pass();
    assert.equal(later.failures.length, 0);
    assert.deepEqual(aws.updated(), ['api']);
  });

  it('runs at once share the cap: 6 due, cap 2, two identical runs redeploy 2, not 4', async () => {
    const { aws, pass } = await fleet(6);
    aws.rotate('db', 'db-v2');
    await Promise.all([pass({ maxRedeploys: 2 }, 'runaaaa'), pass({ maxRedeploys: 2 }, 'runbbbb')]);
    assert.equal(aws.count('UpdateService'), 2);
  });

  it('the deadline during the settle: the claims are taken back, nothing is sent, the services stay due', async () => {
    const w = world({ settle: 400 }); // the settle outlasts the pass deadline below
    w.aws.addSecret('db');
    for (const name of ['s00', 's01']) w.aws.addService('prod', name, { [SECRETS_TAG]: 'db' });
    await w.pass();
    const { aws, pass } = w;
    aws.calls.length = 0;
    aws.rotate('db', 'db-v2');
    const before = aws.tag('prod', 's00', FINGERPRINT_TAG);
    const result = await pass({ claimSettleMs: 400, timeoutMs: 150 });
    assert.equal(aws.count('UpdateService'), 0);
    assert.deepEqual(
      result.outcomes.map((o) => `${o.outcome}:${o.reason}`),
      ['deferred:deadline', 'deferred:deadline'],
    );
    assert.equal(aws.tag('prod', 's00', FINGERPRINT_TAG), before, 'the claim was taken back');
  });

  it('back-to-back runs share the cap: 40 due, cap 10, two runs in the window redeploy 10', async () => {
    const { aws, pass } = await fleet(40);
    aws.rotate('db', 'db-v2');
    await pass({ maxRedeploys: 10 });
    await pass({ maxRedeploys: 10 });
    assert.equal(aws.count('UpdateService'), 10);
  });

  it("waits for another run's fresh claim, and takes over an abandoned one", async () => {
    const { aws, pass, events } = await fleet(1);
    aws.rotate('db', 'db-v2');
    // A rival claimed it and died before UpdateService reached ECS (its claim is all that is left).
    aws.beforeAnswer = (action) => {
      if (action === 'UpdateService') throw new Error('killed');
    };
    await pass({}, 'deadbeef').catch(() => undefined);
    aws.beforeAnswer = () => {};
    aws.fault = () => undefined;
    aws.calls.length = 0;
    assert.equal(
      stateOf(aws, 's00').trust === 'unsigned' && (stateOf(aws, 's00') as { tag: { state: string } }).tag.state,
      'pending',
    );
    await pass();
    assert.equal(aws.count('UpdateService'), 0);
    assert.equal(events('watch.decision').at(-1)?.reason, 'claimed-by-another-run');
    aws.tick(121_000);
    await pass();
    assert.deepEqual(aws.updated(), ['s00']);
  });

  it('two watchers binding one service to different secrets: detected, refused and said, never a redeploy loop', async () => {
    const { aws, pass, events } = world();
    aws.addSecret('db');
    aws.addSecret('openai');
    aws.addService('prod', 'api', { [SECRETS_TAG]: 'db' });
    const config = {
      kind: 'config' as const,
      clusters: [{ name: 'prod', services: [{ name: 'api', secrets: ['db', 'openai'] }] }],
    };
    const results = [];
    for (let i = 0; i < 6; i++) {
      aws.tick(61_000);
      results.push(await pass(i % 2 ? { source: config } : {}));
    }
    assert.equal(aws.count('UpdateService'), 0, 'no rotation: no redeploy, whoever writes the state');
    assert.ok(
      results.some((r) => r.failures.some((f) => f.stage === 'binding')),
      'the conflict is a failure (exit 3)',
    );
    assert.match(
      String(events('watch.failure').find((e) => e.stage === 'binding')?.error),
      /another watcher binds it differently/,
    );
  });
});

describe('runPass: tags are not a privilege escalation (signed state)', () => {
  it('a forged, copied or unsigned state tag makes no redeploy of a service whose secrets did not change', async () => {
    const { aws, pass } = await fleet(3, { signed: true });
    const arn = aws.service('prod', 's01').arn;
    const forged =
      'v2 s=ok f=00000000000000000000000000000000 b=00000000 d=- t=1 w=- r=evil x=0 m=AAAAAAAAAAAAAAAAAAAAAA';
    aws.service('prod', 's00').tags.set(FINGERPRINT_TAG, forged);
    aws.service('prod', 's01').tags.set(FINGERPRINT_TAG, aws.tag('prod', 's02', FINGERPRINT_TAG)!); // another's
    aws.service('prod', 's02').tags.set(FINGERPRINT_TAG, forged.replace(/m=.*$/, 'm=-')); // unsigned
    const result = await pass();
    assert.equal(aws.count('UpdateService'), 0);
    assert.deepEqual(
      result.failures.map((f) => [f.service, f.stage]),
      [
        ['s00', 'state'],
        ['s01', 'state'],
      ],
      'a signature that does not check out is loud (exit 3)',
    );
    assert.ok(
      decodeState(aws.tag('prod', 's01', FINGERPRINT_TAG), arn, Buffer.from('k'.repeat(48))).trust === 'signed',
      'rewritten, signed',
    );
  });

  it('a tagger cannot suppress a redeploy: a state forged to say "current" or stripped after a rotation still redeploys', async () => {
    const { aws, pass } = await fleet(2, { signed: true });
    aws.rotate('db', 'db-v2');
    aws.service('prod', 's00').tags.delete(FINGERPRINT_TAG);
    const claimsCurrent = aws.tag('prod', 's01', FINGERPRINT_TAG)!.replace(/ m=.*$/, ' m=-');
    aws.service('prod', 's01').tags.set(FINGERPRINT_TAG, claimsCurrent);
    await pass();
    assert.deepEqual(aws.updated().sort(), ['s00', 's01']);
  });

  it('an unreadable state key stops the pass before any write (loud, exit 3)', async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    aws.rotate('db', 'db-v2');
    aws.fault = (action) => (action === 'GetSecretValue' ? { refuse: 'AccessDeniedException' } : undefined);
    const result = await pass();
    assert.equal(passExitCode(result), 3);
    assert.equal(aws.count('UpdateService') + aws.count('TagResource'), 0);
    assert.match(failureMessage(result.failures.at(-1)!), /reading the state key: AccessDeniedException/);
  });
});

describe('runPass: replays and rollbacks (a state speaks for its deployment only; label moves count)', () => {
  it('an old signed state put back after a rotation and its redeploy causes no redeploy', async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    const old = aws.tag('prod', 's00', FINGERPRINT_TAG)!;
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass();
    aws.tick(120_000);
    await pass(); // completed
    aws.tick(3_600_000);
    aws.service('prod', 's00').tags.set(FINGERPRINT_TAG, old); // a tagger replays it
    const result = await pass();
    assert.equal(aws.count('UpdateService'), 1, 'nothing rotated since the deployment');
    assert.equal(result.decisions[0]?.reason, 'no-state');
  });

  it('an old signed state put back after AWSCURRENT moved back does not hide the rollback', async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    const old = aws.tag('prod', 's00', FINGERPRINT_TAG)!;
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass();
    aws.tick(120_000);
    await pass();
    aws.tick(60_000);
    aws.stageBack('db', 'db-v1');
    aws.service('prod', 's00').tags.set(FINGERPRINT_TAG, old);
    const result = await pass();
    assert.equal(aws.count('UpdateService'), 2, 'its tasks run v2: redeployed');
    assert.equal(result.decisions[0]?.reason, 'changed-since-deployment');
  });

  it('a state stripped after AWSCURRENT moved back: the label move is a change (LastChangedDate), redeployed', async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass();
    aws.tick(120_000);
    await pass();
    aws.tick(60_000);
    aws.stageBack('db', 'db-v1');
    aws.service('prod', 's00').tags.delete(FINGERPRINT_TAG);
    await pass();
    assert.equal(aws.count('UpdateService'), 2);
  });

  it('first sight of a version created before the deployment and made current after it: redeployed', async () => {
    const { aws, pass } = world({ signed: true });
    aws.addSecret('db');
    aws.tick(10_000);
    aws.pend('db', 'db-v2'); // a rotation's first step
    aws.tick(10_000);
    aws.addService('prod', 'api', { [SECRETS_TAG]: 'db' }); // its tasks read v1
    aws.tick(10_000);
    aws.stageBack('db', 'db-v2'); // the rotation's last step: AWSCURRENT moves to it
    aws.secrets.get('db')!.pending = undefined;
    await pass();
    assert.equal(aws.count('UpdateService'), 1);
  });

  it('an old claim put back long after is not followed: decided from deployment times', async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    aws.rotate('db', 'db-v2');
    await pass();
    // The genuine claim this pass wrote before UpdateService (signed by the watcher).
    const claim = firstClaim(aws);
    assert.ok(claim);
    aws.tick(120_000);
    await pass(); // completed
    aws.tick(3_600_000);
    // An operator deploys; then the old claim is put back.
    await aws.ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 's00', forceNewDeployment: true }));
    aws.tick(60_000);
    const before = aws.count('UpdateService');
    aws.service('prod', 's00').tags.set(FINGERPRINT_TAG, claim);
    const result = await pass();
    assert.equal(aws.count('UpdateService'), before, 'no redeploy');
    assert.equal(result.decisions[0]?.reason, 'no-state');
    assert.equal(result.failures.length, 0);
  });
});

describe('runPass: unbinding', () => {
  it('a binding tag removed while the state tag stays is a loud failure on every pass, never a silent stop', async () => {
    const { aws, pass } = await fleet(1);
    aws.service('prod', 's00').tags.delete(SECRETS_TAG);
    aws.rotate('db', 'db-v2');
    for (let n = 0; n < 2; n++) {
      const result = await pass();
      assert.equal(passExitCode(result), 3);
      assert.deepEqual(
        result.failures.map((f) => [f.service, f.stage]),
        [['s00', 'binding']],
      );
      assert.match(failureMessage(result.failures[0]!), /to stop watching it, remove both/);
    }
    aws.service('prod', 's00').tags.delete(FINGERPRINT_TAG); // unwatched on purpose: both tags gone
    assert.equal(passExitCode(await pass()), 0);
    assert.equal(aws.count('UpdateService'), 0);
  });
});

describe('runPass: knowing ECS deployments', () => {
  it('a service with a deployment in flight waits and stays due; once it ends, it is redeployed', async () => {
    const { aws, pass, events } = await fleet(1);
    aws.rollout.set('s00', 'in-progress');
    aws.rotate('db', 'db-v2');
    await pass(); // redeploys; its rollout is in flight
    aws.rotate('db', 'db-v3');
    await pass();
    assert.equal(aws.count('UpdateService'), 1, 'not while its rollout is in flight');
    assert.equal(events('watch.decision').at(-1)?.reason, 'deployment-in-progress');
    aws.finish('prod', 's00');
    await pass(); // its outcome, recorded (reported once)
    await pass();
    assert.equal(aws.count('UpdateService'), 2);
  });

  it('reports a failed redeploy once (an error and a metric) and does not retry it for the same versions', async () => {
    const { aws, pass, events } = await fleet(1);
    aws.rollout.set('s00', 'failed');
    aws.rotate('db', 'db-v2');
    await pass();
    const seen = await pass();
    const report = events('watch.deployment').at(-1)!;
    assert.deepEqual([report.level, report.result], ['error', 'failed']);
    assert.equal((events('watch.pass').at(-1) as Record<string, unknown>).RedeploysFailed, 1);
    assert.equal(seen.decisions[0]?.reason, 'redeploy-failed');
    await pass();
    await pass();
    assert.equal(aws.count('UpdateService'), 1, 'not retried in a loop');
    assert.equal(events('watch.decision').at(-1)?.reason, 'failed-before');
    aws.rollout.set('s00', 'completed');
    aws.rotate('db', 'db-v3');
    await pass();
    assert.equal(aws.count('UpdateService'), 2, 'new versions are tried');
  });

  it('reports a rollback that finished before the next pass (ECS no longer says so) as rolled back, from the service deployments', async () => {
    const { aws, pass, events } = await fleet(1);
    aws.rollout.set('s00', 'rolled-back');
    aws.rotate('db', 'db-v2');
    await pass();
    aws.settle('prod', 's00'); // the rollback is done: its reason is "completed", our deployment gone from the list
    aws.calls.length = 0;
    await pass();
    const report = events('watch.deployment').at(-1)!;
    assert.deepEqual([report.level, report.result], ['error', 'rolled-back']);
    assert.equal((events('watch.pass').at(-1) as Record<string, unknown>).RedeploysFailed, 1);
    assert.equal(aws.count('ListServiceDeployments'), 1, 'asked only for the service whose deployment left the list');
    aws.calls.length = 0;
    await pass();
    assert.equal(aws.count('ListServiceDeployments'), 0);
    assert.equal(aws.count('UpdateService'), 0, 'not retried for the same versions');
  });

  it('reports a circuit-breaker rollback as rolled back', async () => {
    const { aws, pass, events } = await fleet(1);
    aws.rollout.set('s00', 'rolled-back');
    aws.rotate('db', 'db-v2');
    await pass();
    await pass();
    assert.equal(events('watch.deployment').at(-1)?.result, 'rolled-back');
  });

  it('excludes CODE_DEPLOY and EXTERNAL services: reported, never sent UpdateService, no failure', async () => {
    const { aws, pass } = world();
    aws.addSecret('db');
    aws.addService('prod', 'bg', { [SECRETS_TAG]: 'db' }, { controller: 'CODE_DEPLOY' });
    aws.addService('prod', 'ext', { [SECRETS_TAG]: 'db' }, { controller: 'EXTERNAL' });
    aws.rotate('db', 'db-v2');
    const result = await pass();
    assert.deepEqual(
      result.decisions.map((d) => [d.service, d.decision, d.reason]),
      [
        ['bg', 'exclude', 'deployment-controller'],
        ['ext', 'exclude', 'deployment-controller'],
      ],
    );
    assert.equal(passExitCode(result), 0);
    assert.equal(aws.count('UpdateService'), 0);
  });

  it('flags mutable image tags of a due service, one DescribeTaskDefinition per task definition', async () => {
    const { aws, pass, events } = world();
    aws.addSecret('db');
    const td = aws.addTaskDefinition('app', [
      { name: 'app', image: 'registry/app:latest' },
      { name: 'sidecar', image: 'registry/side@sha256:' + 'a'.repeat(64) },
    ]);
    for (const n of ['a', 'b']) aws.addService('prod', n, { [SECRETS_TAG]: 'db' }, { taskDefinition: td });
    await pass();
    aws.rotate('db', 'db-v2');
    await pass();
    assert.equal(aws.count('DescribeTaskDefinition'), 1);
    const due = events('watch.decision').filter((e) => e.decision === 'redeploy');
    assert.deepEqual(
      due.map((e) => e.mutableImages),
      [
        ['app: registry/app:latest (version consistency enabled)'],
        ['app: registry/app:latest (version consistency enabled)'],
      ],
    );
  });

  it('a state written by a newer watcher is left alone and said (no flip-flop between versions)', async () => {
    const { aws, pass } = await fleet(1);
    aws.service('prod', 's00').tags.set(FINGERPRINT_TAG, 'v3 whatever it says');
    aws.rotate('db', 'db-v2');
    const result = await pass();
    assert.equal(aws.count('UpdateService') + aws.count('TagResource'), 0);
    assert.match(failureMessage(result.failures[0]!), /written by a newer watcher \(v3\)/);
  });

  it("reads the first watcher's v1 tags: equal versions are recorded, different ones redeployed", async () => {
    const { aws, pass } = world();
    aws.addSecret('db');
    aws.addService('prod', 'same', { [SECRETS_TAG]: 'db' });
    aws.addService('prod', 'rotated', { [SECRETS_TAG]: 'db' });
    await pass({ dryRun: true });
    const { fingerprintV1 } = await import('../../watcher/fingerprint.ts');
    const v1 = fingerprintV1([{ arn: aws.secrets.get('db')!.arn, currentVersionId: 'db-v1' }]);
    aws.service('prod', 'same').tags.set(FINGERPRINT_TAG, v1);
    aws.service('prod', 'rotated').tags.set(FINGERPRINT_TAG, v1);
    aws.secrets.get('db')!.current = 'db-v1';
    const result = await pass();
    assert.deepEqual(
      result.decisions.map((d) => [d.service, d.decision]),
      [
        ['rotated', 'record'],
        ['same', 'record'],
      ],
    );
  });
});

describe('runPass: reads, calls and failures', () => {
  it('a missing service, a deleted secret and an access error are logged, the rest completes, exit 3', async () => {
    const { aws, pass, events } = world();
    for (const s of ['db', 'denied']) aws.addSecret(s);
    const source = {
      kind: 'config' as const,
      clusters: [
        {
          name: 'prod',
          services: [
            { name: 'ghost', secrets: ['db'] },
            { name: 'api', secrets: ['db', 'deleted'] },
            { name: 'billing', secrets: ['denied'] },
            { name: 'worker', secrets: ['db'] },
          ],
        },
      ],
    };
    for (const s of ['api', 'billing', 'worker']) aws.addService('prod', s);
    aws.fault = (action, input) =>
      action === 'DescribeSecret' && input.SecretId === 'denied' ? { refuse: 'AccessDeniedException' } : undefined;
    const result = await pass({ source });
    assert.equal(passExitCode(result), 3);
    assert.deepEqual(
      events('watch.failure').map((e) => [e.service, e.secretId, e.error]),
      [
        ['api', 'deleted', 'ResourceNotFoundException'],
        ['billing', 'denied', 'AccessDeniedException'],
        ['ghost', null, 'service not found (MISSING)'],
      ],
    );
    assert.deepEqual(
      events('watch.decision').map((e) => e.service),
      ['worker'],
    );
    assert.ok(!JSON.stringify(events('watch.failure')).includes('LEAK'), 'no SDK message');
  });

  it('reports a service whose binding tags ECS would refuse, skips it, handles the others, exit 3', async () => {
    const { aws, pass, events } = seeded();
    aws.addService('prod', 'billing', { [SECRETS_TAG]: 'db,openai' });
    const result = await pass();
    assert.equal(passExitCode(result), 3);
    assert.deepEqual(
      events('watch.failure').map((e) => [e.service, e.stage]),
      [['billing', 'binding']],
    );
    assert.equal(
      failureMessage(result.failures[0]!),
      'reading the binding tags of service billing in prod: secrets-init/secrets: commas are not allowed in ECS tag values; separate ids with spaces',
    );
    assert.equal(aws.tag('prod', 'billing', FINGERPRINT_TAG), undefined, 'nothing written on a bad binding');
  });

  it('sends a write that stays throttled (ECS quota exhausted) again with back-off, in the same pass', async () => {
    const { aws, pass } = seeded();
    let throttles = 2;
    aws.fault = (action, input) =>
      action === 'TagResource' && String(input.resourceArn).endsWith('/api') && throttles-- > 0
        ? { refuse: 'ThrottlingException' }
        : undefined;
    const result = await pass();
    assert.equal(result.failures.length, 0);
    assert.equal(
      aws.calls.filter((c) => c.action === 'TagResource' && String(c.input.resourceArn).endsWith('/api')).length,
      3,
    );
  });

  it('reads each distinct secret once and services ten at a time: S + ceil(V/10) + pages, and no version times once states are known', async () => {
    const { aws, pass } = world();
    for (let i = 0; i < 40; i++) aws.addSecret(`sec${i}`);
    for (let i = 0; i < 120; i++) {
      const ids = [`sec${i % 40}`, `sec${(i * 7) % 40}`, `sec${(i + 13) % 40}`];
      aws.addService('prod', `svc${String(i).padStart(3, '0')}`, { [SECRETS_TAG]: ids.join(' ') });
    }
    for (let i = 0; i < 15; i++) aws.addService('prod', `other${i}`);
    const first = await pass();
    assert.equal(first.decisions.length, 120);
    assert.deepEqual(
      [
        aws.count('DescribeSecret'),
        aws.count('ListSecretVersionIds'),
        aws.count('DescribeServices'),
        aws.count('ListServices'),
      ],
      [40, 0, 14, 2],
      'first sight: DescribeSecret says when each secret last changed (LastChangedDate): no other call',
    );
    aws.calls.length = 0;
    await pass();
    assert.deepEqual(aws.counts(), { ListServices: 2, DescribeServices: 14, DescribeSecret: 40 });
  });

  it('without a LastChangedDate, reads version times only for services without a state to trust', async () => {
    const { aws, pass } = world();
    aws.withoutLastChangedDate = true;
    for (let i = 0; i < 4; i++) aws.addSecret(`sec${i}`);
    for (let i = 0; i < 6; i++) aws.addService('prod', `svc${i}`, { [SECRETS_TAG]: `sec${i % 4}` });
    await pass();
    assert.equal(aws.count('ListSecretVersionIds'), 4, 'first sight: one per secret');
    aws.calls.length = 0;
    await pass();
    assert.equal(aws.count('ListSecretVersionIds'), 0, 'states known: none');
  });

  it('keeps AWS calls in flight within the concurrency bound across 1000 secrets and 200 services', async () => {
    const { aws, pass } = world();
    aws.delay = () => 1;
    for (let i = 0; i < 1000; i++) aws.addSecret(`sec${i}`);
    for (let i = 0; i < 200; i++) {
      aws.addService('prod', `svc${i}`, {
        [SECRETS_TAG]: Array.from({ length: 5 }, (_, k) => `sec${i * 5 + k}`).join(' '),
      });
    }
    const result = await pass({ concurrency: 12 });
    assert.equal(result.failures.length, 0);
    assert.equal(aws.maxInFlight, 12);
  });

  it('ends a pass at its deadline: calls are aborted, the rest fail fast, exit 3', async () => {
    const { aws, pass } = seeded();
    aws.delay = () => 10_000;
    const started = Date.now();
    const result = await pass({ timeoutMs: 200 });
    assert.ok(Date.now() - started < 2000, `pass took ${Date.now() - started} ms`);
    assert.deepEqual(
      result.failures.map((f) => [f.stage, f.error]),
      [['discover', 'deadline exceeded']],
    );
  });

  it('no redeploy starts after the pass deadline: those not started stay due (exit 3) and go next pass', async () => {
    const { aws, pass } = await fleet(2);
    aws.rotate('db', 'db-v2');
    aws.delay = (action) => (action === 'UpdateService' ? 300 : 0);
    const result = await pass({ timeoutMs: 150, concurrency: 1 });
    assert.equal(passExitCode(result), 3);
    assert.ok(aws.count('UpdateService') <= 1);
    aws.delay = () => 0;
    await pass();
    await pass();
    assert.deepEqual(aws.updated().sort(), ['s00', 's01']);
  });

  it('logs one decision per service, one outcome per applied decision, and a summary with its metrics (EMF)', async () => {
    const { aws, pass, events } = seeded();
    await pass();
    aws.rotate('openai', 'oa-v2');
    await pass({ pass: 7 });
    const summary = events('watch.pass').at(-1)!;
    assert.equal(summary.pass, 7);
    assert.deepEqual([summary.due, summary.redeployed, summary.unchanged, summary.failures], [1, 1, 1, 0]);
    const emf = summary._aws as {
      CloudWatchMetrics: { Namespace: string; Dimensions: unknown; Metrics: { Name: string }[] }[];
    };
    assert.equal(emf.CloudWatchMetrics[0]!.Namespace, 'Test/Watcher');
    assert.deepEqual(emf.CloudWatchMetrics[0]!.Dimensions, [[]]);
    for (const m of emf.CloudWatchMetrics[0]!.Metrics) assert.equal(typeof summary[m.Name], 'number', m.Name);
    assert.deepEqual(
      [summary.PassCompleted, summary.RedeploysAccepted, summary.Failures, summary.ServicesSeen],
      [1, 1, 0, 2],
    );
    assert.deepEqual(
      events('watch.outcome')
        .slice(-1)
        .map((e) => [e.service, e.outcome]),
      [['api', 'redeployed']],
    );
  });
});

describe('failureMessage', () => {
  const f = { cluster: 'prod', service: 'api', secretId: null, error: 'AccessDeniedException' };
  for (const [stage, secretId, expected] of [
    ['discover', null, 'listing services of cluster prod: AccessDeniedException'],
    ['service', null, 'describing service api in prod: AccessDeniedException'],
    ['secret', 'db', 'reading secret "db" for service api: AccessDeniedException'],
    ['state', null, 'reading the state of service api in prod: AccessDeniedException'],
    ['redeploy', null, 'redeploying service api in prod: AccessDeniedException'],
    ['tag', null, 'writing the state of service api in prod: AccessDeniedException'],
  ] as const) {
    it(`names what failed and where (${stage})`, () => {
      assert.equal(failureMessage({ ...f, stage, secretId }), expected);
    });
  }
});

describe('a tagger cannot hide a rotation; the cap across passes; version times', () => {
  /** The signed state values this watcher wrote for s00, in order (from the TagResource calls). */
  const written = (aws: FakeAws, state: string) =>
    aws.calls
      .filter((c) => c.action === 'TagResource' && String(c.input.resourceArn).endsWith('/s00'))
      .map((c) => (c.input.tags as { value: string }[])[0]!.value)
      .filter((v) => v.includes(` s=${state} `));

  for (const replayed of ['deploying', 'pending'] as const) {
    it(`a tagger replaying the watcher's own old ${replayed} state cannot silently suppress a later rotation's redeploy`, async () => {
      const { aws, pass } = await fleet(1, { signed: true });
      aws.tick(10_000);
      aws.rotate('db', 'db-v2');
      await pass(); // redeployed to v2: claim (pending), then deploying
      const old = written(aws, replayed)[0];
      assert.ok(old, `the watcher wrote a ${replayed} state`);
      aws.tick(120_000);
      await pass(); // completed, recorded ok
      aws.tick(3_600_000);
      aws.rotate('db', 'db-v3'); // its tasks run v2: v3 must be redeployed
      const results = [];
      for (let n = 0; n < 3; n++) {
        aws.service('prod', 's00').tags.set(FINGERPRINT_TAG, old); // the tagger puts it back before each pass
        results.push(await pass());
        aws.tick(300_000);
      }
      const redeployed = aws.count('UpdateService') === 2;
      const loudEachPass = results.every((r) => passExitCode(r) !== 0);
      assert.ok(
        redeployed || loudEachPass,
        `v3 never redeployed and the passes exit ${results.map(passExitCode).join(', ')} (decisions: ${results
          .map((r) => `${r.decisions[0]?.decision}/${r.decisions[0]?.reason}`)
          .join(', ')})`,
      );
    });
  }

  for (const [what, tamper] of [
    ['strips it', (tags: Map<string, string>) => tags.delete(FINGERPRINT_TAG)],
    [
      'writes an unsigned state over it',
      (tags: Map<string, string>) => tags.set(FINGERPRINT_TAG, tags.get(FINGERPRINT_TAG)!.replace(/ m=.*$/, ' m=-')),
    ],
  ] as const) {
    it(`a tagger who ${what} while the claim settles cannot silently suppress the redeploy, pass after pass`, async () => {
      const { aws, pass } = await fleet(1, { signed: true });
      aws.tick(10_000);
      aws.rotate('db', 'db-v2');
      // The tagger polls the state tag and acts on the watcher's claim within the settle (2 s by default).
      aws.beforeAnswer = (action) => {
        const tags = aws.service('prod', 's00').tags;
        if (action === 'DescribeServices' && tags.get(FINGERPRINT_TAG)?.includes(' s=pending ')) tamper(tags);
      };
      const results = [];
      for (let n = 0; n < 3; n++) {
        results.push(await pass());
        aws.tick(300_000);
      }
      const redeployed = aws.count('UpdateService') > 0;
      const loudEachPass = results.every((r) => passExitCode(r) !== 0);
      assert.ok(
        redeployed || loudEachPass,
        `never redeployed, passes exit ${results.map(passExitCode).join(', ')} (outcomes: ${results
          .map((r) => `${r.outcomes[0]?.outcome}/${r.outcomes[0]?.reason}`)
          .join(', ')})`,
      );
    });
  }

  const resets: [string, (aws: FakeAws) => void][] = [
    [
      'an operator deploying it',
      (aws) =>
        void aws.ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 's00', forceNewDeployment: true })),
    ],
    ['it rebound (a secret added)', (aws) => aws.service('prod', 's00').tags.set(SECRETS_TAG, 'a other')],
    // Discovery then reports a binding failure for it and decides nothing, but its state still counts.
    ['its binding tag made unusable (a comma)', (aws) => aws.service('prod', 's00').tags.set(SECRETS_TAG, 'a,other')],
    [
      'its secret unreadable for a pass',
      (aws) => {
        aws.fault = (action, input) =>
          action === 'DescribeSecret' && input.SecretId === 'a' ? { refuse: 'AccessDeniedException' } : undefined;
      },
    ],
  ];
  for (const [what, reset] of resets) {
    it(`the cap holds across passes after a redeploy the watcher started: ${what}`, async () => {
      const { aws, pass } = world({ signed: true });
      for (const id of ['a', 'b', 'other']) aws.addSecret(id);
      aws.addService('prod', 's00', { [SECRETS_TAG]: 'a' });
      aws.addService('prod', 's01', { [SECRETS_TAG]: 'b' });
      await pass();
      aws.tick(10_000);
      aws.rotate('a', 'a-v2');
      aws.rotate('b', 'b-v2');
      const capped = { maxRedeploys: 1, capWindowMs: 3_600_000 };
      await pass(capped);
      assert.deepEqual(aws.updated(), ['s00'], 'cap 1: the oldest goes, the other waits for the window');
      aws.tick(60_000);
      await pass(capped); // s00's redeploy completed; s01 still capped
      aws.tick(60_000);
      const before = aws.count('UpdateService');
      reset(aws);
      const operatorCall = aws.count('UpdateService') > before ? before : -1; // an operator's call is not the watcher's
      aws.tick(60_000);
      await pass(capped);
      aws.fault = () => undefined;
      aws.tick(60_000);
      await pass(capped);
      const byWatcher = aws.updated().filter((_, i) => i !== operatorCall);
      assert.deepEqual(byWatcher, ['s00'], 'at most 1 redeploy by the watcher within the hour');
    });
  }

  it("a newer watcher's state appearing while the claim settles is its run's claim: left to it, never overwritten", async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    aws.beforeAnswer = (action) => {
      const tags = aws.service('prod', 's00').tags;
      if (action === 'DescribeServices' && tags.get(FINGERPRINT_TAG)?.includes(' s=pending ')) {
        tags.set(FINGERPRINT_TAG, 'v3 a claim in a format this watcher cannot read');
      }
    };
    const result = await pass();
    assert.equal(aws.count('UpdateService'), 0);
    assert.deepEqual(
      result.outcomes.map((o) => `${o.outcome}/${o.reason}`),
      ['deferred/rival'],
    );
    assert.equal(aws.tag('prod', 's00', FINGERPRINT_TAG), 'v3 a claim in a format this watcher cannot read');
  });

  it("a redeploy's end is reported once, also when the versions moved on and the cap holds the next redeploy back", async () => {
    const { aws, pass, events } = await fleet(2);
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass();
    assert.deepEqual(aws.updated(), ['s00', 's01']);
    aws.tick(120_000); // both deployments completed; the cap window (60 s) has passed
    aws.rotate('db', 'db-v3');
    await pass({ maxRedeploys: 1 });
    assert.deepEqual(aws.updated(), ['s00', 's01', 's00'], 'due at once; the cap lets one through');
    const s01 = stateOf(aws, 's01');
    assert.ok(s01.trust === 'unsigned' && s01.tag.state === 'ok', 'the capped one has its outcome recorded');
    aws.tick(120_000);
    await pass({ maxRedeploys: 1 });
    assert.deepEqual(aws.updated(), ['s00', 's01', 's00', 's01'], 'and is redeployed when the cap allows');
    const reported = events('watch.deployment').map((e) => `${e.service}:${e.result}`);
    assert.deepEqual(
      reported.filter((r) => r.startsWith('s01')),
      ['s01:completed'],
      `each deployment's end once: ${reported.join(', ')}`,
    );
  });

  it('without LastChangedDate, a rotation after an operator replaced the watcher’s redeploy is not lost', async () => {
    const { aws, pass } = await fleet(1);
    aws.withoutLastChangedDate = true;
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass(); // the watcher's redeploy to v2 (deploying)
    aws.tick(10_000);
    await aws.ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 's00', forceNewDeployment: true }));
    aws.tick(10_000);
    aws.rotate('db', 'db-v3'); // after the operator's deployment began: its tasks run v2
    aws.tick(10_000);
    const first = await pass();
    await pass();
    assert.equal(
      aws.updated().filter((_, i) => i !== 1).length,
      2,
      `v3 is redeployed (decisions: ${first.decisions.map((d) => `${d.decision}/${d.reason}`).join(', ')})`,
    );
  });
});

describe('outcomes once, the cap per redeploy, rivals and replays at the read-back', () => {
  it("a replaced redeploy's end is reported once when the versions moved on after the replacement and the cap holds the next redeploy back", async () => {
    const { aws, pass, events } = await fleet(1);
    const capped = { maxRedeploys: 1, capWindowMs: 3_600_000 };
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass(capped); // the watcher's redeploy to v2 (deploying); w spends the window's one slot
    aws.tick(10_000);
    await aws.ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 's00', forceNewDeployment: true }));
    aws.tick(10_000);
    aws.rotate('db', 'db-v3'); // after the operator's deployment began: due, but capped
    for (let n = 0; n < 3; n++) {
      aws.tick(60_000);
      await pass(capped);
    }
    const reported = events('watch.deployment').map((e) => `${e.service}:${e.result}`);
    assert.deepEqual(reported, ['s00:replaced'], `each deployment's end once: ${reported.join(', ')}`);
  });

  it('the cap counts redeploys, not services: cap 2, one service rotated four times within the window is redeployed at most twice', async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    const capped = { maxRedeploys: 2, capWindowMs: 3_600_000 };
    for (let n = 2; n <= 5; n++) {
      aws.tick(60_000);
      aws.rotate('db', `db-v${n}`);
      await pass(capped);
    }
    aws.tick(60_000);
    await pass(capped);
    assert.ok(
      aws.updated().length <= 2,
      `${aws.updated().length} redeploys within one window with --max-redeploys 2 (${aws.updated().join(', ')})`,
    );
  });
  it("a rival run's claim taken back at its deadline is no tampering: the other run redeploys without a state failure", async () => {
    const w = world({ settle: 400 });
    w.aws.addSecret('db');
    w.aws.addService('prod', 's00', { [SECRETS_TAG]: 'db' });
    await w.pass();
    const { aws, pass } = w;
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    aws.service('prod', 's00').tags.delete(FINGERPRINT_TAG); // no state: due from deployment times
    // Run A (near its deadline) and run B (the schedule) start together; A, a call ahead, claims first, B after it.
    let b: Promise<Awaited<ReturnType<typeof pass>>> | undefined;
    aws.beforeAnswer = (action) => {
      if (action === 'ListServices' && b === undefined) b = pass({}, 'runbbbb');
    };
    const a = await pass({ claimSettleMs: 400, timeoutMs: 150 }, 'runaaaa');
    aws.beforeAnswer = () => {};
    const rb = await b!;
    assert.deepEqual(
      a.outcomes.map((o) => `${o.outcome}:${o.reason}`),
      ['deferred:deadline'],
      'A sent nothing',
    );
    assert.deepEqual(aws.updated(), ['s00'], 'B redeployed it');
    assert.deepEqual(
      rb.failures.map((f) => `${f.stage}: ${f.error}`),
      [],
      'no tagger was involved: B has no state failure (exit 0)',
    );
  });
  it("a capped service's outcome state refused by ECS is a failure (exit 3), as a record's is, not a silent second report", async () => {
    const { aws, pass, events } = await fleet(2);
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass();
    aws.tick(120_000);
    aws.rotate('db', 'db-v3');
    const s01 = aws.service('prod', 's01').arn;
    aws.fault = (action, input) =>
      action === 'TagResource' && input.resourceArn === s01 ? { refuse: 'AccessDeniedException' } : undefined;
    const capped = await pass({ maxRedeploys: 1 }); // s00 redeployed; s01 capped, its outcome state refused
    aws.fault = () => undefined;
    const reported = events('watch.deployment').filter((e) => e.service === 's01').length;
    aws.tick(10_000);
    await pass({ maxRedeploys: 1 });
    const again = events('watch.deployment').filter((e) => e.service === 's01').length;
    assert.ok(
      passExitCode(capped) !== 0 || again === reported,
      `the refused write went unsaid (exit ${passExitCode(capped)}) and s01's end was reported ${again} times`,
    );
  });
  it("a tagger replaying the previous pass's claim during the settle cannot silently suppress a redeploy, pass after pass (--interval under the claim's two minutes)", async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    // The tagger polls the state tag: it keeps each claim the watcher writes, and puts the previous one (another
    // run's, signed, under two minutes old) in place of each new one while it settles.
    const claims: string[] = [];
    aws.beforeAnswer = (action) => {
      const tags = aws.service('prod', 's00').tags;
      const now = tags.get(FINGERPRINT_TAG);
      if (action !== 'DescribeServices' || !now?.includes(' s=pending ') || claims.includes(now)) return;
      const previous = claims.at(-1);
      claims.push(now);
      if (previous) tags.set(FINGERPRINT_TAG, previous);
    };
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    await pass(); // redeployed to v2 (its claim is the tagger's first)
    aws.tick(30_000);
    aws.rotate('db', 'db-v3'); // its tasks run v2: v3 must be redeployed
    const results = [];
    for (let n = 0; n < 5; n++) {
      aws.tick(61_000); // --interval 1m
      results.push(await pass());
    }
    const redeployed = aws.count('UpdateService') === 2;
    const loudEachPass = results.every((r) => passExitCode(r) !== 0);
    assert.ok(
      redeployed || loudEachPass,
      `v3 never redeployed and the passes exit ${results.map(passExitCode).join(', ')} (outcomes: ${results
        .map(
          (r) =>
            `${r.decisions[0]?.decision}/${r.decisions[0]?.reason}->${r.outcomes[0]?.outcome}/${r.outcomes[0]?.reason}`,
        )
        .join(', ')})`,
    );
  });
});

describe('the read-back: rivals by when they could have claimed; unknown formats are loud', () => {
  it("two runs at once redeploy a service once when the surviving claim's time predates its landing (a slow TagResource, a claim queued for a slot, a clock seconds behind)", async () => {
    const { aws } = await fleet(1);
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    const bClaimSent = gate(); // B computed its claim's time and sent it; it is still on its way
    const aClaimLanded = gate();
    const bClaimLanded = gate();
    const bReadBack = gate();
    const isClaim = (cmd: unknown, run: string) => {
      const c = cmd as { constructor: { name: string }; input: { tags?: { value?: string }[] } };
      return (
        c.constructor.name === 'TagResourceCommand' &&
        String(c.input.tags?.[0]?.value).includes(' s=pending ') &&
        String(c.input.tags?.[0]?.value).includes(` r=${run} `)
      );
    };
    // B: its claim takes 2.5 s to land (throttled and retried, or queued behind other writes for a slot).
    const bEcs = {
      send: async (cmd: never, opts?: never) => {
        if (isClaim(cmd, 'runbbbb')) {
          aws.tick(2_500);
          bClaimSent.open();
          await aClaimLanded.wait;
          const out = await aws.ecs.send(cmd, opts);
          bClaimLanded.open();
          return out;
        }
        const describe = (cmd as { constructor: { name: string } }).constructor.name === 'DescribeServicesCommand';
        const out = await aws.ecs.send(cmd, opts);
        if (describe && String(aws.tag('prod', 's00', FINGERPRINT_TAG)).includes(' r=runbbbb ')) bReadBack.open();
        return out;
      },
    };
    // A: reaches its claim after B sent its own (A's pass is a little behind: its image check answers later).
    const aEcs = {
      send: async (cmd: never, opts?: never) => {
        const name = (cmd as { constructor: { name: string } }).constructor.name;
        if (name === 'DescribeTaskDefinitionCommand') await bClaimSent.wait;
        const out = await aws.ecs.send(cmd, opts);
        if (isClaim(cmd, 'runaaaa')) aClaimLanded.open();
        return out;
      },
    };
    // A's UpdateService is on the wire (a few hundred ms) while B reads its claim back.
    const aDeploy = {
      send: async (cmd: never, opts?: never) => {
        await bReadBack.wait;
        return aws.ecs.send(cmd, opts);
      },
    };
    const run = (id: string, ecs: typeof aEcs, deploy: typeof aEcs, settled: Promise<void>) =>
      runPass(
        {
          ecs: ecs as never,
          deploy: deploy as never,
          secrets: aws.sm,
          log: createLogger('error', { write: () => {} }),
          now: () => aws.clock,
          // Each settle outlasts the other run's claim write (the rule's assumption holds).
          sleep: () => settled,
          runId: () => id,
        },
        { ...base },
      );
    const [b, a] = await Promise.all([
      run('runbbbb', bEcs, bEcs, aClaimLanded.wait),
      run('runaaaa', aEcs, aDeploy, bClaimLanded.wait),
    ]);
    assert.deepEqual(
      aws.updated(),
      ['s00'],
      `one redeploy for one rotation, whose claim survived (A: ${a.outcomes.map((o) => o.outcome)}, B: ${b.outcomes.map((o) => o.outcome)})`,
    );
  });

  it("a tagger writing a state in an unknown format while the claim settles, then putting the watcher's own state back, cannot silently suppress a redeploy pass after pass", async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    // The tagger (ecs:TagResource only) polls the state tag: a claim is swapped for `v9 ...` while it settles, and
    // the state it replaced (the watcher's own, signed) is put back right after.
    let saved: string | undefined = aws.tag('prod', 's00', FINGERPRINT_TAG);
    aws.beforeAnswer = (action) => {
      const tags = aws.service('prod', 's00').tags;
      const now = tags.get(FINGERPRINT_TAG);
      if (action === 'DescribeServices' && now?.includes(' s=pending ')) tags.set(FINGERPRINT_TAG, 'v9 later');
      else if (now === 'v9 later' && saved) tags.set(FINGERPRINT_TAG, saved);
      else if (action === 'ListServices') saved = now;
    };
    const results = [];
    for (let n = 0; n < 3; n++) {
      aws.tick(61_000);
      results.push(await pass());
    }
    const redeployed = aws.count('UpdateService') > 0;
    const loudEachPass = results.every((r) => passExitCode(r) !== 0);
    assert.ok(
      redeployed || loudEachPass,
      `v2 never redeployed and the passes exit ${results.map(passExitCode).join(', ')} (outcomes: ${results
        .map((r) => `${r.decisions[0]?.decision}->${r.outcomes[0]?.outcome}/${r.outcomes[0]?.reason}`)
        .join(', ')})`,
    );
  });
});

describe('the read-back against records of other runs; the end of a replaced redeploy', () => {
  const nameOf = (cmd: unknown) => (cmd as { constructor: { name: string } }).constructor.name;
  const claimOf = (cmd: unknown, run: string) => {
    const c = cmd as { input: { tags?: { value?: string }[] } };
    const v = String(c.input.tags?.[0]?.value);
    return nameOf(cmd) === 'TagResourceCommand' && v.includes(' s=pending ') && v.includes(` r=${run} `);
  };

  it("a capped run's outcome state written while two rival runs' claims settle does not make both of them redeploy", async () => {
    const { aws, pass } = world();
    aws.addSecret('db');
    aws.addSecret('cache');
    aws.addService('prod', 'y', { [SECRETS_TAG]: 'cache' });
    aws.addService('prod', 's', { [SECRETS_TAG]: 'db' });
    await pass();
    const capped = { maxRedeploys: 2, capWindowMs: 60_000 };
    aws.tick(10_000);
    aws.rotate('cache', 'cache-v2');
    await pass(capped);
    const wY = Math.floor(aws.clock / 1000);
    aws.tick(20_000);
    aws.rotate('db', 'db-v2');
    await pass(capped);
    aws.tick(10_000);
    aws.rotate('db', 'db-v3');
    aws.tick((wY + 61) * 1000 - aws.clock);
    aws.calls.length = 0;
    // A started two seconds before B and C (the rule firing for two rotated secrets): A's cap is spent (s stays
    // due, its outcome state to write), B and C each have a slot and claim s; A's write lands while they settle.
    const sArn = aws.service('prod', 's').arn;
    const reads = { n: 0, all: gate() };
    const claims = { n: 0, all: gate() };
    const readBacks = { n: 0, all: gate() };
    const aWrote = gate();
    const count = (c: { n: number; all: { open: () => void } }, of: number) => {
      if (++c.n === of) c.all.open();
    };
    const ecsOf = (run: string) => {
      let describes = 0;
      return {
        send: async (cmd: never, opts?: never) => {
          const c = cmd as { input: { resourceArn?: string } };
          const isS = nameOf(cmd) === 'TagResourceCommand' && c.input.resourceArn === sArn;
          if (run === 'runaaaa' && isS) await claims.all.wait;
          if (run !== 'runaaaa' && claimOf(cmd, run)) await reads.all.wait;
          const out = await aws.ecs.send(cmd, opts);
          if (nameOf(cmd) === 'DescribeServicesCommand' && ++describes === 1) count(reads, 3);
          if (nameOf(cmd) === 'DescribeServicesCommand' && describes === 2) count(readBacks, 2);
          if (run !== 'runaaaa' && claimOf(cmd, run)) count(claims, 2);
          if (run === 'runaaaa' && isS) aWrote.open();
          return out;
        },
      };
    };
    const deployOf = () => ({
      send: async (cmd: never, opts?: never) => {
        await readBacks.all.wait; // both read back before either UpdateService is answered (a few hundred ms)
        return aws.ecs.send(cmd, opts);
      },
    });
    const run = (id: string, skew: number) =>
      runPass(
        {
          ecs: ecsOf(id) as never,
          deploy: deployOf() as never,
          secrets: aws.sm,
          log: createLogger('error', { write: () => {} }),
          now: () => aws.clock - skew,
          sleep: () => aWrote.wait,
          runId: () => id,
        },
        { ...base, ...capped },
      );
    const results = await Promise.all([run('runaaaa', 2000), run('runbbbb', 0), run('runcccc', 0)]);
    assert.deepEqual(
      aws.updated(),
      ['s'],
      `one redeploy for one rotation (${results.map((r) => r.outcomes.filter((o) => o.decision.service === 's').map((o) => `${o.outcome}/${o.reason}`)).join('; ')})`,
    );
  });

  for (const held of ['capped', 'in flight'] as const) {
    it(`a rollback of AWSCURRENT after an operator's deploy replaced the watcher's redeploy is not lost (${held} when its end is recorded)`, async () => {
      const { aws, pass } = await fleet(1, { signed: true });
      const capped = { maxRedeploys: 1, capWindowMs: 3_600_000 };
      aws.tick(10_000);
      aws.rotate('db', 'db-v2');
      await pass(capped); // the watcher's redeploy to v2 (d1); its end not reported yet
      aws.tick(10_000);
      aws.rotate('db', 'db-v3'); // a bad rotation
      aws.tick(10_000);
      if (held === 'in flight') aws.rollout.set('s00', 'in-progress');
      // An operator's deploy (d2) replaces d1: its tasks read v3.
      await aws.ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 's00', forceNewDeployment: true }));
      const s = aws.service('prod', 's00');
      if (held === 'in flight') s.deployments = s.deployments.filter((d) => d.status === 'PRIMARY'); // d1 drained
      aws.tick(10_000);
      aws.stageBack('db', 'db-v2'); // v3 rolled back: d2's tasks hold v3, and must be redeployed
      aws.tick(60_000);
      await pass(held === 'capped' ? capped : {}); // due but capped, or waiting for d2: its state written
      if (held === 'in flight') aws.finish('prod', 's00');
      aws.calls.length = 0;
      const results = [];
      for (let n = 0; n < 3; n++) {
        aws.tick(3_600_000);
        results.push(await pass(capped));
      }
      assert.deepEqual(
        aws.updated(),
        ['s00'],
        `d2's tasks still hold v3 (decisions: ${results.map((r) => `${r.decisions[0]?.decision}/${r.decisions[0]?.reason}`).join(', ')}; exit ${results.map(passExitCode).join(', ')})`,
      );
    });
  }
});

describe('ends written before the claims or at the deadline; a rolled-back redeploy; claiming again', () => {
  it("a due service whose pass reaches its deadline before the first claim still gets its deployment's end written: reported once", async () => {
    const { aws, pass } = await fleet(1);
    aws.rotate('db', 'db-v2');
    await pass(); // the watcher's redeploy to v2; its end not reported yet
    aws.tick(10_000);
    aws.rotate('db', 'db-v3'); // moved on: due again, and the end of the v2 redeploy reported in the same pass
    aws.delay = (action) => (action === 'DescribeTaskDefinition' ? 300 : 0); // the reads outlast the deadline
    const first = await pass({ timeoutMs: 150 });
    assert.deepEqual(
      first.outcomes.map((o) => `${o.decision.service}:${o.outcome}/${o.reason}`),
      ['s00:deferred/deadline'],
    );
    aws.delay = () => 0;
    const next = await pass();
    assert.deepEqual(
      [...first.reports, ...next.reports].map((r) => `${r.deployment}:${r.result}`),
      [`${first.reports[0]?.deployment}:completed`],
      'the end of one deployment is reported once',
    );
  });

  it('a circuit-breaker rollback seen while it rolls back is not retried for the same versions when the next rotation begins (AWSPENDING)', async () => {
    const { aws, pass } = await fleet(1);
    aws.rollout.set('s00', 'in-progress');
    aws.rotate('db', 'db-v2');
    await pass(); // the watcher's redeploy d1 to v2
    aws.tick(10_000);
    // The circuit breaker rolls d1 back: as ECS lists it while the rollback runs, d1 FAILED (ACTIVE) beside the
    // rollback deployment (PRIMARY, IN_PROGRESS).
    aws.finish('prod', 's00', 'rolled-back');
    const s = aws.service('prod', 's00');
    const d1 = s.history.at(-2)!;
    s.deployments[0]!.rolloutState = 'IN_PROGRESS';
    s.deployments.push({ ...d1, status: 'ACTIVE', rolloutState: 'FAILED' });
    aws.tick(10_000);
    const seen = await pass();
    assert.deepEqual(
      seen.reports.map((r) => r.result),
      ['rolled-back'],
    );
    aws.finish('prod', 's00'); // the rollback completes
    aws.settle('prod', 's00');
    aws.tick(60_000);
    aws.pend('db', 'db-v3'); // the next rotation begins: AWSPENDING triggers nothing
    aws.calls.length = 0;
    const results = [await pass(), await pass()];
    assert.deepEqual(
      aws.updated(),
      [],
      `v2 failed and was rolled back: not retried (${results.map((r) => `${r.decisions[0]?.decision}/${r.decisions[0]?.reason}`).join(', ')})`,
    );
  });

  it("two capped runs' outcome states landing one in each settle of two rival runs' claims do not make both of them redeploy", async () => {
    const nameOf = (cmd: unknown) => (cmd as { constructor: { name: string } }).constructor.name;
    const claimOf = (cmd: unknown, run: string) => {
      const c = cmd as { input: { tags?: { value?: string }[] } };
      const v = String(c.input.tags?.[0]?.value);
      return nameOf(cmd) === 'TagResourceCommand' && v.includes(' s=pending ') && v.includes(` r=${run} `);
    };
    const { aws } = world();
    aws.addSecret('db');
    aws.addSecret('cache');
    aws.addService('prod', 'y', { [SECRETS_TAG]: 'cache' });
    aws.addService('prod', 's', { [SECRETS_TAG]: 'db' });
    const quiet = (id: string, skew = 0, extra: Record<string, unknown> = {}) =>
      runPass(
        {
          ecs: aws.ecs,
          secrets: aws.sm,
          log: createLogger('error', { write: () => {} }),
          now: () => aws.clock - skew,
          sleep: () => Promise.resolve(),
          runId: () => id,
          ...extra,
        },
        { ...base, maxRedeploys: 2, capWindowMs: 60_000 },
      );
    await quiet('run0000');
    aws.tick(10_000);
    aws.rotate('cache', 'cache-v2');
    await quiet('run0001');
    const wY = Math.floor(aws.clock / 1000);
    aws.tick(20_000);
    aws.rotate('db', 'db-v2');
    await quiet('run0002');
    aws.tick(10_000);
    aws.rotate('db', 'db-v3');
    aws.tick((wY + 61) * 1000 - aws.clock);
    aws.calls.length = 0;
    // A and D started two seconds before B and C (the rule firing for four rotated secrets): their cap is spent, so
    // s stays due for them and they write its outcome state; B and C each have a slot and claim s. A's write lands
    // while the claims settle, D's (throttled, sent again) while the claims written again settle.
    const sArn = aws.service('prod', 's').arn;
    const counter = (of: number) => {
      const g = gate();
      let n = 0;
      return { wait: g.wait, hit: () => void (++n === of && g.open()) };
    };
    const reads = counter(4);
    const claims = counter(2);
    const reclaims = counter(4);
    const lastReads = counter(2);
    const aWrote = gate();
    const dWrote = gate();
    const ecsOf = (run: string) => {
      let describes = 0;
      const capped = run === 'runaaaa' || run === 'rundddd';
      return {
        send: async (cmd: never, opts?: never) => {
          const c = cmd as { input: { resourceArn?: string } };
          const isS = nameOf(cmd) === 'TagResourceCommand' && c.input.resourceArn === sArn;
          if (run === 'runaaaa' && isS) await claims.wait;
          if (run === 'rundddd' && isS) await reclaims.wait;
          if (!capped && claimOf(cmd, run)) await reads.wait;
          const out = await aws.ecs.send(cmd, opts);
          if (nameOf(cmd) === 'DescribeServicesCommand' && ++describes === 1) reads.hit();
          if (nameOf(cmd) === 'DescribeServicesCommand' && describes === 3) lastReads.hit();
          if (!capped && claimOf(cmd, run)) {
            claims.hit();
            reclaims.hit();
          }
          if (run === 'runaaaa' && isS) aWrote.open();
          if (run === 'rundddd' && isS) dWrote.open();
          return out;
        },
      };
    };
    const sleepOf = () => {
      let n = 0;
      return () => (++n === 1 ? aWrote.wait : n === 2 ? dWrote.wait : Promise.resolve());
    };
    const deploy = {
      send: async (cmd: never, opts?: never) => {
        await lastReads.wait; // both read back a second time before either UpdateService is answered
        return aws.ecs.send(cmd, opts);
      },
    };
    const run = (id: string, skew: number) => quiet(id, skew, { ecs: ecsOf(id), deploy, sleep: sleepOf() });
    const results = await Promise.all([
      run('runaaaa', 2000),
      run('rundddd', 2000),
      run('runbbbb', 0),
      run('runcccc', 0),
    ]);
    assert.deepEqual(
      aws.updated(),
      ['s'],
      `one redeploy for one rotation (${results.map((r) => r.outcomes.filter((o) => o.decision.service === 's').map((o) => `${o.outcome}/${o.reason}`)).join('; ')})`,
    );
  });
});

describe('claiming again outside the slots and at the deadline; an unreadable deployment history is loud', () => {
  /** Before each DescribeServices, a claim of this pass on s00 is replaced by a fresh record of another run. */
  const recordOver = (aws: FakeAws, times: number) => {
    let left = times;
    aws.beforeAnswer = (action) => {
      const s = aws.service('prod', 's00');
      const read = decodeState(s.tags.get(FINGERPRINT_TAG), s.arn, undefined);
      if (action !== 'DescribeServices' || left === 0 || read.trust !== 'unsigned') return;
      if (read.tag.state !== 'pending' || read.tag.run === 'runothr') return;
      left--;
      const at = Math.floor(aws.clock / 1000);
      const record = { ...read.tag, state: 'ok' as const, writtenAt: at, run: 'runothr' };
      s.tags.set(FINGERPRINT_TAG, encodeState(record, s.arn, undefined));
    };
  };

  it("a claim replaced by another run's record is claimed again and the pass ends, with --concurrency 1", {
    timeout: 10_000,
  }, async () => {
    const { aws, pass } = await fleet(1);
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    recordOver(aws, 1); // the capped run's record lands over the claim once, while it settles
    const result = await pass({ concurrency: 1 });
    assert.deepEqual(
      result.outcomes.map((o) => `${o.decision.service}:${o.outcome}`),
      ['s00:redeployed'],
    );
    assert.deepEqual(aws.updated(), ['s00']);
  });

  it('a deadline passing while a claim written again is read back is a deadline (exit 3), not a rival run', async () => {
    const { aws } = await fleet(1);
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    recordOver(aws, 2); // over the first claim and over the claim written again
    let describes = 0;
    const ecs = {
      send: async (cmd: never, opts?: { abortSignal?: AbortSignal }) => {
        const out = await aws.ecs.send(cmd, opts as never);
        const isDescribe = (cmd as object).constructor.name === 'DescribeServicesCommand';
        // The third DescribeServices (the read-back of the claim written again) is answered as the deadline passes.
        if (isDescribe && ++describes === 3 && opts?.abortSignal && !opts.abortSignal.aborted) {
          const signal = opts.abortSignal;
          await new Promise((r) => signal.addEventListener('abort', r));
        }
        return out;
      },
    };
    const result = await runPass(
      {
        ecs: ecs as never,
        secrets: aws.sm,
        log: createLogger('error', { write: () => {} }),
        now: () => aws.clock,
        sleep: () => Promise.resolve(),
        runId: () => 'runthis',
      },
      { ...base, timeoutMs: 300 },
    );
    assert.deepEqual(aws.updated(), []);
    assert.deepEqual(
      result.outcomes.map((o) => `${o.decision.service}:${o.outcome}/${o.reason}`),
      ['s00:deferred/deadline'],
      "no rival run redeploys it: the record over the claim is a capped run's",
    );
    assert.equal(passExitCode(result), 3, 'a service the deadline left due fails the pass (docs: exit 3)');
  });

  it('a rolled-back redeploy whose service deployments cannot be read is not reported as replaced, silently', async () => {
    const { aws, pass } = await fleet(1);
    aws.rollout.set('s00', 'rolled-back');
    aws.rotate('db', 'db-v2');
    await pass(); // the watcher's redeploy; the circuit breaker rolls it back at once
    aws.settle('prod', 's00'); // the rollback is done: only ListServiceDeployments still says so
    aws.tick(60_000);
    aws.fault = (action) => (action === 'ListServiceDeployments' ? { refuse: 'AccessDeniedException' } : undefined);
    const blind = await pass();
    aws.fault = () => undefined;
    aws.tick(60_000);
    const next = await pass();
    assert.deepEqual(
      [...blind.reports, ...next.reports].map((r) => r.result),
      ['rolled-back'],
      `the failed redeploy is reported once, as rolled back (exit codes ${passExitCode(blind)}, ${passExitCode(next)})`,
    );
    assert.equal(passExitCode(blind), 3, 'a history it could not read is a failure');
  });
});

describe('a claim written again and the deadline', () => {
  it('a claim written again whose read-back the deadline cut short is taken back, not left behind (the next run redeploys)', async () => {
    const { aws, pass } = await fleet(1);
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    // Once, before the claim's read-back: a capped run's record (the end of the previous redeploy) over the claim.
    let left = 1;
    aws.beforeAnswer = (action) => {
      const s = aws.service('prod', 's00');
      const read = decodeState(s.tags.get(FINGERPRINT_TAG), s.arn, undefined);
      if (action !== 'DescribeServices' || left === 0 || read.trust !== 'unsigned') return;
      if (read.tag.state !== 'pending' || read.tag.run !== 'runthis') return;
      left--;
      const record = { ...read.tag, state: 'ok' as const, writtenAt: Math.floor(aws.clock / 1000), run: 'runothr' };
      s.tags.set(FINGERPRINT_TAG, encodeState(record, s.arn, undefined));
    };
    const result = await passCutInSecondSettle(aws);
    aws.beforeAnswer = () => {};
    assert.deepEqual(aws.updated(), []);
    assert.deepEqual(
      result.outcomes.map((o) => `${o.decision.service}:${o.outcome}/${o.reason}`),
      ['s00:deferred/deadline'],
    );
    const after = stateOf(aws, 's00');
    assert.ok(
      !(after.trust === 'unsigned' && after.tag.state === 'pending' && after.tag.run === 'runthis'),
      `the claim written again is not left on the service (the deadline came before UpdateService): ${JSON.stringify(after)}`,
    );
    aws.tick(10_000); // well within the claim TTL
    await pass();
    assert.deepEqual(aws.updated(), ['s00'], 'the service stays due: the next run redeploys it');
  });
});

describe('the deadline at the read-back; following a deployment; a lost answer rolled back', () => {
  it("a claim the deadline cuts short after its read-back showed a rival run's newer claim is not taken back over that claim", async () => {
    const { aws } = await fleet(2);
    aws.tick(10_000);
    aws.rotate('db', 'db-v2');
    // At the first read-back: a rival run's claim over ours on s00, a capped run's record over ours on s01 (so s01 is
    // claimed again, and the deadline passes in that second settle).
    let left = 1;
    aws.beforeAnswer = (action) => {
      if (action !== 'DescribeServices' || left === 0) return;
      const [s0, s1] = [aws.service('prod', 's00'), aws.service('prod', 's01')];
      const r0 = decodeState(s0.tags.get(FINGERPRINT_TAG), s0.arn, undefined);
      const r1 = decodeState(s1.tags.get(FINGERPRINT_TAG), s1.arn, undefined);
      if (r0.trust !== 'unsigned' || r1.trust !== 'unsigned') return;
      if (r0.tag.state !== 'pending' || r0.tag.run !== 'runthis' || r1.tag.state !== 'pending') return;
      left--;
      const at = Math.floor(aws.clock / 1000);
      s0.tags.set(
        FINGERPRINT_TAG,
        encodeState({ ...r0.tag, writtenAt: at, redeployedAt: at, run: 'runothr' }, s0.arn, undefined),
      );
      s1.tags.set(
        FINGERPRINT_TAG,
        encodeState({ ...r1.tag, state: 'ok', writtenAt: at, run: 'runothr' }, s1.arn, undefined),
      );
    };
    const result = await passCutInSecondSettle(aws);
    aws.beforeAnswer = () => {};
    assert.deepEqual(aws.updated(), []);
    const after = stateOf(aws, 's00');
    assert.ok(
      after.trust === 'unsigned' && after.tag.state === 'pending' && after.tag.run === 'runothr',
      `the rival's claim this run read back is left to it, not overwritten by the state the claim replaced: ${JSON.stringify(after)}`,
    );
    assert.equal(result.outcomes.find((o) => o.decision.service === 's00')?.reason, 'rival');
  });

  const followed: [string, boolean, (aws: FakeAws) => void][] = [
    [
      "a tagger's forged state over the claim",
      true,
      (aws) => {
        const tags = aws.service('prod', 's00').tags;
        tags.set(FINGERPRINT_TAG, tags.get(FINGERPRINT_TAG)!.replace(/ m=\S+$/, ` m=${'A'.repeat(22)}`));
      },
    ],
    [
      'the state naming the followed deployment refused (every TagResource from then on)',
      false,
      (aws) => {
        aws.fault = (a) => (a === 'TagResource' ? { refuse: 'AccessDeniedException', status: 400 } : undefined);
      },
    ],
  ];
  for (const [what, signed, meanwhile] of followed) {
    it(`following a deployment begun while the claim settled, exit 3 when there is also ${what}`, async () => {
      const { aws, pass } = await fleet(1, { signed });
      aws.tick(10_000);
      aws.rotate('db', 'db-v2');
      let left = 1;
      aws.beforeAnswer = (action) => {
        const tag = aws.service('prod', 's00').tags.get(FINGERPRINT_TAG);
        if (action !== 'DescribeServices' || left === 0 || !tag?.includes(' s=pending ')) return;
        left--;
        meanwhile(aws);
        deployMeanwhile(aws, 's00');
      };
      const result = await pass({}, 'runthis');
      aws.beforeAnswer = () => {};
      aws.fault = () => undefined;
      assert.deepEqual(aws.updated(), [], 'the deployment begun meanwhile is followed, not repeated');
      assert.equal(passExitCode(result), 3, JSON.stringify(result.failures));
    });
  }
});

describe('a lost answer rolled back within the claim; a claim put back after a rollback', () => {
  const lostThenRolledBack: [string, number, boolean][] = [
    ["after the claim's two minutes (its tasks fail for five)", 300_000, false],
    ["within the claim's two minutes, ECS's words on it settled since", 60_000, true],
  ];
  for (const [when, after, settled] of lostThenRolledBack) {
    it(`a redeploy whose UpdateService answer was lost, rolled back by the circuit breaker ${when}, is reported rolled-back`, async () => {
      const { aws, pass } = await fleet(1);
      aws.tick(10_000);
      aws.rotate('db', 'db-v2');
      aws.rollout.set('s00', 'in-progress');
      aws.fault = (action) => (action === 'UpdateService' ? { lose: 'ServerException' } : undefined);
      const first = await pass();
      aws.fault = () => undefined;
      assert.deepEqual(
        first.outcomes.map((o) => o.outcome),
        ['unknown'],
      );
      aws.tick(after);
      aws.finish('prod', 's00', 'rolled-back');
      aws.tick(120_000);
      if (settled) aws.settle('prod', 's00');
      const second = await pass();
      assert.deepEqual(
        second.reports.map((r) => `${r.service}:${r.result}`),
        ['s00:rolled-back'],
        "the end of the claim's deployment, reported once: the rollback's deployment is not the claim's",
      );
    });
  }

  it('an old claim put back long after its redeploy was rolled back (and reported) reports nothing again', async () => {
    const { aws, pass } = await fleet(1, { signed: true });
    aws.rotate('db', 'db-v2');
    aws.rollout.set('s00', 'rolled-back');
    await pass();
    aws.rollout.delete('s00');
    const claim = firstClaim(aws);
    assert.ok(claim);
    aws.tick(120_000);
    const reported = await pass();
    assert.deepEqual(
      reported.reports.map((r) => `${r.service}:${r.result}`),
      ['s00:rolled-back'],
      'the genuine end, reported once',
    );
    aws.tick(3_600_000);
    // An operator deploys; then a tagger puts the old claim back.
    await aws.ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 's00', forceNewDeployment: true }));
    aws.tick(60_000);
    await pass();
    const before = aws.count('UpdateService');
    aws.service('prod', 's00').tags.set(FINGERPRINT_TAG, claim);
    const result = await pass();
    assert.equal(aws.count('UpdateService'), before, 'no redeploy');
    assert.deepEqual(
      result.reports.map((r) => `${r.service}:${r.result}:${r.deployment}`),
      [],
      'a replayed claim reports no second (false) rolled-back end: RedeploysFailed alarms on it',
    );
  });
});
