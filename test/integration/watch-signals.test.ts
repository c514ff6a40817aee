import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { cliArgs, ROOT } from '../helpers/cli.ts';
import { fleet } from '../helpers/ecs-fleet.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

// The long-running watcher's signals, with the built CLI: the first SIGTERM or SIGINT lets the pass in flight
// finish (exit 0, tested in watch-cli.test.ts); a second one exits at once, with the code a shell reports for the
// signal, as docs/watcher.md says.

let moto: Moto;
let proxy: AwsProxy;

before(async () => {
  moto = await startMoto();
  proxy = await startAwsProxy(moto.endpoint);
  const ecs = new ECSClient(clientOptions(moto.endpoint));
  const sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  await fleet(ecs, sm, 'prod', { api: 'db' });
  ecs.destroy();
  sm.destroy();
});
after(async () => {
  await proxy?.close();
  await moto?.stop();
});

/** Starts the watcher with its first pass held (a stalled DescribeSecret), sends `signal` twice; the exit. */
async function twice(signal: 'SIGTERM' | 'SIGINT'): Promise<{ code: number | null; stdout: string }> {
  proxy.clearFaults();
  proxy.resetCounts();
  proxy.addFault({ action: 'DescribeSecret', kind: 'stall' });
  const child = spawn(process.execPath, cliArgs(['watch', '--interval', '1m', '--pass-timeout', '60s']), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...awsEnv(proxy.endpoint), WATCH_CLUSTER: 'prod' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (proxy.count('DescribeSecret') === 0) {
    assert.ok(Date.now() < deadline, 'the pass never reached DescribeSecret');
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill(signal);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(child.exitCode, null, 'the first signal lets the pass in flight go on');
  child.kill(signal);
  const code = await closed;
  proxy.clearFaults();
  return { code, stdout };
}

describe('watch: a second signal exits at once', () => {
  const page = readFileSync(join(ROOT, 'docs/watcher.md'), 'utf8');
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} twice: exit ${code}, as docs/watcher.md says`, async () => {
      const r = await twice(signal);
      assert.equal(r.code, code);
      assert.ok(!r.stdout.includes('"watch.pass"'), 'the held pass never finished');
      assert.match(page, /A second signal exits at once\s+\(143 after SIGTERM, 130 after SIGINT\)/);
    });
  }
});
