import { readFile } from 'node:fs/promises';
import { type ConfigFile, validateConfig } from './config.ts';
import { UsageError } from './errors.ts';

/** Reads and validates the YAML config; any problem is a UsageError (exit 2) listing every path at fault. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`config "${path}": ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: err });
  }
  // Loaded here, not at the top: `render` without a config file (the common init container) never pays for the
  // YAML parser's ~70 modules.
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    const e = err as { name?: string; linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new UsageError(`config "${path}": invalid YAML${at} (${e.name ?? 'YAMLParseError'})`);
  }
  const result = validateConfig(doc);
  if ('problems' in result) throw new UsageError(`config "${path}": ${result.problems.join('; ')}`);
  return result.config;
}
