import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { deployNames } from '../../ops/policy-names.ts';
import { FINGERPRINT_TAG, SECRETS_TAG } from '../../shared/contract.ts';
import { ROOT } from '../helpers/cli.ts';

/**
 * manifests/scp/reserve-secrets-init-tags.json, the example service control policy that reserves the product's
 * tag keys on ECS services: its shape, and its decisions evaluated by a real IAM policy simulator for principals
 * whose own policy allows every ECS action (an SCP only ever takes away). request-bodies.test.ts checks that
 * Organizations' CreatePolicy takes it.
 */

const PATH = 'manifests/scp/reserve-secrets-init-tags.json';
const TEXT = readFileSync(join(ROOT, PATH), 'utf8');
const SCP = JSON.parse(TEXT) as { Version: string; Statement: Record<string, unknown>[] };
/** AWS Organizations' quota for one SCP document; the CLI and the SDK send the text as it is, whitespace counted. */
const SCP_MAX_CHARACTERS = 5120;

const FINGERPRINT_SID = 'OnlyTheWatcherWritesItsStateTag';
const BINDING_SID = 'OnlyDeployersWriteBindingTags';

const ACCOUNT = '123456789012';
const R = 'us-east-1';
const names = deployNames('short-cut');
const service = (name = 'api') => `arn:aws:ecs:${R}:${ACCOUNT}:service/short-cut-prod/${name}`;
const TASK_DEFINITION = `arn:aws:ecs:${R}:${ACCOUNT}:task-definition/short-cut-api:3`;
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const ALLOW_ECS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }] };

