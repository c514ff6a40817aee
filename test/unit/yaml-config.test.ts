import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseYamlConfig } from '../../shared/yaml-config.ts';

/** Nine levels of nine aliases: 9^9 nodes once expanded (the "billion laughs"). */
function aliasBomb(): string {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

describe('parseYamlConfig', () => {
  it('parses a mapping into plain data', () => {
    assert.deepEqual(parseYamlConfig('apiVersion: v\nspec:\n  sources: [a, b]\n  n: 1\n'), {
      doc: { apiVersion: 'v', spec: { sources: ['a', 'b'], n: 1 } },
    });
  });

  it('expands a few aliases (the ordinary use of anchors)', () => {
    assert.deepEqual(parseYamlConfig('base: &b [x, y]\nother: *b\n'), { doc: { base: ['x', 'y'], other: ['x', 'y'] } });
  });

  const problems: [string, string, string | RegExp][] = [
    ['an alias bomb', aliasBomb(), 'invalid YAML: aliases expand to more than 100 nodes (an alias bomb?)'],
    [
      'deep flow nesting',
      `a: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
      /^invalid YAML at line 1, column \d+ \(nested too deeply\)$/,
    ],
    [
      'a key given twice',
      'spec:\n  timeout: 1s\n  sources: []\n  timeout: 2s\n',
      'invalid YAML at line 4, column 3 (DUPLICATE_KEY)',
    ],
    ['a key given twice, quoted once', 'a: 1\n"a": 2\n', 'invalid YAML at line 2, column 1 (DUPLICATE_KEY)'],
    [
      'a key given twice after 20000 others (found in one pass)',
      `${Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`).join('\n')}\nk7: again\n`,
      'invalid YAML at line 20001, column 1 (DUPLICATE_KEY)',
    ],
    ['two documents', 'a: 1\n---\nb: 2\n', /^invalid YAML at line \d+, column \d+ \(MULTIPLE_DOCS\)$/],
    [
      'an unclosed flow sequence',
      'spec: [unclosed\n  password: not-shown-abc\n',
      /^invalid YAML at line \d+, column \d+ \([A-Z_]+\)$/,
    ],
    ['an alias with no anchor', 'a: *nope\n', 'invalid YAML: an alias (*name) without its anchor (&name) before it'],
  ];
  for (const [name, text, problem] of problems) {
    it(`reports ${name} as one problem line, never a throw`, () => {
      const r = parseYamlConfig(text);
      assert.ok('problem' in r, 'a problem is reported');
      if (typeof problem === 'string') assert.equal(r.problem, problem);
      else assert.match(r.problem, problem);
      assert.ok(!r.problem.includes('not-shown'), 'the source is not quoted');
    });
  }

  it('never throws, whatever the text (property)', () => {
    const tokens = ['a', ':', ' ', '\n', '-', '[', ']', '{', '}', '&x', '*x', '"', "'", '#', '!', '|', '>', '\t', '?'];
    const yamlish = fc.array(fc.constantFrom(...tokens), { maxLength: 60 }).map((t) => t.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish), (text) => {
        const r = parseYamlConfig(text);
        return 'doc' in r || (typeof r.problem === 'string' && !r.problem.includes('\n'));
      }),
      { numRuns: 3000 },
    );
  });
});
