import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { type ConfigFile, validateConfig } from '../shared/config.ts';
import { UsageError } from '../shared/errors.ts';

/** Reads and validates the YAML config file; every problem is a UsageError (exit 2) naming the file and paths. */
export async function loadConfig(path: string, cwd: string): Promise<ConfigFile> {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`reading config "${path}": ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, {
      cause: err,
    });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    // yaml's messages quote the offending line, which may hold anything; keep the position only.
    const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new UsageError(`config "${path}" is not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`);
  }
  const result = validateConfig(doc);
  if ('problems' in result) throw new UsageError(`config "${path}":\n  ${result.problems.join('\n  ')}`);
  return result.config;
}
