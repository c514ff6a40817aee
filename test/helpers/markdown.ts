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

/** The anchors of every heading of a markdown page. */
export const anchors = (markdown: string) =>
  new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
