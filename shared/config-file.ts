import { type ConfigFile, validateConfig } from './config.ts';
import { UsageError } from './errors.ts';
import { readRegularFile } from './read-regular-file.ts';

/**
 * The largest config read: the example is 1.2 KiB, and 500 services with two secrets each fit in about 60 KiB
 * (more services are better found by their tags). The YAML parser's memory is what it bounds: the worst shapes
 * (128 KiB of one-character list items or of `[`) peak at about 220 MB of RSS, a real config at about 70 MB.
 */
export const MAX_CONFIG_BYTES = 128 * 1024;

/** Reads and validates the YAML config; any problem is a UsageError (exit 2) listing every path at fault. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = (await readRegularFile(path, MAX_CONFIG_BYTES)).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const why = code === 'EFBIG' ? `larger than ${MAX_CONFIG_BYTES / 1024} KiB (is it the right file?)` : code;
    throw new UsageError(`config "${path}": ${why}`, { cause: err });
  }
  // Loaded here, not at the top: `render` without a config file (the common init container) never pays for the
  // YAML parser's ~70 modules.
  const { parseYamlConfig } = await import('./yaml-config.ts');
  const parsed = parseYamlConfig(text);
  if ('problem' in parsed) throw new UsageError(`config "${path}": ${parsed.problem}`);
  const result = validateConfig(parsed.doc);
  if ('problems' in result) throw new UsageError(`config "${path}": ${result.problems.join('; ')}`);
  return result.config;
}
