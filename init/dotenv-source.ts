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

export interface DotenvFinding {
  readonly key: string;
  readonly line: number;
}

/**
 * What the `dotenv` package does silently and an operator would not expect, found by scanning the raw text the
 * way its grammar reads it (quoted values may span lines):
 * - `unclosed`: a value that opens a quote and never closes it. dotenv then keeps the quote as text and turns the
 *   following lines (the rest of a PEM key, say) into variables of their own.
 * - `cutAtHash`: an unquoted value cut at `#`, which dotenv reads as a comment even without a space before it
 *   (`PASSWORD=abc#123` becomes `abc`), unlike docker compose.
 * Keys and line numbers only; lines inside a quoted value are never read as keys.
 */
export function scanDotenv(src: string | Buffer): { unclosed: DotenvFinding[]; cutAtHash: DotenvFinding[] } {
  const lines = src.toString().replace(/\r\n?/g, '\n').split('\n');
  const unclosed: DotenvFinding[] = [];
  const cutAtHash: DotenvFinding[] = [];
  let i = 0;
  while (i < lines.length) {
    const m = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)\s*(.*)$/.exec(lines[i]!);
    if (!m) {
      i++;
      continue;
    }
    const key = m[1]!;
    const value = m[2]!;
    const quote = value[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      let j = i;
      let rest = value.slice(1);
      while (closingQuote(rest, quote) < 0 && ++j < lines.length) rest = lines[j]!;
      if (j >= lines.length) {
        unclosed.push({ key, line: i + 1 });
        i++;
      } else i = j + 1;
      continue;
    }
    const hash = value.indexOf('#');
    if (hash > 0 && !/\s/.test(value[hash - 1]!)) cutAtHash.push({ key, line: i + 1 });
    i++;
  }
  return { unclosed, cutAtHash };
}

/** Index of the first `quote` not escaped by a backslash, or -1. */
function closingQuote(text: string, quote: string): number {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === quote) return k;
  }
  return -1;
}
