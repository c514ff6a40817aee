import { isUtf8 } from 'node:buffer';
import { parse } from 'dotenv';
import { keyLabel, type Layer, type SecretValue, shownKey } from './secret-value.ts';
import type { Source } from './source.ts';

/**
 * Parses dotenv text with the `dotenv` package (no `${VAR}` expansion, `\n` expanded only inside double
 * quotes; see docs/configuration.md, "dotenv semantics") into a layer.
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
  const unclosed: DotenvFinding[] = [];
  const cutAtHash: DotenvFinding[] = [];
  for (const e of entries(lines(src.toString()))) {
    if (e.quoted) {
      if (e.last === undefined) unclosed.push({ key: e.key, line: e.first });
      continue;
    }
    const hash = e.value.indexOf('#');
    if (hash > 0 && !/\s/.test(e.value[hash - 1]!)) cutAtHash.push({ key: e.key, line: e.first });
  }
  return { unclosed, cutAtHash };
}

/**
 * The lines whose bytes are not valid UTF-8, each with the key whose value it holds (none for a comment or a line
 * dotenv ignores). Decoding would turn those bytes into U+FFFD and render a different value than the file holds.
 */
export function findNotUtf8(src: Buffer): { readonly key?: string; readonly line: number }[] {
  if (isUtf8(src)) return [];
  const bad = byteLines(src).flatMap((bytes, i) => (isUtf8(bytes) ? [] : [i + 1]));
  const owner = new Map<number, string>();
  for (const e of entries(lines(src.toString()))) {
    for (let n = e.first; n <= (e.last ?? e.first); n++) owner.set(n, e.key);
  }
  return bad.map((line) => {
    const key = owner.get(line);
    return key === undefined ? { line } : { key, line };
  });
}

/** A key and its value as dotenv reads it: lines `first` to `last` (1-based); `last` undefined if never closed. */
interface Entry {
  readonly key: string;
  readonly value: string;
  readonly quoted: boolean;
  readonly first: number;
  readonly last: number | undefined;
}

/** Lines as dotenv splits them: `\r\n`, `\r` and `\n` each end one. */
function lines(text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n');
}

/** The same lines as bytes (line ends are ASCII, never inside a multi-byte sequence), so numbers match. */
function byteLines(src: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < src.length; i++) {
    if (src[i] !== 0x0a && src[i] !== 0x0d) continue;
    out.push(src.subarray(start, i));
    if (src[i] === 0x0d && src[i + 1] === 0x0a) i++;
    start = i + 1;
  }
  out.push(src.subarray(start));
  return out;
}

function entries(all: readonly string[]): Entry[] {
  const out: Entry[] = [];
  let i = 0;
  while (i < all.length) {
    const m = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)\s*(.*)$/.exec(all[i]!);
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
      while (closingQuote(rest, quote) < 0 && ++j < all.length) rest = all[j]!;
      const closed = j < all.length;
      out.push({ key, value, quoted: true, first: i + 1, last: closed ? j + 1 : undefined });
      i = closed ? j + 1 : i + 1;
      continue;
    }
    out.push({ key, value, quoted: false, first: i + 1, last: i + 1 });
    i++;
  }
  return out;
}

/** Index of the first `quote` not escaped by a backslash, or -1. */
function closingQuote(text: string, quote: string): number {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === quote) return k;
  }
  return -1;
}

/** Where the dotenv file is and whether it may be missing (production's default `.env` may). */
export interface DotenvSourceOptions {
  readonly path: string;
  /** A missing file (ENOENT) is no source at all instead of a failure. */
  readonly optional: boolean;
  readonly readFile: (path: string) => Promise<Buffer>;
}

/**
 * The dotenv file as a source: one verdict, under the others (it is wired first, so everything else wins). Bytes
 * that are not UTF-8 and quotes never closed are problems (exit 4): decoding or parsing them would render values
 * other than the file holds. Values cut at an unquoted `#` are warnings.
 */
export function dotenvSource(options: DotenvSourceOptions): Source {
  const subject = `dotenv "${options.path}"`;
  return {
    subject,
    remote: false,
    read: async () => {
      let src: Buffer;
      try {
        src = await options.readFile(options.path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        if (options.optional && code === 'ENOENT') return [];
        return [{ subject, read: { ok: false, error: code }, problems: [], warnings: [] }];
      }
      const problems: string[] = [];
      const notUtf8 = findNotUtf8(src);
      if (notUtf8.length > 0) {
        // Decoding would put U+FFFD where those bytes are: a value other than the file holds. Never show the bytes.
        const where = notUtf8.map((f) =>
          f.key === undefined ? `line ${f.line}` : `${keyLabel(f.key)} (line ${f.line})`,
        );
        problems.push(`${subject}: not valid UTF-8 (save it as UTF-8): ${where.join(', ')}`);
      }
      const { unclosed, cutAtHash } = scanDotenv(src);
      if (unclosed.length > 0) {
        const where = unclosed.map((f) => `${keyLabel(f.key)} (line ${f.line})`).join(', ');
        problems.push(`${subject}: a quote is opened and never closed: ${where}`);
      }
      const warnings = cutAtHash.map(({ key, line }) => ({
        event: 'dotenv.comment' as const,
        path: options.path,
        line,
        key: shownKey(key),
        msg: 'an unquoted value contains "#": the dotenv parser cuts it there; quote the value',
      }));
      const layer = parseDotenv(src, options.path);
      return [
        {
          subject,
          read: { ok: true, value: { layer, record: { type: 'dotenv', path: options.path } } },
          problems,
          warnings,
        },
      ];
    },
  };
}
