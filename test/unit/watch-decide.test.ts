// decide(): the pure core, table by table. One valid world, tweaked per case.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FINGERPRINT_TAG } from '../../shared/contract.ts';
import { type DecideInput, decide, needsVersionTimes, type Target } from '../../watcher/decide.ts';
import { bindingDigest, fingerprint, fingerprintV1 } from '../../watcher/fingerprint.ts';
import type { Deployment, Observation, SecretVersion, ServiceState } from '../../watcher/model.ts';
import { encodeState, type ServiceStateTag } from '../../watcher/state-tag.ts';

const NOW = Date.UTC(2026, 10, 29, 12);
const MIN = 60_000;
const KEY = Buffer.from('k'.repeat(32));
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const svcArn = (name: string) => `arn:aws:ecs:us-east-1:123456789012:service/prod/${name}`;
const ok = <T>(value: T): Observation<T> => ({ ok: true, value });
const bad = (error: string): Observation<never> => ({ ok: false, error });

/** db became current 90 min ago; services were deployed an hour ago unless a case says otherwise. */
const db: SecretVersion = { arn: arn('db'), currentVersionId: 'db-2', changedAt: NOW - 90 * MIN };
const fp = fingerprint([db]);
const bind = bindingDigest(['db']);
const primary = (id = 'ecs-svc/1', at = NOW - 60 * MIN, extra: Partial<Deployment> = {}): Deployment => ({
  id,
  status: 'PRIMARY',
  rolloutState: 'COMPLETED',
  createdAt: at,
  ...extra,
});

function service(
  name: string,
  opts: { tag?: string; deployments?: Deployment[]; status?: string; controller?: string } = {},
): ServiceState {
  const deployments = opts.deployments ?? [primary()];
  return {
    cluster: 'prod',
    name,
    arn: svcArn(name),
    status: opts.status ?? 'ACTIVE',
    tags: opts.tag === undefined ? {} : { [FINGERPRINT_TAG]: opts.tag },
    deployedAt: deployments.find((d) => d.status === 'PRIMARY')?.createdAt ?? null,
    deployments,
    controller: opts.controller ?? 'ECS',
    taskDefinition: null,
  };
}
const target = (svc: ServiceState | Observation<ServiceState>, secretIds = ['db']): Target => ({
  binding: { cluster: 'prod', service: 'ok' in svc ? 'x' : svc.name, secretIds },
  service: 'ok' in svc ? svc : ok(svc),
});

/** A state tag as the watcher writes it. */
function state(s: Partial<ServiceStateTag> = {}, key: Buffer | undefined = undefined, name = 'api'): string {
  const tag: ServiceStateTag = {
    state: 'ok',
    fingerprint: fp,
    binding: bind,
    deployment: 'ecs-svc/1',
    writtenAt: Math.floor((NOW - 50 * MIN) / 1000),
    redeployedAt: null,
    run: 'earlier1',
    flips: 0,
    ...s,
  };
  return encodeState(tag, svcArn(name), key);
}

function input(targets: Target[], over: Partial<DecideInput> = {}): DecideInput {
  return {
    targets,
    secrets: new Map([['db', ok(db)]]),
    key: undefined,
    now: NOW,
    run: 'thisrun1',
    claimTtlMs: 2 * MIN,
    capWindowMs: 5 * MIN,
    ...over,
  };
}
const one = (svc: ServiceState, over: Partial<DecideInput> = {}) => {
  const out = decide(input([target(svc)], over));
  return { out, d: out.decisions[0], summary: out.decisions.map((x) => `${x.decision}:${x.reason}`).join(' ') };
};

const old = fingerprint([{ ...db, currentVersionId: 'db-1' }]);

