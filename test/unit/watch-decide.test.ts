import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FINGERPRINT_TAG } from '../../shared/contract.ts';
import { type DecideInput, decide, type Target } from '../../watcher/decide.ts';
import { fingerprint } from '../../watcher/fingerprint.ts';
import type { Observation, SecretVersion, ServiceState } from '../../watcher/model.ts';

// One valid world, tweaked per case: two services in "prod", api uses db+openai, worker uses db.
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const version = (name: string, v: string): SecretVersion => ({ arn: arn(name), currentVersionId: v });
const ok = <T>(value: T): Observation<T> => ({ ok: true, value });
const bad = (error: string): Observation<never> => ({ ok: false, error });

function service(
  name: string,
  tags: Record<string, string> = {},
  status = 'ACTIVE',
  deployedAt: number | null = null,
): ServiceState {
  return {
    cluster: 'prod',
    name,
    arn: `arn:aws:ecs:us-east-1:123456789012:service/prod/${name}`,
    status,
    tags,
    deployedAt,
  };
}
function target(name: string, secretIds: string[], svc: Observation<ServiceState> = ok(service(name))): Target {
  return { binding: { cluster: 'prod', service: name, secretIds }, service: svc };
}
const secrets = (entries: Record<string, Observation<SecretVersion>>) => new Map(Object.entries(entries));

const current = { db: version('db', 'db-1'), openai: version('openai', 'oa-1') };
const fpApi = fingerprint([current.db, current.openai]);
const fpWorker = fingerprint([current.db]);
const tagged = (fp: string) => ({ [FINGERPRINT_TAG]: fp });

function world(overrides: Partial<DecideInput> = {}): DecideInput {
  return {
    targets: [
      target('api', ['db', 'openai'], ok(service('api', tagged(fpApi)))),
      target('worker', ['db'], ok(service('worker', tagged(fpWorker)))),
    ],
    secrets: secrets({ db: ok(current.db), openai: ok(current.openai) }),
    ...overrides,
  };
}

const summary = (out: ReturnType<typeof decide>) => out.decisions.map((d) => `${d.service}:${d.decision}:${d.reason}`);

