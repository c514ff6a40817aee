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

/**
 * Lines where the `dotenv` package silently cuts an unquoted value at `#` (it starts a comment there even
 * without a space before it, unlike docker compose): `PASSWORD=abc#123` becomes `abc`. Key names and line
 * numbers only, for a warning.
 */
export function truncatedByComment(src: string | Buffer): { key: string; line: number }[] {
  const out: { key: string; line: number }[] = [];
  const lines = src.toString().split(/\r?\n/);
  lines.forEach((text, i) => {
    const m = /^\s*(?:export\s+)?([\w.-]+)\s*[=:]\s*([^'"`\s#][^#]*?)#/.exec(text);
    if (m && !/\s$/.test(m[2]!)) out.push({ key: m[1]!, line: i + 1 });
  });
  return out;
}
