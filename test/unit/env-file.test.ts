import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { renderEnvFile } from '../../init/env-file.ts';
import { assertShellsInstalled, removeDir, SHELLS, sourceInShell, tempDir } from '../helpers/cli.ts';

let dir: string;
let sentinel: string;

before(() => {
  assertShellsInstalled();
  dir = tempDir();
  sentinel = join(dir, 'executed');
});
after(() => removeDir(dir));

/** Values that break naive quoting; each must come back byte-identical and run nothing. */
const nasty = (): string[] => [
  '',
  ' ',
  '  leading and trailing  ',
  "'",
  "''",
  "it's",
  "'\\''",
  '"',
  '"double" and \'single\'',
  `$(touch ${sentinel})`,
  `\`touch ${sentinel}\``,
  `$(touch ${sentinel})\n\`touch ${sentinel}\``,
  '${HOME}',
  '$HOME',
  '$$',
  '$',
  '\\',
  '\\\\',
  '\\n',
  'back\\slash\\',
  'line1\nline2',
  '\n',
  '\n\n',
  'trailing newline\n',
  '\r',
  'crlf\r\n',
  '\t',
  'tab\tseparated',
  '-n',
  '-e',
  '--',
  '=',
  '=value',
  '-',
  'a=b=c',
  '#not a comment',
  '; touch SENTINEL',
  '&& echo x',
  '| cat',
  '*',
  '?',
  '[a-z]',
  '~',
  '~root',
  '!',
  '%s%n',
  'unicode: ü ß 日本語 🔑 \u200b \u00a0',
  '\u2028\u2029',
  'emoji 🔥🔥',
  '\x01\x02\x1b[31m',
  `${'x'.repeat(5000)}'${'y'.repeat(5000)}`,
];

function checkLaw(values: readonly string[], shell: (typeof SHELLS)[number], tag: string): void {
  const vars = new Map(values.map((v, i) => [`V_${i}`, v]));
  const file = join(dir, `${tag}.env`);
  writeFileSync(file, renderEnvFile(vars));
  const got = sourceInShell(shell, file, [...vars.keys()]);
  assert.equal(got.length, values.length, `${shell.name}: wrong number of values`);
  values.forEach((v, i) => {
    const expected = Buffer.from(v, 'utf8');
    assert.ok(got[i]!.equals(expected), `${shell.name}: value #${i} differs after sourcing (${expected.length} bytes)`);
  });
  assert.equal(existsSync(sentinel), false, `${shell.name}: sourcing executed a command`);
}

describe('app.env: render then source gives back every value', () => {
  test("lines are sorted `export NAME='value'` with quotes escaped", () => {
    const text = renderEnvFile(
      new Map([
        ['B', "it's"],
        ['A', 'x'],
      ]),
    );
    assert.equal(text, "export A='x'\nexport B='it'\\''s'\n");
  });

  for (const shell of SHELLS) {
    test(`nasty values survive ${shell.name} byte for byte and nothing is executed`, () => {
      checkLaw(nasty(), shell, `nasty-${shell.argv[0]}`);
    });

    test(`generated strings survive ${shell.name} (property, thousands of values)`, () => {
      // Any Unicode string without NUL (the renderer refuses NUL); grapheme and ASCII-heavy mixes included.
      const value = fc
        .oneof(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc.string({
            unit: fc.constantFrom("'", '"', '\\', '$', '`', '(', ')', '\n', '\r', '\t', ' ', '-', '=', 'a'),
            maxLength: 30,
          }),
          fc.string({ unit: 'grapheme', maxLength: 20 }),
        )
        .filter((s) => !s.includes('\0'));
      let run = 0;
      fc.assert(
        fc.property(fc.array(value, { minLength: 100, maxLength: 100 }), (values) => {
          checkLaw(values, shell, `prop-${shell.argv[0]}-${run++}`);
        }),
        { numRuns: 25, seed: 20261126 },
      );
    });
  }
});