describe('decide', () => {
  it('records the fingerprint of a service seen for the first time and redeploys nothing', () => {
    const out = decide(world({ targets: [target('api', ['db', 'openai']), target('worker', ['db'])] }));
    assert.deepEqual(summary(out), ['api:record:no-fingerprint', 'worker:record:no-fingerprint']);
    assert.equal(out.decisions[0]!.oldFingerprint, null);
    assert.equal(out.decisions[0]!.newFingerprint, fpApi);
    assert.deepEqual(out.failures, []);
  });

  it('skips services whose fingerprint is unchanged', () => {
    assert.deepEqual(summary(decide(world())), ['api:skip:unchanged', 'worker:skip:unchanged']);
  });

  const table: { name: string; rotated: Record<string, SecretVersion>; expected: string[] }[] = [
    {
      name: 'one secret used by one service',
      rotated: { openai: version('openai', 'oa-2') },
      expected: ['api:redeploy:fingerprint-changed', 'worker:skip:unchanged'],
    },
    {
      name: 'one secret used by both services',
      rotated: { db: version('db', 'db-2') },
      expected: ['api:redeploy:fingerprint-changed', 'worker:redeploy:fingerprint-changed'],
    },
    {
      name: 'every secret of a service at once: still one redeploy',
      rotated: { db: version('db', 'db-2'), openai: version('openai', 'oa-2') },
      expected: ['api:redeploy:fingerprint-changed', 'worker:redeploy:fingerprint-changed'],
    },
  ];
  for (const row of table) {
    it(`redeploys exactly the services bound to a rotated secret: ${row.name}`, () => {
      const versions = { ...current, ...row.rotated };
      const out = decide(world({ secrets: secrets({ db: ok(versions.db), openai: ok(versions.openai) }) }));
      assert.deepEqual(summary(out), row.expected);
      const api = out.decisions.find((d) => d.service === 'api')!;
      assert.equal(api.oldFingerprint, fpApi);
      assert.equal(api.newFingerprint, fingerprint([versions.db, versions.openai]));
    });
  }

  it('agrees on the fingerprint when one binding names a secret and another its ARN', () => {
    const out = decide({
      targets: [target('by-name', ['db']), target('by-arn', [arn('db')])],
      secrets: secrets({ db: ok(current.db), [arn('db')]: ok(current.db) }),
    });
    assert.equal(out.decisions[0]!.newFingerprint, out.decisions[1]!.newFingerprint);
  });

  it('gives one decision to a service bound twice (by name and by ARN), over the union of their secrets', () => {
    const svc = service('api', tagged(fpApi));
    const out = decide({
      targets: [
        { binding: { cluster: 'prod', service: 'api', secretIds: ['db'] }, service: ok(svc) },
        {
          binding: {
            cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
            service: svc.arn,
            secretIds: ['openai'],
          },
          service: ok(svc),
        },
      ],
      secrets: secrets({ db: ok(current.db), openai: ok(current.openai) }),
    });
    assert.deepEqual(summary(out), ['api:skip:unchanged']);
    assert.deepEqual(out.decisions[0]!.secretIds, ['db', 'openai']);
  });

  it('redeploys a service whose tag is not a fingerprint it wrote (hand-edited or older format)', () => {
    const out = decide(world({ targets: [target('api', ['db', 'openai'], ok(service('api', tagged('junk'))))] }));
    assert.deepEqual(summary(out), ['api:redeploy:fingerprint-changed']);
  });

  it('knows nothing of a cap: every service whose fingerprint changed is due, in a stable order', () => {
    const names = ['e', 'c', 'a', 'd', 'b'];
    const out = decide({
      targets: names.map((n) => target(n, ['db'], ok(service(n, tagged('v1:old'))))),
      secrets: secrets({ db: ok(current.db) }),
    });
    assert.deepEqual(
      summary(out),
      names.toSorted().map((n) => `${n}:redeploy:fingerprint-changed`),
    );
    assert.equal(out.due.length, 5);
  });

  it('queues the due services oldest PRIMARY deployment first, then by name: the longest waiting go first', () => {
    const due = (name: string, deployedAt: number | null) =>
      target(name, ['db'], ok(service(name, tagged('v1:old'), 'ACTIVE', deployedAt)));
    const out = decide({
      targets: [due('a', 300), due('b', 100), due('c', 200), due('d', 100), due('e', null)],
      secrets: secrets({ db: ok(current.db) }),
    });
    assert.deepEqual(
      out.due.map((d) => d.service),
      ['e', 'b', 'd', 'c', 'a'],
      'unknown age first (never starved), then oldest first, ties by name',
    );
  });

  it('puts only redeploy decisions in the due queue (records and skips are not due)', () => {
    const out = decide({
      targets: [
        target('a', ['db']),
        target('b', ['db'], ok(service('b', tagged(fpWorker)))),
        target('c', ['db'], ok(service('c', tagged('v1:old')))),
      ],
      secrets: secrets({ db: ok(current.db) }),
    });
    assert.deepEqual(summary(out), ['a:record:no-fingerprint', 'b:skip:unchanged', 'c:redeploy:fingerprint-changed']);
    assert.deepEqual(
      out.due.map((d) => d.service),
      ['c'],
    );
  });

  const failures: { name: string; input: DecideInput; expected: string[]; decided: string[] }[] = [
    {
      name: 'a missing service',
      input: world({
        targets: [target('api', ['db', 'openai'], bad('service not found (MISSING)')), world().targets[1]!],
      }),
      expected: ['service api - service not found (MISSING)'],
      decided: ['worker:skip:unchanged'],
    },
    {
      name: 'a draining service',
      input: world({
        targets: [target('api', ['db', 'openai'], ok(service('api', tagged(fpApi), 'DRAINING'))), world().targets[1]!],
      }),
      expected: ['service api - service is DRAINING'],
      decided: ['worker:skip:unchanged'],
    },
    {
      name: 'a deleted secret (only for the services bound to it)',
      input: world({
        secrets: secrets({ db: ok(current.db), openai: bad('secret is scheduled for deletion') }),
      }),
      expected: ['secret api openai secret is scheduled for deletion'],
      decided: ['worker:skip:unchanged'],
    },
    {
      name: 'an access error on a shared secret (for every service that uses it)',
      input: world({ secrets: secrets({ db: bad('AccessDeniedException'), openai: ok(current.openai) }) }),
      expected: ['secret api db AccessDeniedException', 'secret worker db AccessDeniedException'],
      decided: [],
    },
    {
      name: 'a binding with no secret',
      input: world({ targets: [target('api', [], ok(service('api')))] }),
      expected: ['service api - binds no secret'],
      decided: [],
    },
  ];
  for (const row of failures) {
    it(`reports ${row.name} as a failure and still decides the other services`, () => {
      const out = decide(row.input);
      assert.deepEqual(
        out.failures.map((f) => `${f.stage} ${f.service} ${f.secretId ?? '-'} ${f.error}`),
        row.expected,
      );
      assert.deepEqual(summary(out), row.decided);
    });
  }

  it('is deterministic: shuffled targets and secret lists give identical output', () => {
    const input = world({
      targets: [
        target('b', ['openai', 'db'], ok(service('b', tagged('v1:old')))),
        target('a', ['db', 'openai', 'db']),
        target('c', ['db'], ok(service('c', tagged(fpWorker)))),
        target('d', ['gone']),
      ],
      secrets: secrets({ db: ok(current.db), openai: ok(current.openai), gone: bad('ResourceNotFoundException') }),
    });
    const expected = decide(input);
    for (let i = 0; i < 20; i++) {
      const targets = [...input.targets]
        .map((t) => ({ t, k: Math.random() }))
        .sort((x, y) => x.k - y.k)
        .map(({ t }) => ({ ...t, binding: { ...t.binding, secretIds: [...t.binding.secretIds].reverse() } }));
      assert.deepEqual(decide({ ...input, targets }), expected);
    }
  });

  it('makes no decision for a service with any unreadable secret (no fingerprint over part of its secrets)', () => {
    const out = decide(world({ secrets: secrets({ db: ok(current.db) }) }));
    assert.deepEqual(summary(out), ['worker:skip:unchanged']);
    assert.deepEqual(
      out.failures.map((f) => [f.service, f.secretId]),
      [['api', 'openai']],
    );
  });
});
