import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { anchors, relativeLinks } from '../helpers/markdown.ts';

// Every relative link of README and docs/ reaches a file, and an anchor a heading of that file: a page or heading
// that moves breaks a test, not a reader's click.

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((p) =>
  p.endsWith('.md'),
);

describe('links in README and docs/', () => {
  for (const page of pages) {
    it(`${page}: every relative link resolves, file and anchor`, () => {
      const links = relativeLinks(readFileSync(join(ROOT, page), 'utf8'));
      for (const link of links) {
        const [file, hash] = link.split('#') as [string, string | undefined];
        const target = file === '' ? join(ROOT, page) : join(ROOT, dirname(page), file);
        const name = relative(ROOT, target);
        assert.ok(existsSync(target), `${page} links ${link}: no such file`);
        if (hash === undefined) continue;
        assert.ok(statSync(target).isFile() && name.endsWith('.md'), `${page} links ${link}: an anchor into ${name}`);
        assert.ok(anchors(readFileSync(target, 'utf8')).has(hash), `${page} links ${link}: no such heading`);
      }
    });
  }

  it('finds the links (the parser is not blind)', () => {
    const count = pages.reduce((n, p) => n + relativeLinks(readFileSync(join(ROOT, p), 'utf8')).length, 0);
    assert.ok(count >= 100, `only ${count} links in ${pages.length} pages`);
  });
});
