import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A private podman for one test file: its own containers.conf, storage, volumes and networks under a
 * temp dir (scripts/containers/setup.sh), the local base images built there, and on demand the Docker
 * API socket (`podman system service`) that docker-compose v1 talks to. `close()` removes all of it.
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SETUP = join(ROOT, 'scripts', 'containers', 'setup.sh');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export interface Podman {
  readonly stateDir: string;
  /** process.env plus CONTAINERS_CONF and friends (and DOCKER_HOST once the service runs). */
  readonly env: Readonly<Record<string, string>>;
  podman(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts the Docker-compatible API socket once and returns its DOCKER_HOST. */
  startService(): Promise<string>;
  compose(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

const TOOLS: readonly { cmd: string; args: string[]; why: string }[] = [
  { cmd: 'podman', args: ['--version'], why: 'builds and runs the images' },
  { cmd: 'runc', args: ['--version'], why: 'the OCI runtime podman is pointed at (crun fails here)' },
  { cmd: 'docker-compose', args: ['version', '--short'], why: 'runs manifests/compose.yaml (v1, apt)' },
  { cmd: 'busybox', args: ['true'], why: 'the shell of the local build-stage base image' },
  { cmd: 'docker-registry', args: ['--version'], why: 'a registry on loopback the init image is pushed to (apt)' },
];

/** Throws one clear error naming every missing tool and how to install it. The container tests never skip. */
export function assertContainerToolsInstalled(): void {
  const missing = TOOLS.filter((t) => spawnSync(t.cmd, t.args, { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `container tests need ${missing.map((t) => `${t.cmd} (${t.why})`).join(', ')}; install them with ` +
        '`apt-get install -y podman runc uidmap fuse-overlayfs slirp4netns busybox-static docker-compose docker-registry`',
    );
  }
}

/** Runs a command to completion, collecting its output; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      env: opts.env ?? (process.env as Record<string, string>),
      cwd: opts.cwd ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - started,
      });
    });
  });
}

/** GET /_ping on the Docker API socket. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

/** Reads the `export NAME='value'` lines that setup.sh writes. */
function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z_]+)='([^']*)'$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

export async function setupPodman(): Promise<Podman> {
  assertContainerToolsInstalled();
  const stateDir = mkdtempSync(join(tmpdir(), 'secrets-init-podman-'));
  const setup = await run('sh', [SETUP, stateDir], { timeoutMs: 180_000 });
  if (setup.code !== 0) {
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`scripts/containers/setup.sh failed (${setup.code}): ${setup.stderr.trim()}`);
  }
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...readEnvFile(join(stateDir, 'env')),
  };
  let service: ChildProcess | undefined;
  let dockerHost: string | undefined;

  const podman = (args: readonly string[], opts: RunOptions = {}) =>
    run('podman', args, { ...opts, env: { ...env, ...opts.env } });

  const startService = async (): Promise<string> => {
    if (dockerHost) return dockerHost;
    const sock = join(stateDir, 'podman.sock');
    const log = openSync(join(stateDir, 'service.log'), 'a');
    // The log goes to a file: a pipe nobody reads would stall the service once full.
    service = spawn('podman', ['system', 'service', '--time=0', `unix://${sock}`], {
      env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const deadline = Date.now() + 20_000;
    const host = `unix://${sock}`;
    while (Date.now() < deadline) {
      if (service.exitCode !== null) break;
      if (existsSync(sock)) {
        if (await ping(sock)) {
          dockerHost = host;
          env.DOCKER_HOST = host;
          return host;
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `podman system service did not answer on ${sock}: ${readFileSync(join(stateDir, 'service.log'), 'utf8').slice(-2000)}`,
    );
  };

  const compose = async (args: readonly string[], opts: RunOptions = {}) => {
    await startService();
    return run('docker-compose', ['--ansi', 'never', ...args], { ...opts, env: { ...env, ...opts.env } });
  };

  const close = async () => {
    await podman(['rm', '--all', '--force', '--time', '0'], { timeoutMs: 60_000 }).catch(() => undefined);
    await podman(['volume', 'rm', '--all', '--force'], { timeoutMs: 60_000 }).catch(() => undefined);
    if (service && service.exitCode === null) {
      const proc = service;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        proc.kill('SIGTERM');
      });
    }
    // Unmounts and removes the storage, then the folder itself.
    await podman(['system', 'reset', '--force'], { timeoutMs: 120_000 }).catch(() => undefined);
    spawnSync('umount', ['-R', join(stateDir, 'storage', 'overlay')], { stdio: 'ignore' });
    rmSync(stateDir, { recursive: true, force: true });
  };

  return { stateDir, env, podman, startService, compose, close };
}