/** Who calls: a role session (task role, CI, CloudFormation with the caller's role) or an IAM user. */
interface Caller {
  /** The request's principal: the session ARN, which carries no role path. */
  readonly principal: string;
  /** What AWS puts in `aws:PrincipalArn` for it: the role's ARN with its path (the simulator does not derive it). */
  readonly principalArn: string;
}
const roleSession = (name: string, path = '/'): Caller => ({
  principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/session`,
  principalArn: `arn:aws:iam::${ACCOUNT}:role${path}${name}`,
});
const user = (name: string): Caller => {
  const arn = `arn:aws:iam::${ACCOUNT}:user/${name}`;
  return { principal: arn, principalArn: arn };
};

const watcher = roleSession(names.watcherRole);
const developer = roleSession('app-developer');
const deployer = roleSession('secrets-init-deployer-ci');

/** `Allowed`, or the Sids of the SCP statements that deny (in file order). */
type Expect = 'Allowed' | readonly string[];
interface Row {
  readonly what: string;
  readonly caller: Caller;
  readonly action: string;
  readonly resource?: string;
  /** The tag keys of the request (`aws:TagKeys`); absent for a request without tags. */
  readonly tagKeys?: readonly string[];
  readonly context?: Record<string, string>;
  /** The caller's own policy; by default every ECS action on every resource. */
  readonly identity?: unknown;
  readonly expect: Expect;
}

/**
 * The decision with the given SCPs attached to the account (FullAWSAccess is attached at every level by default):
 * `Allowed`, the Sids of the SCP statements that deny, or the simulator's verdict when no SCP statement denies.
 */
async function decide(row: Row, scps: readonly unknown[]): Promise<Expect | 'ImplicitlyDenied' | 'ExplicitlyDenied'> {
  const res = await runSimulation(
    {
      request: {
        principal: row.caller.principal,
        action: row.action,
        resource: { resource: row.resource ?? service(), accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalArn': row.caller.principalArn,
          ...(row.tagKeys && { 'aws:TagKeys': [...row.tagKeys] }),
          ...row.context,
        },
      },
      identityPolicies: [{ name: 'identity', policy: row.identity ?? ALLOW_ECS }],
      serviceControlPolicies: [
        { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: ALLOW_ALL }] },
        {
          orgIdentifier: ACCOUNT,
          policies: [
            { name: 'FullAWSAccess', policy: ALLOW_ALL },
            ...scps.map((policy, i) => ({ name: `scp-${i}`, policy })),
          ],
        },
      ],
      resourceControlPolicies: [],
    },
    {},
  );
  if (res.resultType !== 'single') assert.fail(`simulator answered ${res.resultType}: ${JSON.stringify(res)}`);
  // A context key the simulator drops silently would make a condition test pass for the wrong reason.
  assert.deepEqual(res.result.ignoredContextKeys ?? [], [], `${row.what}: context keys ignored by the simulator`);
  if (res.overallResult === 'Allowed') return 'Allowed';
  const denying = (res.result.analysis.scpAnalysis?.ouAnalysis ?? []).flatMap((ou) =>
    ou.denyStatements.map((s) => s.statement.sid() ?? '(no Sid)'),
  );
  return denying.length > 0 ? denying : res.overallResult;
}

describe('the service control policy file', () => {
  it(`is at most ${SCP_MAX_CHARACTERS} characters as sent`, () => {
    assert.ok([...TEXT].length <= SCP_MAX_CHARACTERS, `${PATH}: ${[...TEXT].length} characters`);
  });

  it('is an SCP: Deny statements with conditions, no Principal (SCPs take none), version 2012-10-17', () => {
    assert.equal(SCP.Version, '2012-10-17');
    assert.ok(SCP.Statement.length > 0);
    for (const s of SCP.Statement) {
      assert.equal(s.Effect, 'Deny', `${s.Sid}`);
      assert.ok(s.Condition, `${s.Sid}: a Deny without a condition would stop everyone`);
      assert.equal('Principal' in s || 'NotPrincipal' in s, false, `${s.Sid}`);
    }
  });

  it('reserves the keys the watcher reads, by their one definition (shared/contract.ts)', () => {
    const keysOf = (sid: string) => {
      const s = SCP.Statement.find((x) => x.Sid === sid) as { Condition: Record<string, Record<string, unknown>> };
      return Object.values(s.Condition).flatMap((c) => (c['aws:TagKeys'] as string[] | undefined) ?? []);
    };
    assert.deepEqual(keysOf(FINGERPRINT_SID), [FINGERPRINT_TAG]);
    assert.deepEqual(keysOf(BINDING_SID), [SECRETS_TAG, `${SECRETS_TAG}-*`]);
  });
});

function matrix(title: string, rows: Row[]) {
  describe(title, () => {
    for (const row of rows) {
      const denies = row.expect !== 'Allowed';
      it(`${denies ? 'denies' : 'allows'} ${row.what}`, async () => {
        assert.deepEqual(await decide(row, [SCP]), row.expect);
        // The denial is the SCP's: without it the same request is allowed.
        if (denies) assert.equal(await decide(row, []), 'Allowed', `${row.what}: allowed without the SCP`);
      });
    }
  });
}

const TAG = 'ecs:TagResource';
const UNTAG = 'ecs:UntagResource';
const CREATE = 'ecs:CreateService';
const FP = FINGERPRINT_TAG;
const BIND = SECRETS_TAG;

matrix('the watcher role (PREFIX-watcher)', [
  { what: 'writing the state tag', caller: watcher, action: TAG, tagKeys: [FP], expect: 'Allowed' },
  { what: 'removing the state tag', caller: watcher, action: UNTAG, tagKeys: [FP], expect: 'Allowed' },
  {
    what: 'writing the state tag as a role under a path (the pattern spans paths)',
    caller: roleSession(names.watcherRole, '/secrets-init/'),
    action: TAG,
    tagKeys: [FP],
    expect: 'Allowed',
  },
  { what: `rebinding (${BIND})`, caller: watcher, action: TAG, tagKeys: [BIND], expect: [BINDING_SID] },
  {
    what: `removing a continuation key (${BIND}-2)`,
    caller: watcher,
    action: UNTAG,
    tagKeys: [`${BIND}-2`],
    expect: [BINDING_SID],
  },
  {
    what: 'the state tag and a binding key in one request',
    caller: watcher,
    action: TAG,
    tagKeys: [FP, BIND],
    expect: [BINDING_SID],
  },
]);

const WATCHER_POLICY = JSON.parse(readFileSync(join(ROOT, 'iam/watcher-policy.json'), 'utf8'));
matrix('the watcher role with its own policy (iam/watcher-policy.json): its calls still pass', [
  {
    what: 'writing the state tag on a service of its cluster',
    caller: watcher,
    identity: WATCHER_POLICY,
    action: TAG,
    tagKeys: [FP],
    expect: 'Allowed',
  },
  {
    what: 'taking the state tag back',
    caller: watcher,
    identity: WATCHER_POLICY,
    action: UNTAG,
    tagKeys: [FP],
    expect: 'Allowed',
  },
  {
    what: 'UpdateService (the redeploy)',
    caller: watcher,
    identity: WATCHER_POLICY,
    action: 'ecs:UpdateService',
    expect: 'Allowed',
  },
]);

matrix('the other roles of the same prefix (names that merely contain "watcher")', [
  {
    what: `${names.triggerRole} writing the state tag`,
    caller: roleSession(names.triggerRole),
    action: TAG,
    tagKeys: [FP],
    expect: [FINGERPRINT_SID],
  },
  {
    what: `${names.taskRole} writing the state tag`,
    caller: roleSession(names.taskRole),
    action: TAG,
    tagKeys: [FP],
    expect: [FINGERPRINT_SID],
  },
  {
    what: `a role named like the watcher's execution role (${names.watcherRole}-execution) writing the state tag`,
    caller: roleSession(`${names.watcherRole}-execution`),
    action: TAG,
    tagKeys: [FP],
    expect: [FINGERPRINT_SID],
  },
]);

