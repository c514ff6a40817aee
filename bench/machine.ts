import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** What the figures were measured on. */
export interface Machine {
  readonly cpu: string;
  readonly cpus: number;
  readonly memGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly aws: string;
  readonly jq: string;
}

export function describeMachine(): Machine {
  const cpu = cpus();
  const version = (cmd: string) => {
    const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
    return (r.stdout || r.stderr || `${cmd} ?`).trim().split(/\s/)[0]!;
  };
  return {
    cpu: cpu[0]?.model ?? 'unknown CPU',
    cpus: cpu.length,
    memGiB: totalmem() / 2 ** 30,
    kernel: `Linux ${release()}`,
    node: process.version,
    aws: version('aws'),
    jq: version('jq'),
  };
}

/** The 1, 5 and 15 minute load averages. */
export const load = (): readonly number[] => loadavg();
