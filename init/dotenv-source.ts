import { parse } from 'dotenv';
import type { Layer, SecretValue } from './secret-value.ts';

/**
 * Parses dotenv text with the `dotenv` package (no `${VAR}` expansion, `\n` expanded only inside double
 * quotes; see README "dotenv semantics") into a layer.
 */
export function parseDotenv(src: string | Buffer, path: string): Layer {
  const entries = new Map<string, SecretValue>();
  for (const [k, v] of Object.entries(parse(src))) entries.set(k, { kind: 'text', text: v });
  return { origin: `dotenv "${path}"`, entries };
}