describe('decide: from a trusted state', () => {
  const rows: [string, ServiceState, string][] = [
    ['the tasks run the current versions', service('api', { tag: state() }), 'skip:unchanged'],
    [
      'the tasks run other versions',
      service('api', { tag: state({ fingerprint: old }) }),
      'redeploy:fingerprint-changed',
    ],
    [
      'other versions, but a deployment is rolling out',
      service('api', {
        tag: state({ fingerprint: old, deployment: 'ecs-svc/2' }),
        deployments: [
          primary('ecs-svc/2', NOW - MIN, { rolloutState: 'IN_PROGRESS' }),
          { ...primary(), status: 'ACTIVE' },
        ],
      }),
      'wait:deployment-in-progress',
    ],
    [
      // An ECS blue/green, linear or canary deployment reports no rolloutState; while it shifts traffic or bakes,
      // the blue revision is still there beside the green one.
      'other versions, but a blue/green deployment is shifting or baking (no rolloutState, two deployments)',
      service('api', {
        tag: state({ fingerprint: old, deployment: 'ecs-svc/2' }),
        deployments: [
          primary('ecs-svc/2', NOW - MIN, { rolloutState: undefined }),
          { ...primary(), status: 'ACTIVE', rolloutState: undefined },
        ],
      }),
      'wait:deployment-in-progress',
    ],
    [
      'other versions, and the blue/green deployment is done (no rolloutState, one deployment)',
      service('api', {
        tag: state({ fingerprint: old, deployment: 'ecs-svc/2' }),
        deployments: [primary('ecs-svc/2', NOW - MIN, { rolloutState: undefined })],
      }),
      'redeploy:fingerprint-changed',
    ],
    [
      'a redeploy to these versions failed before',
      service('api', { tag: state({ state: 'failed' }) }),
      'skip:failed-before',
    ],
    [
      'a redeploy to older versions failed, and the versions moved on',
      service('api', { tag: state({ state: 'failed', fingerprint: old }) }),
      'redeploy:fingerprint-changed',
    ],
  ];
  for (const [what, svc, expected] of rows) it(`${what}: ${expected}`, () => assert.equal(one(svc).summary, expected));
});

describe('decide: a redeploy this watcher started', () => {
  const deploying = (extra: Partial<ServiceStateTag> = {}) =>
    state({ state: 'deploying', deployment: 'ecs-svc/2', redeployedAt: Math.floor((NOW - 10 * MIN) / 1000), ...extra });
  const rows: [string, ServiceState, string, string | undefined][] = [
    [
      'still rolling out',
      service('api', {
        tag: deploying(),
        deployments: [primary('ecs-svc/2', NOW - 10 * MIN, { rolloutState: 'IN_PROGRESS' })],
      }),
      'wait:deployment-in-progress',
      undefined,
    ],
    [
      'completed',
      service('api', { tag: deploying(), deployments: [primary('ecs-svc/2', NOW - 10 * MIN)] }),
      'record:redeploy-completed',
      'completed',
    ],
    [
      'failed',
      service('api', {
        tag: deploying(),
        deployments: [primary('ecs-svc/2', NOW - 10 * MIN, { rolloutState: 'FAILED' })],
      }),
      'record:redeploy-failed',
      'failed',
    ],
    [
      'rolled back by the circuit breaker (gone, a PRIMARY that says so)',
      service('api', {
        tag: deploying(),
        deployments: [
          primary('ecs-svc/3', NOW - 5 * MIN, {
            rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.',
          }),
        ],
      }),
      'record:redeploy-rolled-back',
      'rolled-back',
    ],
    [
      'replaced by another deployment',
      service('api', { tag: deploying(), deployments: [primary('ecs-svc/3', NOW - 5 * MIN)] }),
      'record:redeploy-completed',
      'replaced',
    ],
    [
      // Due in the same pass, the outcome reported with it: waiting a pass would let an old state put back before
      // each pass hide the new versions for ever.
      'completed, but the versions moved on again',
      service('api', { tag: deploying({ fingerprint: old }), deployments: [primary('ecs-svc/2', NOW - 10 * MIN)] }),
      'redeploy:fingerprint-changed',
      'completed',
    ],
    [
      // Other deployments still drain: recorded, and due on the next pass (the state names the versions it went to).
      'completed while another deployment drains, and the versions moved on',
      service('api', {
        tag: deploying({ fingerprint: old }),
        deployments: [
          primary('ecs-svc/2', NOW - 10 * MIN, { rolloutState: 'COMPLETED' }),
          { id: 'ecs-svc/1', status: 'ACTIVE', createdAt: NOW - 60 * MIN },
        ],
      }),
      'record:redeploy-completed',
      'completed',
    ],
  ];
  for (const [what, svc, expected, report] of rows) {
    it(`${what}: ${expected}${report ? `, reported ${report}` : ''}`, () => {
      const { out, summary } = one(svc);
      assert.equal(summary, expected);
      assert.deepEqual(
        out.reports.map((r) => r.result),
        report ? [report] : [],
      );
    });
  }
  it('a failed redeploy writes the state `failed`, so it is not retried for the same versions', () => {
    const { d } = one(
      service('api', {
        tag: deploying(),
        deployments: [primary('ecs-svc/2', NOW - 10 * MIN, { rolloutState: 'FAILED' })],
      }),
    );
    assert.equal(d?.write?.state, 'failed');
  });
});

