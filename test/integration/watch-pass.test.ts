import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createLogger } from '../../shared/logger.ts';
import { type BindingSource, type PassOptions, passExitCode, runPass } from '../../watcher/run-pass.ts';
import { decodeState } from '../../watcher/state-tag.ts';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import {
  cluster,
  FINGERPRINT_TAG as FP,
  fleet,
  pool,
  rotate,
  secrets,
  seeded,
  services,
  value,
} from '../helpers/ecs-fleet.ts';
import { clientOptions, type Moto, startMoto } from '../helpers/moto.ts';
import { PASS } from '../helpers/pass-options.ts';

// The watcher talks to moto through the real SDK and the counting proxy; seeding goes to moto directly, so the
// proxy sees exactly the watcher's calls.
let moto: Moto;
let proxy: AwsProxy;
let seedEcs: ECSClient;
let seedSm: SecretsManagerClient;
let watcherEcs: ECSClient;
let watcherSm: SecretsManagerClient;
let lines: Record<string, unknown>[] = [];
/** How far the watcher's clock is ahead of this machine's: a test moves it past the cap window. */
let skew = 0;
const rawLog: string[] = [];

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  seedEcs = new ECSClient(clientOptions(moto.endpoint));
  seedSm = new SecretsManagerClient(clientOptions(moto.endpoint));
  watcherEcs = new ECSClient(clientOptions(proxy.endpoint));
  watcherSm = new SecretsManagerClient(clientOptions(proxy.endpoint));
});

after(async () => {
  for (const c of [seedEcs, seedSm, watcherEcs, watcherSm]) c?.destroy();
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
  // Every test: the watcher never asked for a value, and no seeded value reached a log line.
  assert.equal(proxy.count('GetSecretValue'), 0, 'GetSecretValue on the wire');
  assert.equal(proxy.count('BatchGetSecretValue'), 0, 'BatchGetSecretValue on the wire');
  const all = rawLog.join('\n');
  for (const v of seeded) assert.ok(!all.includes(v), 'a seeded secret value appeared in the logs');
});

const log = createLogger('debug', {
  write: (s: string) => {
    rawLog.push(s);
    lines.push(JSON.parse(s));
  },
});
const events = (event: string) => lines.filter((l) => l.event === event);

function pass(source: BindingSource, o: Partial<PassOptions> = {}) {
  return runPass({ ecs: watcherEcs, secrets: watcherSm, log, now: () => Date.now() + skew }, { ...PASS, source, ...o });
}
const discover = (...clusters: string[]): BindingSource => ({ kind: 'discover', clusters });

/** Restarts the counts of the counting proxy and of the limits proxy behind it together. */
function resetCounts(): void {
  proxy.resetCounts();
  moto.limits.resetCounts();
}

/**
 * Calls on the wire less those the account's quotas refused (aws-limits.ts; each refused call comes back as a
 * retry): the calls the watcher meant to make. The refusals are reported as a diagnostic, not asserted: how many
 * a quota refuses depends on the machine's speed.
 */
