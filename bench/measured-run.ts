import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordOutput } from '../test/helpers/cli.ts';
import { awsEnv } from '../test/helpers/moto.ts';
import type { Meter, Sample } from './meter.ts';

export interface MeasuredRun {
  readonly sample: Sample;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * One command under the meter, its output kept in `dir` and recorded for the leak scan. A non-zero exit fails the
 * bench: a failed render measures nothing.
 */
export async function measuredRun(
  meter: Meter,
  dir: string,
  what: string,
  run: { argv: readonly string[]; env: Record<string, string>; cwd: string },
): Promise<MeasuredRun> {
  const sample = await meter.run({ ...run, stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr') });
  const stdout = readFileSync(join(dir, 'stdout'), 'utf8');
  const stderr = readFileSync(join(dir, 'stderr'), 'utf8');
  recordOutput(`${stdout}\n${stderr}`);
  if (sample.code !== 0) throw new Error(`${what} exited ${sample.code}: ${stderr.slice(0, 500)}`);
  return { sample, stdout, stderr };
}

/** The environment of a CLI run against `endpoint`: nothing of this process's but PATH; HOME is the bench's empty one. */
export function cliEnv(home: string, endpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...awsEnv(endpoint), ...extra };
}
