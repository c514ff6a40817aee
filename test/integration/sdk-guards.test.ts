import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { removeDir, runCli, tempDir } from '../helpers/cli.ts';
import { freePort } from '../helpers/moto.ts';

// What every SDK client of the project guards against, through the shipped bundle and each command that talks to
// AWS: a credentials endpoint that accepts and never answers (the ECS task-role endpoint, or IMDS), and an
// endpoint whose 200 answer never ends. Each ends in exit 3, on time, with exactly one line on stderr; what the
// SDK prints along the way goes to the JSON log on stdout.

let proxy: AwsProxy;
let stalled: Server;
let stalledUrl: string;
let work: string;
const sockets = new Set<Socket>();

before(async () => {
  // The AWS endpoint: the counting proxy in front of a closed port (its faults answer without an upstream).
  proxy = await startAwsProxy(`http://127.0.0.1:${await freePort()}`);
  stalled = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume(); // read the request, answer nothing, ever
  });
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  const { port } = stalled.address() as { port: number };
  stalledUrl = `http://127.0.0.1:${port}`;
  work = tempDir('secrets-init-guards-');
});
after(async () => {
  await proxy?.close();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => stalled?.close(resolve));
  if (work) removeDir(work);
});
beforeEach(() => {
  proxy.clearFaults();
  proxy.resetCounts();
});

/** No static credentials: the SDK's chain goes to the endpoint under test. HOME holds no ~/.aws. */
const base = () => ({ AWS_ENDPOINT_URL: proxy.endpoint, AWS_REGION: 'us-east-1', HOME: work });

const COMMANDS: { name: string; args: string[]; env: Record<string, string> }[] = [
  {
    name: 'render',
    args: ['render'],
    env: { APP_ENV: 'production', SECRET_NAME: 'app', SECRETS_TIMEOUT: '6s', SECRETS_DIR: 'out' },
  },
  { name: 'watch', args: ['watch', '--once', '--cluster', 'prod', '--pass-timeout', '6s'], env: {} },
  { name: 'check', args: ['check', '--remote', '--secret-name', 'app'], env: { SECRETS_TIMEOUT: '6s' } },
];

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `exactly one line on stderr, got: ${stderr}`);
  return lines[0]!;
}

describe('a credentials endpoint that accepts and never answers', () => {
  const endpoints = [
    { name: 'the task-role endpoint', env: () => ({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `${stalledUrl}/creds` }) },
    { name: 'IMDS', env: () => ({ AWS_EC2_METADATA_SERVICE_ENDPOINT: stalledUrl }) },
  ];
  for (const endpoint of endpoints) {
    for (const c of COMMANDS) {
      test(`${c.name} with ${endpoint.name}: exit 3 within its 6 s deadline, one stderr line`, async () => {
        // Killed after 30 s: the old watch and check waited for ever, the old render printed an SDK warning first.
        const res = await runCli(c.args, { ...base(), ...c.env, ...endpoint.env() }, { cwd: work, timeoutMs: 30_000 });
        assert.equal(res.code, 3, `exit code (signal ${res.signal}); stderr: ${res.stderr}`);
        const line = oneLine(res.stderr);
        assert.ok(line.startsWith(`secrets-init ${c.name}: `), line);
        assert.match(line, /no credentials within 2s|CredentialsProviderError/);
        // The deadline plus start-up and exit (generous: the machine is shared).
        assert.ok(res.ms < 6000 + 4000, `ended after ${res.ms} ms`);
        assert.deepEqual(proxy.counts(), {}, 'nothing was sent without credentials');
      });
    }
  }

  test("the SDK's own warning about the stalled request is kept, in the JSON log on stdout", async () => {
    const res = await runCli(
      COMMANDS[0]!.args,
      { ...base(), ...COMMANDS[0]!.env, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${stalledUrl}/creds` },
      { cwd: work, timeoutMs: 30_000 },
    );
    assert.equal(res.code, 3, res.stderr);
    const logged = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; level?: string; msg?: string })
      .filter((l) => l.event === 'library.console');
    assert.equal(logged.length, 1, res.stdout);
    assert.equal(logged[0]!.level, 'warn');
    assert.match(logged[0]!.msg ?? '', /^@smithy\/node-http-handler - \[WARN\] a request has exceeded/);
  });
});

describe('an AWS endpoint whose 200 answer never ends', () => {
  const creds = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' };
  for (const c of COMMANDS) {
    test(`${c.name}: exit 3 at the response cap, one stderr line, peak RSS under 300 MB`, async () => {
      proxy.addFault({ action: '*', kind: 'endless' });
      const res = await runCli(
        c.args,
        { ...base(), ...creds, ...c.env },
        { cwd: work, timeoutMs: 30_000, sampleRss: { killAbove: 1024 * 1024 * 1024 } },
      );
      assert.equal(res.code, 3, `exit code (signal ${res.signal}, peak RSS ${res.peakRss}); stderr: ${res.stderr}`);
      assert.match(oneLine(res.stderr), /response body over 10 MiB, refused/);
      assert.ok(res.peakRss! > 0 && res.peakRss! < 300 * 1024 * 1024, `peak RSS ${res.peakRss} bytes`);
    });
  }
});
