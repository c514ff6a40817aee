import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import type { KeyValuePair } from '@aws-sdk/client-ecs';
import type { AwsProxy } from './aws-proxy.ts';
import { type CliResult, runCli, runProcess } from './cli.ts';

/**
 * The aws CLI (v1, which honours AWS_ENDPOINT_URL) and the shipped bundle run the way the deploy pages run them,
 * against an emulator: for the tests that run a docs page's commands and then the containers those registered.
 */

/** The environment of the aws CLI, or of a shell running a page's blocks: dummy keys, no config, a HOME of its own. */
export function awsCliEnv(endpoint: string, home: string): Record<string, string> {
  return {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: home,
    LANG: 'C.UTF-8',
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** Runs `aws ARGS --output json` in `region`; asserts it exits 0; the parsed output. */
export async function awsCli(
  args: readonly string[],
  where: { endpoint: string; home: string; region: string; cwd?: string },
): Promise<unknown> {
  const env = { ...awsCliEnv(where.endpoint, where.home), AWS_DEFAULT_REGION: where.region };
  const r = await runProcess('aws', [...args, '--output', 'json'], env, { ...(where.cwd && { cwd: where.cwd }) });
  assert.equal(r.code, 0, `aws ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout);
}

/** What a fresh account has for its tasks: a VPC with two subnets and a security group. */
export async function createNetwork(
  aws: (args: string[]) => Promise<unknown>,
): Promise<{ subnets: string[]; securityGroup: string }> {
  const vpc = (await aws(['ec2', 'create-vpc', '--cidr-block', '10.0.0.0/16'])) as { Vpc: { VpcId: string } };
  const subnets: string[] = [];
  for (const cidr of ['10.0.1.0/24', '10.0.2.0/24']) {
    const s = (await aws(['ec2', 'create-subnet', '--vpc-id', vpc.Vpc.VpcId, '--cidr-block', cidr])) as {
      Subnet: { SubnetId: string };
    };
    subnets.push(s.Subnet.SubnetId);
  }
  const sg = (await aws([
    'ec2',
    'create-security-group',
    '--group-name',
    'tasks',
    '--description',
    'outbound HTTPS',
    '--vpc-id',
    vpc.Vpc.VpcId,
  ])) as { GroupId: string };
  return { subnets, securityGroup: sg.GroupId };
}

/** A registered container's environment as name -> value (moto keeps a number where ECS keeps text). */
export const envOf = (pairs: KeyValuePair[] | undefined): Record<string, string> =>
  Object.fromEntries((pairs ?? []).map((p) => [p.name!, String(p.value)]));

/** The bundle with a registered container's command and environment, as ECS would start it, against `endpoint`. */
export function runAsRegistered(
  endpoint: string,
  command: readonly string[],
  environment: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(command, {
    ...environment,
    ...extra,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
}

/**
 * What a deploy page promises at its end, on the wire: a watcher pass (`pass`, one run of the registered watcher)
 * first only records the service; after `rotate` moves AWSCURRENT, the next pass redeploys exactly that service
 * once; the pass after changes nothing.
 */
export async function assertRecordsThenRedeploysOnce(
  proxy: AwsProxy,
  pass: () => Promise<CliResult>,
  rotate: () => Promise<void>,
  service: { cluster: string; service: string },
): Promise<void> {
  proxy.resetCounts();
  const first = await pass();
  assert.equal(first.code, 0, first.stderr);
  assert.equal(proxy.count('UpdateService'), 0, 'the first pass only records');
  assert.equal(proxy.count('TagResource'), 1);

  await rotate();

  proxy.resetCounts();
  const second = await pass();
  assert.equal(second.code, 0, second.stderr);
  const updates = proxy.bodies('UpdateService').map((b) => JSON.parse(b) as Record<string, unknown>);
  assert.equal(updates.length, 1, 'exactly one redeploy');
  assert.deepEqual(
    { cluster: updates[0]?.cluster, service: updates[0]?.service, force: updates[0]?.forceNewDeployment },
    { ...service, force: true },
  );

  proxy.resetCounts();
  const third = await pass();
  assert.equal(third.code, 0, third.stderr);
  assert.equal(proxy.count('UpdateService'), 0, 'a pass after the redeploy changes nothing');
}
