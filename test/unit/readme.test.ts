import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { relativeLinks, section, shBlocks } from '../helpers/markdown.ts';

// README is the front door: the two commands first, a short read, the deploy commands the tested pages run, a code
// map that names real files, and a link to every page of docs/. The facts themselves live on the docs pages
// (docs-pages.test.ts keeps each in step with the code).

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const TESTED_PAGES = ['docs/deploy-cloudformation.md', 'docs/deploy-by-hand.md'];

describe('README', () => {
  it('starts with the two commands of a fresh machine', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.match(firstBlock, /^npm ci && npm run demo\b/m);
    assert.match(firstBlock, /^npm test\b/m);
  });

  it('is a five-minute read: at most 300 lines', () => {
    const lines = readme.split('\n').length;
    assert.ok(lines <= 300, `README has ${lines} lines; move reference text to docs/`);
  });

  it('links every page of docs/', () => {
    const linked = new Set(relativeLinks(readme).map((l) => l.split('#')[0]));
    for (const page of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
      assert.ok(linked.has(`docs/${page}`), `README does not link docs/${page}`);
    }
  });

  describe('Deploying on ECS', () => {
    const deploy = section(readme, '## Deploying on ECS');

    it('links both deploy pages', () => {
      for (const page of TESTED_PAGES) assert.ok(deploy.includes(`](${page})`), `README does not link ${page}`);
    });

    it('gives only commands the deploy pages run as written (their tests run those pages)', () => {
      const tested = new Set(
        TESTED_PAGES.flatMap((p) => shBlocks(readFileSync(join(ROOT, p), 'utf8'))).flatMap((b) => b.text.split('\n')),
      );
      const lines = shBlocks(deploy)
        .flatMap((b) => b.text.split('\n'))
        .filter((l) => l.trim() !== '' && !l.startsWith('#'));
      assert.ok(lines.length >= 10, `only ${lines.length} command lines`);
      for (const line of lines) assert.ok(tested.has(line), `not a line of the tested deploy pages: ${line}`);
    });
  });

  it('names only files that exist in its code map', () => {
    const map = section(readme, '## Code map');
    // `init/NAME-source.ts` is where a new one goes, not a file.
    const paths = [...map.matchAll(/`([a-z]+\/[\w./-]+\.(?:ts|sh))`/g)]
      .map((m) => m[1]!)
      .filter((p) => !p.includes('NAME'));
    assert.ok(paths.length >= 6, `only ${paths.length} paths`);
    for (const path of paths) assert.ok(existsSync(join(ROOT, path)), `README's code map names ${path}: no such file`);
    assert.match(readFileSync(join(ROOT, 'cli', 'main.ts'), 'utf8'), /const COMMANDS\b/, 'cli/main.ts has COMMANDS');
  });
});