matrix('an app developer (a role allowed every ECS action)', [
  { what: 'writing the state tag', caller: developer, action: TAG, tagKeys: [FP], expect: [FINGERPRINT_SID] },
  { what: 'removing the state tag', caller: developer, action: UNTAG, tagKeys: [FP], expect: [FINGERPRINT_SID] },
  {
    what: 'CreateService with the state tag',
    caller: developer,
    action: CREATE,
    tagKeys: [FP, 'team'],
    expect: [FINGERPRINT_SID],
  },
  {
    what: 'the tag-on-create check of CreateService (TagResource with ecs:CreateAction) with the state tag',
    caller: developer,
    action: TAG,
    tagKeys: [FP],
    context: { 'ecs:CreateAction': 'CreateService' },
    expect: [FINGERPRINT_SID],
  },
  { what: `writing ${BIND}`, caller: developer, action: TAG, tagKeys: [BIND], expect: [BINDING_SID] },
  { what: `writing ${BIND}-2`, caller: developer, action: TAG, tagKeys: [`${BIND}-2`], expect: [BINDING_SID] },
  { what: `removing ${BIND}`, caller: developer, action: UNTAG, tagKeys: [BIND], expect: [BINDING_SID] },
  {
    what: `CreateService with ${BIND}`,
    caller: developer,
    action: CREATE,
    tagKeys: ['team', BIND],
    expect: [BINDING_SID],
  },
  {
    what: 'the state tag and a binding key in one request (both statements)',
    caller: developer,
    action: TAG,
    tagKeys: [BIND, FP],
    expect: [FINGERPRINT_SID, BINDING_SID],
  },
  {
    what: 'a reserved key hidden among ordinary ones',
    caller: developer,
    action: TAG,
    tagKeys: ['team', 'cost-centre', FP],
    expect: [FINGERPRINT_SID],
  },
  { what: 'writing team=payments', caller: developer, action: TAG, tagKeys: ['team'], expect: 'Allowed' },
  { what: 'removing the team tag', caller: developer, action: UNTAG, tagKeys: ['team'], expect: 'Allowed' },
  { what: 'CreateService with ordinary tags', caller: developer, action: CREATE, tagKeys: ['team'], expect: 'Allowed' },
  { what: 'CreateService without tags (no aws:TagKeys)', caller: developer, action: CREATE, expect: 'Allowed' },
  { what: 'UpdateService (no tags)', caller: developer, action: 'ecs:UpdateService', expect: 'Allowed' },
  {
    what: 'DeleteService (the tags go with the service, no UntagResource)',
    caller: developer,
    action: 'ecs:DeleteService',
    expect: 'Allowed',
  },
  {
    what: 'another key under the prefix (secrets-init/owner): only the two families are reserved',
    caller: developer,
    action: TAG,
    tagKeys: ['secrets-init/owner'],
    expect: 'Allowed',
  },
  {
    what: 'Secrets-Init/Fingerprint (tag keys are case-sensitive: another key, which the watcher never reads)',
    caller: developer,
    action: TAG,
    tagKeys: ['Secrets-Init/Fingerprint'],
    expect: 'Allowed',
  },
  {
    what: `${BIND} on a task definition (only services are watched)`,
    caller: developer,
    action: TAG,
    resource: TASK_DEFINITION,
    tagKeys: [BIND],
    expect: 'Allowed',
  },
]);

matrix('a deployer role (secrets-init-deployer*)', [
  { what: `writing ${BIND}`, caller: deployer, action: TAG, tagKeys: [BIND], expect: 'Allowed' },
  { what: `writing ${BIND}-3`, caller: deployer, action: TAG, tagKeys: [`${BIND}-3`], expect: 'Allowed' },
  { what: `removing ${BIND}-2`, caller: deployer, action: UNTAG, tagKeys: [`${BIND}-2`], expect: 'Allowed' },
  {
    what: `CreateService with ${BIND} and ordinary tags`,
    caller: deployer,
    action: CREATE,
    tagKeys: [BIND, `${BIND}-2`, 'team'],
    expect: 'Allowed',
  },
  {
    what: `the tag-on-create check of CreateService with ${BIND}`,
    caller: deployer,
    action: TAG,
    tagKeys: [BIND],
    context: { 'ecs:CreateAction': 'CreateService' },
    expect: 'Allowed',
  },
  { what: 'writing the state tag', caller: deployer, action: TAG, tagKeys: [FP], expect: [FINGERPRINT_SID] },
  {
    what: 'CreateService with a state tag beside the binding',
    caller: deployer,
    action: CREATE,
    tagKeys: [BIND, FP],
    expect: [FINGERPRINT_SID],
  },
  {
    what: 'the same role name under a path the pattern does not name (/ci/)',
    caller: roleSession('secrets-init-deployer-ci', '/ci/'),
    action: TAG,
    tagKeys: [BIND],
    expect: [BINDING_SID],
  },
]);

matrix('an IAM user', [
  { what: `writing ${BIND}`, caller: user('alice'), action: TAG, tagKeys: [BIND], expect: [BINDING_SID] },
  { what: 'writing the state tag', caller: user('alice'), action: TAG, tagKeys: [FP], expect: [FINGERPRINT_SID] },
]);