describe('decide: a claim (a redeploy that may have started)', () => {
  const claim = (extra: Partial<ServiceStateTag> = {}) =>
    state({
      state: 'pending',
      run: 'rival001',
      writtenAt: Math.floor((NOW - 30_000) / 1000),
      redeployedAt: Math.floor((NOW - 30_000) / 1000),
      ...extra,
    });
  it("another run's fresh claim: wait", () => {
    assert.equal(one(service('api', { tag: claim({ fingerprint: old }) })).summary, 'wait:claimed-by-another-run');
  });
  it('a claim followed by a deployment: it happened, followed like our own (here still rolling out)', () => {
    const svc = service('api', {
      tag: claim(),
      deployments: [primary('ecs-svc/2', NOW - 20_000, { rolloutState: 'IN_PROGRESS' })],
    });
    assert.equal(one(svc).summary, 'wait:deployment-in-progress');
  });
  it('a claim followed by a deployment, then AWSCURRENT moved back: redeployed (a lost outcome never hides a rollback)', () => {
    const svc = service('api', {
      tag: claim({ fingerprint: old, run: 'thisrun0' }),
      deployments: [primary('ecs-svc/2', NOW - 20_000)],
    });
    const { summary, out, d } = one(svc);
    assert.equal(summary, 'redeploy:fingerprint-changed');
    assert.equal(out.reports[0]?.result, 'completed');
    // The state that deployment's end writes (the versions it went to) is what a claim taken back puts back, and what
    // a capped redeploy writes, so the outcome is reported once; that state makes it due again on the next pass.
    assert.equal(d?.write?.fingerprint, old);
    assert.deepEqual(d?.previous, d?.write);
    const next = service('api', {
      tag: encodeState(d!.write!, svcArn('api'), undefined),
      deployments: [primary('ecs-svc/2', NOW - 20_000)],
    });
    const again = one(next);
    assert.equal(again.summary, 'redeploy:fingerprint-changed');
    assert.deepEqual(again.out.reports, []);
  });
  it('an abandoned claim (older than its time to live, no deployment after it): due again', () => {
    const stale = claim({ writtenAt: Math.floor((NOW - 5 * MIN) / 1000) });
    assert.equal(one(service('api', { tag: stale })).summary, 'redeploy:unconfirmed-redeploy');
  });
  it('counts the redeploys claimed or started within the cap window, by any run', () => {
    const out = decide(
      input([
        target(service('a', { tag: state({ redeployedAt: Math.floor((NOW - MIN) / 1000) }, undefined, 'a') })),
        target(service('b', { tag: state({ redeployedAt: Math.floor((NOW - 10 * MIN) / 1000) }, undefined, 'b') })),
        target(service('c', { tag: claim() })),
        // One state standing for three redeploys within the window (n=3).
        target(
          service('d', { tag: state({ redeployedAt: Math.floor((NOW - MIN) / 1000), redeploys: 3 }, undefined, 'd') }),
        ),
      ]),
    );
    assert.equal(out.recentRedeploys, 5);
  });
});

