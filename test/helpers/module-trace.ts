import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliResult, ROOT, type RunOptions, runProcess, tempDir } from './cli.ts';

const HOOK = join(ROOT, 'test', 'helpers', 'module-trace-hook.ts');

/** A run and the files it loaded (absolute paths, in load order; the hook itself and the entry file included). */
export interface TracedRun extends CliResult {
  readonly files: readonly string[];
}

/**
 * Runs `node --import <hook> ...nodeArgs` (a CLI entry and its arguments) with exactly `env` plus PATH, and
 * returns which files it loaded: what "render loads no AWS SDK module" is checked against.
 */
export async function traceModules(
  nodeArgs: readonly string[],
  env: Record<string, string | undefined>,
  opts: RunOptions = {},
): Promise<TracedRun> {
  const dir = tempDir('secrets-init-module-trace-');
  const to = join(dir, 'loaded');
  try {
    const res = await runProcess(
      process.execPath,
      ['--import', HOOK, ...nodeArgs],
      { PATH: process.env.PATH, ...env, MODULE_TRACE_TO: to },
      opts,
    );
    const files = readFileSync(to, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((u) => fileURLToPath(u))
      .filter((f) => f !== HOOK);
    return { ...res, files };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
