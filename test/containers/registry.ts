import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/moto.ts';

/**
 * A registry on loopback for one test file (Debian's `docker-registry`, the CNCF distribution registry ECR speaks
 * the same API as): plain HTTP, no auth, storage under `dir`. It stands in for ECR, which only real AWS has.
 */
export interface Registry {
  /** `127.0.0.1:PORT`, the registry part of an image name. */
  readonly host: string;
  stop(): Promise<void>;
}

export async function startRegistry(dir: string): Promise<Registry> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const logFile = join(dir, 'registry.log');
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  const failed = new Promise<Error>((resolve) =>
    child.once('error', (e) =>
      resolve(new Error(`docker-registry did not start (${e.message}): apt-get install -y docker-registry`)),
    ),
  );
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const up = await Promise.race([
      fetch(`http://${host}/v2/`).then(
        async (r) => {
          await r.arrayBuffer();
          return r.ok;
        },
        () => false,
      ),
      failed,
    ]);
    if (up instanceof Error) throw up;
    if (up) return { host, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not answer on ${host}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
}
