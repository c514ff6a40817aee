import assert from 'node:assert/strict';

/** A fenced `sh` block of a docs page, as a test runs it. */
export interface Block {
  /** `HEADING #n`: the heading it is under and its place among the `sh` blocks there. */
  readonly name: string;
  readonly text: string;
}

/** The fenced `sh` blocks of a markdown page, in order, named by heading. */
export function shBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let heading = '';
  let n = 0;
  let open: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (open) {
      if (line === '```') {
        blocks.push({ name: `${heading} #${++n}`, text: `${open.join('\n')}\n` });
        open = undefined;
      } else open.push(line);
    } else if (/^#{2,3} /.test(line)) {
      heading = line.replace(/^#+ /, '');
      n = 0;
    } else if (line === '```sh') open = [];
  }
  assert.equal(open, undefined, 'a fenced block is never closed');
  return blocks;
}

/** A value as one single-quoted shell word. */
export const shQuote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

/** The names a block assigns (`NAME=...` or `export NAME=...` at the start of a line), in order. */
export function assignedNames(block: Block): string[] {
  return [...block.text.matchAll(/^(?:export )?([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

/** The block with the given values put in for the assignments of those names; the other lines as written. */
export function withValues(block: Block, values: Readonly<Record<string, string>>): string {
  return block.text.replace(/^([A-Z_][A-Z0-9_]*)=.*$/gm, (line, name: string) =>
    name in values ? `${name}=${shQuote(values[name]!)}` : line,
  );
}

/** GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
export const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');

/** The lines of a page outside fenced code blocks (a `#` comment in a shell block is no heading). */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    return !fenced && !line.startsWith('```');
  });
}

/** The anchors of every heading of a markdown page; a repeated heading gets `-1`, `-2`, ... as on GitHub. */
export function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const m = /^#{1,6} (.+)$/.exec(line);
    if (!m) continue;
    const base = anchor(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The targets of a page's links, `[text](target)`, outside code: relative paths and `#anchors` only. */
export const relativeLinks = (markdown: string): string[] =>
  prose(markdown)
    .flatMap((line) => [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!))
    .filter((target) => !/^[a-z]+:/.test(target));

/** The lines under a heading, up to the next heading of its level or above (code blocks skipped over). */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `no heading "${heading}"`);
  const level = heading.indexOf(' ');
  let fenced = false;
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('```')) fenced = !fenced;
    else if (!fenced && new RegExp(`^#{1,${level}} `).test(line)) break;
    out.push(line);
  }
  return out.join('\n');
}
