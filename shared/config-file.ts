import { type ConfigFile, validateConfig } from './config.ts';
import { UsageError } from './errors.ts';
import { readRegularFile } from './read-regular-file.ts';

/** Reads and validates the YAML config; any problem is a UsageError (exit 2) listing every path at fault. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = (await readRegularFile(path)).toString('utf8');
  } catch (err) {
    throw new UsageError(`config "${path}": ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: err });
  }
  // Loaded here, not at the top: `render` without a config file (the common init container) never pays for the
  // YAML parser's ~70 modules.
  const { parseDocument } = await import('yaml');
  // Silent: the parser would print warnings to stderr; they are problems of the config here. Messages quote the
  // source, so only positions and codes are reported.
  const parsed = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'silent' });
  const first = parsed.errors[0] ?? parsed.warnings[0];
  if (first) {
    const at = first.linePos?.[0] ? ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
    throw new UsageError(`config "${path}": invalid YAML${at} (${first.code})`);
  }
  const doc: unknown = parsed.toJS();
  const result = validateConfig(doc);
  if ('problems' in result) throw new UsageError(`config "${path}": ${result.problems.join('; ')}`);
  return result.config;
}