function acceptedCounts(t: { diagnostic(message: string): void }): Record<string, number> {
  const refused = moto.limits.refusals();
  if (Object.keys(refused).length > 0) t.diagnostic(`refused by the account's quotas: ${JSON.stringify(refused)}`);
  return Object.fromEntries(
    Object.entries(proxy.counts())
      .map(([action, n]) => [action, n - (refused[action] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}

async function tagsOf(clusterName: string, names: string[]): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (let i = 0; i < names.length; i += 10) {
    const res = await seedEcs.send(
      new DescribeServicesCommand({ cluster: clusterName, services: names.slice(i, i + 10), include: ['TAGS'] }),
    );
    for (const s of res.services ?? []) {
      out[s.serviceName!] = Object.fromEntries((s.tags ?? []).map((t) => [t.key!, t.value!]));
    }
  }
  return out;
}

async function primaryDeployment(clusterName: string, name: string): Promise<string | undefined> {
  const res = await seedEcs.send(new DescribeServicesCommand({ cluster: clusterName, services: [name] }));
  return res.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
}

/** What a state tag says (unsigned: these passes run without a state key), or undefined. */
function stateOf(tag: string | undefined) {
  const read = decodeState(tag, '', undefined);
  return read.trust === 'unsigned' ? read.tag : undefined;
}

/** UpdateService calls on the wire, by service name. */
function updatedOnWire(): string[] {
  return proxy
    .bodies('UpdateService')
    .map((b) => {
      const body = JSON.parse(b) as { service: string; forceNewDeployment: boolean };
      assert.equal(body.forceNewDeployment, true);
      return body.service;
    })
    .sort();
}

/** prod: api (db, openai, gcp), worker (db), web (pinecone), batch (openai), legacy (untagged). */
async function shortCutFleet(): Promise<void> {
  await fleet(seedEcs, seedSm, 'prod', {
    api: 'db openai gcp',
    worker: 'db',
    web: 'pinecone',
    batch: 'openai',
    legacy: undefined,
  });
}
const FLEET = ['api', 'worker', 'web', 'batch', 'legacy'];

describe('watch pass against moto (real SDK, calls counted on the wire)', () => {
  it('first pass over tagged services writes the state tag and redeploys nothing', async () => {
    await shortCutFleet();
    const result = await pass(discover('prod'));
    assert.equal(passExitCode(result), 0);
    assert.equal(proxy.count('UpdateService'), 0);
    assert.equal(proxy.count('TagResource'), 4);
    const tags = await tagsOf('prod', FLEET);
    for (const s of ['api', 'worker', 'web', 'batch']) {
      assert.match(
        tags[s]?.[FP] ?? '',
        /^v2 s=ok f=[0-9a-f]{32} b=[0-9a-f]{8} d=ecs-svc\/\d+ t=\d+ w=- r=\w+ x=0 m=-$/,
        s,
      );
    }
    assert.equal(tags.legacy?.[FP], undefined, 'a service without the binding tag is left alone');
    // No state yet: each secret last changed before the service's deployment (fleet() creates the secrets first),
    // so its tasks hold the current version; DescribeSecret's LastChangedDate says so, with no other call.
    assert.equal(proxy.count('ListSecretVersionIds'), 0);
    assert.deepEqual(
      events('watch.decision').map((e) => `${e.service}:${e.decision}:${e.reason}`),
      ['api:record:no-state', 'batch:record:no-state', 'web:record:no-state', 'worker:record:no-state'],
    );
  });

  it('after PutSecretValue, exactly the bound services get one UpdateService each, claimed before and followed after; the next pass reports the outcome, the one after does nothing', async () => {
    await shortCutFleet();
    await pass(discover('prod'));
    const before = await tagsOf('prod', FLEET);
    const apiDeployment = await primaryDeployment('prod', 'api');

    // One secret, one service bound to it: a claim (pending), UpdateService, then the new deployment (deploying).
    proxy.resetCounts();
    await rotate(seedSm, 'pinecone');
    await pass(discover('prod'));
    assert.deepEqual(updatedOnWire(), ['web']);
    assert.equal(proxy.count('TagResource'), 2);
    assert.equal(stateOf((await tagsOf('prod', ['web'])).web?.[FP])?.state, 'deploying');
    // The modelled rollout completed: the next pass says so once and writes the state back to ok.
    lines = [];
    proxy.resetCounts();
    await pass(discover('prod'));
    assert.deepEqual(
      events('watch.deployment').map((e) => [e.service, e.result]),
      [['web', 'completed']],
    );
    assert.equal(proxy.count('TagResource'), 1);
    assert.equal(stateOf((await tagsOf('prod', ['web'])).web?.[FP])?.state, 'ok');

    // Three of api's secrets at once: api still gets one UpdateService; worker (db) and batch (openai) one each.
    proxy.resetCounts();
    await rotate(seedSm, 'db', 'openai', 'gcp');
    const result = await pass(discover('prod'));
    assert.deepEqual(updatedOnWire(), ['api', 'batch', 'worker']);
    assert.equal(proxy.count('TagResource'), 6);
    const after = await tagsOf('prod', FLEET);
    const decided = Object.fromEntries(result.decisions.map((d) => [d.service, d]));
    for (const s of ['api', 'batch', 'worker']) {
      const [was, now] = [stateOf(before[s]?.[FP]), stateOf(after[s]?.[FP])];
      assert.notEqual(now?.fingerprint, was?.fingerprint, `${s}: new fingerprint`);
      assert.equal(now?.fingerprint, decided[s]?.newFingerprint, `${s}: the tag is the decided fingerprint`);
      assert.equal(decided[s]?.oldFingerprint, was?.fingerprint);
      assert.equal(now?.state, 'deploying');
      assert.equal(now?.deployment, await primaryDeployment('prod', s), `${s}: the tag follows the new deployment`);
    }
    assert.equal(decided.web?.decision, 'skip');
    assert.notEqual(await primaryDeployment('prod', 'api'), apiDeployment, 'a new deployment');

    proxy.resetCounts();
    await pass(discover('prod'));
    assert.equal(proxy.count('UpdateService'), 0);
    assert.equal(proxy.count('TagResource'), 3, 'three outcomes recorded');
    proxy.resetCounts();
    await pass(discover('prod'));
    assert.equal(proxy.count('UpdateService'), 0);
    assert.equal(proxy.count('TagResource'), 0);
  });

  it('a new AWSPENDING version alone triggers nothing', async () => {
    await shortCutFleet();
    await pass(discover('prod'));
    await seedSm.send(
      new PutSecretValueCommand({ SecretId: 'db', SecretString: value(), VersionStages: ['AWSPENDING'] }),
    );
    proxy.resetCounts();
    lines = [];
    const result = await pass(discover('prod'));
    assert.equal(proxy.count('UpdateService'), 0);
    assert.equal(proxy.count('TagResource'), 0);
    assert.deepEqual(new Set(result.decisions.map((d) => `${d.decision}:${d.reason}`)), new Set(['skip:unchanged']));
  });

  it('--dry-run decides and logs, and sends no UpdateService and no TagResource', async () => {
    await shortCutFleet();
    const first = await pass(discover('prod'), { dryRun: true });
    assert.deepEqual(
      first.decisions.map((d) => d.decision),
      ['record', 'record', 'record', 'record'],
    );
    assert.equal(proxy.count('TagResource'), 0);
    assert.equal((await tagsOf('prod', ['api'])).api?.[FP], undefined);

    await pass(discover('prod'));
    await rotate(seedSm, 'db');
    const tagsBefore = await tagsOf('prod', FLEET);
    proxy.resetCounts();
    lines = [];
    await pass(discover('prod'), { dryRun: true });
    assert.equal(proxy.count('UpdateService'), 0);
    assert.equal(proxy.count('TagResource'), 0);
    assert.deepEqual(await tagsOf('prod', FLEET), tagsBefore);
    assert.deepEqual(
      events('watch.decision')
        .filter((e) => e.decision === 'redeploy')
        .map((e) => [e.service, e.dryRun]),
      [
        ['api', true],
        ['worker', true],
      ],
    );
  });

  it('a missing service, a deleted secret and an access error are each logged; the rest completes; exit 3', async () => {
    await cluster(seedEcs, 'prod');
    await secrets(seedSm, ['db', 'retired', 'locked']);
    await seedSm.send(new DeleteSecretCommand({ SecretId: 'retired', RecoveryWindowInDays: 7 }));
    await services(seedEcs, 'prod', { api: undefined, billing: undefined, payments: undefined });
    proxy.addFault({ action: 'DescribeSecret', kind: 'accessDenied', bodyIncludes: '"locked"' });
    const source: BindingSource = {
      kind: 'config',
      clusters: [
        {
          name: 'prod',
          services: [
            { name: 'api', secrets: ['db'] },
            { name: 'ghost', secrets: ['db'] },
            { name: 'billing', secrets: ['db', 'retired'] },
            { name: 'payments', secrets: ['locked'] },
          ],
        },
      ],
    };
    const result = await pass(source);
    assert.equal(passExitCode(result), 3);
    assert.deepEqual(
      events('watch.failure').map((e) => [e.cluster, e.service, e.secretId, e.stage, e.error]),
      [
        ['prod', 'billing', 'retired', 'secret', 'secret is scheduled for deletion'],
        ['prod', 'ghost', null, 'service', 'service not found (MISSING)'],
        ['prod', 'payments', 'locked', 'secret', 'AccessDeniedException'],
      ],
    );
    assert.deepEqual(
      events('watch.decision').map((e) => [e.service, e.decision]),
      [['api', 'record']],
    );
    assert.equal(stateOf((await tagsOf('prod', ['api'])).api?.[FP])?.state, 'ok');
    assert.equal(events('watch.pass')[0]?.failures, 3);
    for (const e of events('watch.failure'))
      assert.ok(!JSON.stringify(e).includes('arn:aws:sts'), 'no raw SDK message');
  });

  it('the cap holds and is fair: 2 redeploys a pass, oldest deployment first, so with a rotation in between nobody waits behind the same services', async () => {
    const names = ['s1', 's2', 's3', 's4', 's5'];
    await fleet(seedEcs, seedSm, 'prod', Object.fromEntries(names.map((n) => [n, 'db'])), 1);
    await pass(discover('prod'));
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    lines = [];
    await pass(discover('prod'), { maxRedeploys: 2 });
    assert.deepEqual(updatedOnWire(), ['s1', 's2']);
    assert.equal(proxy.count('TagResource'), 4, 'a claim and a deployment for each; deferred ones are not tagged');
    assert.deepEqual(
      events('watch.outcome')
        .filter((e) => e.reason === 'cap')
        .map((e) => [e.service, e.outcome]),
      [
        ['s3', 'deferred'],
        ['s4', 'deferred'],
        ['s5', 'deferred'],
      ],
    );
    // The cap is per window (a minute here), for every run together: within it, no further redeploy.
    proxy.resetCounts();
    await pass(discover('prod'), { maxRedeploys: 2 });
    assert.deepEqual(updatedOnWire(), []);
    // A second rotation makes all five due again: s1 and s2, just redeployed, now queue behind the other three.
    await rotate(seedSm, 'db');
    const passes: string[][] = [];
    for (let n = 0; n < 3; n++) {
      skew += 61_000; // the next window
      proxy.resetCounts();
      await pass(discover('prod'), { maxRedeploys: 2 });
      passes.push(updatedOnWire());
    }
    // s1 and s2 were redeployed concurrently, so either may hold the older deployment: that one goes first.
    assert.deepEqual(passes[0], ['s3', 's4']);
    assert.equal(passes[1]!.length, 2);
    assert.ok(passes[1]!.includes('s5'), `s5 before the ones just redeployed: ${passes[1]}`);
    assert.deepEqual([...passes[1]!.filter((s) => s !== 's5'), ...passes[2]!].sort(), ['s1', 's2']);
    proxy.resetCounts();
    await pass(discover('prod'));
    assert.equal(proxy.count('UpdateService'), 0);
  });

  it('API calls per pass with 120 services and 40 secrets: S DescribeSecret + ceil(V/10) DescribeServices (+ discovery pages)', async (t) => {
    await cluster(seedEcs, 'fleet');
    const ids = Array.from({ length: 40 }, (_, i) => `app/secret-${i}`);
    await secrets(seedSm, ids);
    const bindings: Record<string, string> = {};
    for (let i = 0; i < 120; i++) {
      bindings[`svc-${String(i).padStart(3, '0')}`] = [ids[i % 40], ids[(i * 7 + 3) % 40], ids[(i + 11) % 40]].join(
        ' ',
      );
    }
    await services(seedEcs, 'fleet', bindings);

    const started = Date.now();
    const first = await pass(discover('fleet'));
    const ms = Date.now() - started;
    // moto answers ListServices in one page whatever maxResults says; AWS would take ceil(120/100) = 2 pages
    // (the unit tests page through a fake).
    // First sight compares each secret's LastChangedDate (in the DescribeSecret answer) with each service's
    // deployment: no other read.
    assert.deepEqual(acceptedCounts(t), {
      ListServices: 1,
      DescribeServices: 12,
      DescribeSecret: 40,
      TagResource: 120,
    });
    assert.equal(first.decisions.length, 120);
    assert.ok(ms < 15_000, `first pass took ${ms} ms`); // a few hundred ms when the machine is idle
    for (const body of proxy.bodies('DescribeServices')) {
      const input = JSON.parse(body) as { services: string[]; include: string[] };
      assert.ok(input.services.length <= 10);
      assert.deepEqual(input.include, ['TAGS']);
    }

    resetCounts();
    await pass(discover('fleet'));
    assert.deepEqual(acceptedCounts(t), { ListServices: 1, DescribeServices: 12, DescribeSecret: 40 });

    // Config bindings describe only the named services: no ListServices.
    resetCounts();
    const source: BindingSource = {
      kind: 'config',
      clusters: [
        { name: 'fleet', services: Object.entries(bindings).map(([name, s]) => ({ name, secrets: s.split(' ') })) },
      ],
    };
    await pass(source, { maxRedeploys: 200 });
    assert.deepEqual(acceptedCounts(t), { DescribeServices: 12, DescribeSecret: 40 });

    // After one rotation: the same reads, plus per bound service a claim (TagResource), UpdateService and its
    // deployment (TagResource); the claims read back in batches of 10 (DescribeServices); one DescribeTaskDefinition
    // per distinct task definition of the due services (its image tag is mutable: flagged).
    await rotate(seedSm, ids[5]!);
    resetCounts();
    const rotated = await pass(discover('fleet'), { maxRedeploys: 200 });
    const due = rotated.decisions.filter((d) => d.decision === 'redeploy').length;
    assert.equal(due, Object.values(bindings).filter((s) => s.split(' ').includes(ids[5]!)).length);
    assert.deepEqual(acceptedCounts(t), {
      ListServices: 1,
      DescribeServices: 12 + Math.ceil(due / 10),
      DescribeSecret: 40,
      DescribeTaskDefinition: 1,
      UpdateService: due,
      TagResource: 2 * due,
    });
    // The pass after: each deployment's outcome, one TagResource per redeployed service; then quiet again.
    resetCounts();
    await pass(discover('fleet'), { maxRedeploys: 200 });
    assert.deepEqual(acceptedCounts(t), {
      ListServices: 1,
      DescribeServices: 12,
      DescribeSecret: 40,
      TagResource: due,
    });
    resetCounts();
    await pass(discover('fleet'), { maxRedeploys: 200 });
    assert.deepEqual(acceptedCounts(t), { ListServices: 1, DescribeServices: 12, DescribeSecret: 40 });
  });

  it('handles several clusters from the config, and a name and an ARN of one secret agree', async () => {
    await cluster(seedEcs, 'blue');
    await cluster(seedEcs, 'green');
    await secrets(seedSm, ['db']);
    const arn = (await seedSm.send(new PutSecretValueCommand({ SecretId: 'db', SecretString: value() }))).ARN!;
    // Services deployed after the secret's current version: first sight records, no redeploy.
    await services(seedEcs, 'blue', { api: undefined });
    await services(seedEcs, 'green', { api: undefined });
    const source: BindingSource = {
      kind: 'config',
      clusters: [
        { name: 'blue', services: [{ name: 'api', secrets: ['db'] }] },
        { name: 'green', services: [{ name: 'api', secrets: [arn] }] },
      ],
    };
    const first = await pass(source);
    assert.deepEqual(
      first.decisions.map((d) => `${d.cluster}/${d.service}:${d.decision}`),
      ['blue/api:record', 'green/api:record'],
    );
    assert.equal(first.decisions[0]!.newFingerprint, first.decisions[1]!.newFingerprint);
    assert.deepEqual(
      proxy.bodies('DescribeSecret').map((b) => (JSON.parse(b) as { SecretId: string }).SecretId),
      ['db'],
      'read once: the ARN is the one the read by name returned',
    );
    await rotate(seedSm, 'db');
    proxy.resetCounts();
    await pass(source);
    assert.equal(proxy.count('UpdateService'), 2);
    const bodies = proxy.bodies('UpdateService').map((b) => JSON.parse(b) as { cluster: string });
    assert.deepEqual(bodies.map((b) => b.cluster).sort(), ['blue', 'green']);
  });

  it('a service bound by name and by ARN, in its cluster by name and by ARN, is one service: one decision, one redeploy per rotation', async () => {
    await cluster(seedEcs, 'prod');
    await secrets(seedSm, ['db', 'openai']);
    await services(seedEcs, 'prod', { api: undefined });
    const described = await seedEcs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }));
    const { serviceArn, clusterArn } = described.services![0]!;
    const source: BindingSource = {
      kind: 'config',
      clusters: [
        { name: 'prod', services: [{ name: 'api', secrets: ['db'] }] },
        { name: clusterArn!, services: [{ name: serviceArn!, secrets: ['openai'] }] },
      ],
    };
    const first = await pass(source);
    assert.deepEqual(
      first.decisions.map((d) => [d.service, d.decision, d.secretIds]),
      [['api', 'record', ['db', 'openai']]],
    );
    await pass(source);
    await pass(source);
    assert.equal(proxy.count('UpdateService'), 0, 'no redeploy without a rotation');
    await rotate(seedSm, 'openai');
    await pass(source);
    await pass(source);
    assert.deepEqual(updatedOnWire(), ['api'], 'one redeploy for one rotation');
    assert.equal(proxy.count('TagResource'), 4, 'recorded; claimed and deploying; completed');
  });

  it('a pass over 200 services keeps 12 calls in flight through the real SDK (bounded, not serial) and completes', async (t) => {
    await cluster(seedEcs, 'big');
    const ids = Array.from({ length: 400 }, (_, i) => `big/s${i}`);
    await pool(ids, 16, (Name) => seedSm.send(new CreateSecretCommand({ Name, SecretString: 'not-a-real-secret' })));
    const bindings: Record<string, string> = {};
    for (let i = 0; i < 200; i++) bindings[`svc${i}`] = ids.slice(i * 2, i * 2 + 2).join(' ');
    await services(seedEcs, 'big', bindings);
    // The real SDK clients, wrapped only to watch how many requests are in flight at once.
    let inFlight = 0;
    let maxInFlight = 0;
    const watched = <C extends { send: (...a: never[]) => Promise<unknown> }>(client: C): C =>
      ({
        send: async (...args: Parameters<C['send']>) => {
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          try {
            return await client.send(...args);
          } finally {
            inFlight--;
          }
        },
      }) as unknown as C;
    const started = Date.now();
    const result = await runPass(
      { ecs: watched(watcherEcs), secrets: watched(watcherSm), log, now: Date.now },
      { ...PASS, source: discover('big'), concurrency: 12 },
    );
    const ms = Date.now() - started;
    t.diagnostic(`400 secrets / 200 services: ${ms} ms against moto, ${maxInFlight} calls in flight at most`);
    assert.equal(result.failures.length, 0);
    assert.equal(result.decisions.length, 200);
    assert.equal(maxInFlight, 12);
    assert.deepEqual(acceptedCounts(t), {
      ListServices: 1,
      DescribeServices: 20,
      DescribeSecret: 400,
      TagResource: 200,
    });
    // No wall-clock assertion: moto serves about 200-250 calls a second on a small machine whatever the client
    // does, and shared CI machines vary; the pass deadline (30 s) is the bound, and it would show as failures.
  });
});