describe('decide: without a trusted state, from what the tasks can have seen', () => {
  const rows: [string, ServiceState, Partial<DecideInput>, string][] = [
    ['first sight, nothing changed since its deployment', service('api'), {}, 'record:no-state'],
    [
      'first sight, deployed before the version became current',
      service('api', { deployments: [primary('ecs-svc/1', NOW - 100 * MIN)] }),
      {},
      'redeploy:changed-since-deployment',
    ],
    [
      'an unsigned tag where a key is in use',
      service('api', { tag: state({ fingerprint: fp }) }),
      { key: KEY },
      'record:no-state',
    ],
    [
      'an invalid signature (forged), nothing changed',
      service('api', { tag: state({ fingerprint: old }, Buffer.from('other key material!')) }),
      { key: KEY },
      'record:no-state',
    ],
    [
      'the v1 tag of the first watcher, equal, unsigned watcher',
      service('api', { tag: fingerprintV1([db]) }),
      {},
      'record:no-state',
    ],
    [
      'the v1 tag of the first watcher, different, unsigned watcher',
      service('api', { tag: fingerprintV1([{ ...db, currentVersionId: 'x' }]) }),
      {},
      'redeploy:fingerprint-changed',
    ],
  ];
  for (const [what, svc, over, expected] of rows)
    it(`${what}: ${expected}`, () => assert.equal(one(svc, over).summary, expected));

  it('a forged signature is a failure (loud), and the decision is still made from the deployment times', () => {
    const { out } = one(service('api', { tag: state({}, Buffer.from('not the watcher key')) }), { key: KEY });
    assert.deepEqual(
      out.failures.map((f) => f.stage),
      ['state'],
    );
    assert.equal(out.decisions.length, 1);
  });
  it('a signed tag of another service copied over does not check out', () => {
    const copied = state({ fingerprint: fp }, KEY, 'worker');
    assert.deepEqual(
      one(service('api', { tag: copied }), { key: KEY }).out.failures.map((f) => f.error),
      ['its state tag signature does not match (forged, copied from another service, or signed with another key)'],
    );
  });
  it('a format of a newer watcher: no decision, a failure, nothing written', () => {
    const { out } = one(service('api', { tag: 'v3 s=ok whatever' }));
    assert.deepEqual(out.decisions, []);
    assert.match(out.failures[0]!.error, /newer watcher \(v3\)/);
  });
  it('needs the version times only where there is no trusted state', () => {
    assert.equal(needsVersionTimes(target(service('a')), undefined), true);
    assert.equal(needsVersionTimes(target(service('a', { tag: state() })), undefined), false);
    assert.equal(
      needsVersionTimes(target(service('a', { tag: state() })), KEY),
      true,
      'unsigned where a key is in use',
    );
    assert.equal(
      needsVersionTimes(target(service('a', { tag: state() }), ['db', 'openai']), undefined),
      true,
      'rebound',
    );
  });
});

describe('decide: bindings', () => {
  it('a rebound service (an id added) is decided from times, and the next state counts one overwrite', () => {
    const { d, summary } = one(service('api', { tag: state({ binding: bindingDigest(['db', 'openai']) }) }));
    assert.equal(summary, 'record:no-state');
    assert.equal(d?.write?.flips, 1);
  });
  it('two watchers binding one service differently: the second overwrite is refused as a conflict', () => {
    const { out } = one(service('api', { tag: state({ binding: bindingDigest(['db', 'openai']), flips: 1 }) }));
    assert.deepEqual(out.decisions, []);
    assert.equal(out.failures[0]?.stage, 'binding');
  });
});

