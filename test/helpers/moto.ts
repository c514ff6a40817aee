import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { AwsModel } from './aws-model.ts';
import { type AwsProxy, startAwsProxy } from './aws-proxy.ts';

/**
 * A moto server (real AWS API emulator) on a free loopback port, owned by one test file, behind a proxy that
 * refuses what AWS refuses and moto accepts (aws-limits.ts: counts per call, tag grammar, tags per resource, the
 * account's rate quotas). Every test talks to `endpoint`, so the limits hold for the whole suite.
 */
export interface Moto {
  /** The limits proxy in front of moto: what every client, CLI and counting proxy of a test points at. */
  readonly endpoint: string;
  /**
   * moto itself, past the limits: only for seeding state AWS cannot be in (a tag value AWS would refuse), to show
   * what the product does when it meets it anyway. Name the reason where you use it.
   */
  readonly serverEndpoint: string;
  /** The limits proxy: `setQuota`, `refusals()`. */
  readonly limits: AwsProxy;
  /** What the proxy answers as AWS would and moto does not (aws-model.ts): script a rollout with `rollout`/`finish`. */
  readonly model: AwsModel;
  readonly port: number;
  readonly pid: number;
  /** Wipes all emulated state (POST /moto-api/reset) and refills the quotas, as a fresh account. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Env for a child process or SDK client that talks to moto with dummy credentials. */
export function awsEnv(endpoint: string, region = 'us-east-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** SDK client options for moto or the proxy in front of it. */
export function clientOptions(endpoint: string, region = 'us-east-1') {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let checked = false;
function assertMotoInstalled(): void {
  if (checked) return;
  const probe = spawnSync('python3', ['-c', 'import moto.server, sys; sys.stdout.write(moto.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    throw new Error(
      'moto is not installed: integration tests need `python3 -m moto.server` (pip install "moto[server]==5.2.1"); ' +
        `python3 said: ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`,
    );
  }
  checked = true;
}

/**
 * Starts moto and waits until it answers. Fails loudly (never skips) when moto is missing. `env` adds to moto's
 * environment (e.g. `MOTO_ACCOUNT_ID` for an account other than 123456789012).
 */
export async function startMoto(options: { env?: Readonly<Record<string, string>> } = {}): Promise<Moto> {
  assertMotoInstalled();
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false', ...options.env },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${endpoint}/moto-api/data.json`);
        if (res.ok) {
          await res.arrayBuffer();
          const pid = child.pid ?? 0;
          const model = new AwsModel();
          const limits = await startAwsProxy(endpoint, { limits: true, model });
          return {
            endpoint: limits.endpoint,
            serverEndpoint: endpoint,
            limits,
            model,
            port,
            pid,
            async reset() {
              const r = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
              await r.arrayBuffer();
              model.reset();
              limits.refillQuotas();
              limits.resetCounts();
            },
            async stop() {
              await limits.close();
              await stopProcess(child);
            },
          };
        }
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await stopProcess(child);
    if (attempt === 2) throw new Error(`moto did not start on port ${port}: ${stderr.trim().split('\n').pop()}`);
  }
  throw new Error('unreachable');
}

function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