describe('decide: queue, failures, determinism', () => {
  it('excludes services whose deployment controller refuses forceNewDeployment', () => {
    for (const controller of ['CODE_DEPLOY', 'EXTERNAL']) {
      assert.equal(
        one(service('api', { controller, tag: state({ fingerprint: old }) })).summary,
        'exclude:deployment-controller',
      );
    }
  });

  it('queues the due services oldest PRIMARY deployment first, then by name', () => {
    const due = (name: string, at: number | null) =>
      target(
        service(name, {
          tag: state({ fingerprint: old, deployment: 'd' }, undefined, name),
          deployments: [primary('d', at ?? NOW)],
        }),
      );
    const targets = [
      due('a', NOW - 3 * MIN),
      due('b', NOW - 9 * MIN),
      due('c', NOW - 6 * MIN),
      due('d', NOW - 9 * MIN),
    ];
    assert.deepEqual(
      decide(input(targets)).due.map((d) => d.service),
      ['b', 'd', 'c', 'a'],
    );
  });

  const failures: [string, Target[], Map<string, Observation<SecretVersion>>, string[]][] = [
    [
      'a missing service',
      [target(bad('service not found (MISSING)'))],
      new Map([['db', ok(db)]]),
      ['service x - service not found (MISSING)'],
    ],
    [
      'a draining service',
      [target(service('api', { status: 'DRAINING' }))],
      new Map([['db', ok(db)]]),
      ['service api - service is DRAINING'],
    ],
    [
      'an unreadable secret',
      [target(service('api'))],
      new Map([['db', bad('AccessDeniedException')]]),
      ['secret api db AccessDeniedException'],
    ],
    ['a binding with no secret', [target(service('api'), [])], new Map(), ['service api - binds no secret']],
  ];
  for (const [what, targets, secrets, expected] of failures) {
    it(`reports ${what} as a failure and makes no decision for it`, () => {
      const out = decide(input(targets, { secrets }));
      assert.deepEqual(
        out.failures.map((f) => `${f.stage} ${f.service} ${f.secretId ?? '-'} ${f.error}`),
        expected,
      );
      assert.deepEqual(out.decisions, []);
    });
  }

  it('is deterministic: shuffled targets and binding orders give identical output', () => {
    const targets = ['a', 'b', 'c', 'd'].map((n, i) =>
      target(service(n, { tag: i % 2 ? state({ fingerprint: old }, undefined, n) : undefined }), ['db', 'db']),
    );
    const expected = decide(input(targets));
    for (let i = 0; i < 20; i++) {
      const shuffled = [...targets].sort(() => Math.random() - 0.5);
      assert.deepEqual(decide(input(shuffled)), expected);
    }
  });
});

describe('decide: a lost answer rolled back after the claim, with the service deployments ECS gives', () => {
  it('a claim whose deployment the circuit breaker rolled back after its two minutes is reported rolled-back (ECS lists no service deployment for the rollback: it is the failed one, ROLLBACK_SUCCESSFUL)', () => {
    const claimedAt = NOW - 10 * MIN;
    const tag = state({
      state: 'pending',
      deployment: 'ecs-svc/1',
      writtenAt: Math.floor(claimedAt / 1000),
      redeployedAt: Math.floor(claimedAt / 1000),
      run: 'earlier1',
    });
    // UpdateService started ecs-svc/2 a second after the claim (its answer lost); its tasks failed for five minutes,
    // then the circuit breaker rolled it back (ecs-svc/3, the last completed deployment's revision) and it left the
    // list. ListServiceDeployments: one service deployment for it, the rollback being a part of it (API_Rollback).
    const rollback = primary('ecs-svc/3', claimedAt + 5 * MIN, {
      rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/2.',
    });
    const svc = service('api', { tag, deployments: [rollback] });
    const history = new Map([[svc.arn, ok([{ createdAt: claimedAt + 1000, status: 'ROLLBACK_SUCCESSFUL' }])]]);
    const { out } = one(svc, { history });
    assert.deepEqual(
      out.reports.map((r) => r.result),
      ['rolled-back'],
      'the failed redeploy is reported (RedeploysFailed), not silently recorded ok',
    );
  });
});
