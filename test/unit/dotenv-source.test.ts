import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findNotUtf8, parseDotenv, scanDotenv } from '../../init/dotenv-source.ts';

const parsed = (src: string | Buffer): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of parseDotenv(src, '.env').entries) {
    assert.equal(v.kind, 'text');
    if (v.kind === 'text') out[k] = v.text;
  }
  return out;
};

/**
 * What the `dotenv` package (17.x) does with each construct, pinned so docs/configuration.md ("dotenv semantics")
 * can say it and a dependency update that changes it fails here. `differs` notes where docker compose `env_file`
 * and python-dotenv read the same line differently: a .env shared between them and secrets-init must avoid those
 * constructs.
 */
const table: { construct: string; src: string; expected: Record<string, string>; differs?: string }[] = [
  { construct: 'plain assignment', src: 'A=value', expected: { A: 'value' } },
  { construct: 'spaces around = and the value are trimmed', src: 'A =  padded  ', expected: { A: 'padded' } },
  { construct: 'double quotes keep spaces', src: 'A="  padded  "', expected: { A: '  padded  ' } },
  { construct: 'empty value', src: 'A=\nB=""\nC=\'\'', expected: { A: '', B: '', C: '' } },
  { construct: 'only the first = splits', src: 'A=a=b=c', expected: { A: 'a=b=c' } },
  { construct: '`export ` prefix is ignored', src: 'export A=1\nexport\tB=2', expected: { A: '1', B: '2' } },
  { construct: 'YAML-style `KEY: value`', src: 'A: 1', expected: { A: '1' } },
  { construct: 'comment lines and blank lines', src: '# comment\n\nA=1\n  # indented', expected: { A: '1' } },
  { construct: 'inline comment after a space', src: 'A=value # comment', expected: { A: 'value' } },
  {
    construct: 'inline comment WITHOUT a space still starts a comment',
    src: 'A=value#not-a-comment\nURL=https://example.com/#frag',
    expected: { A: 'value', URL: 'https://example.com/' },
    differs: 'compose and python-dotenv keep "value#not-a-comment": quote values that contain #',
  },
  { construct: '# inside double quotes is kept', src: 'A="a # b"', expected: { A: 'a # b' } },
  { construct: '# inside single quotes is kept', src: "A='a # b'", expected: { A: 'a # b' } },
  { construct: 'a comment after the closing quote', src: 'A="a" # c', expected: { A: 'a' } },
  {
    construct: '${VAR} and $VAR are NOT expanded, in any quoting',
    src: 'A=${HOME}/x\nB="$HOME"\nC=\'${HOME}\'',
    expected: { A: '${HOME}/x', B: '$HOME', C: '${HOME}' },
    differs: 'compose expands ${VAR} and $VAR in unquoted and double-quoted values; python-dotenv expands ${VAR}',
  },
  { construct: '$(...) is kept as text', src: 'A="$(whoami)"', expected: { A: '$(whoami)' } },
  { construct: '\\n in double quotes becomes a newline', src: 'A="a\\nb"', expected: { A: 'a\nb' } },
  { construct: '\\r in double quotes becomes a carriage return', src: 'A="a\\rb"', expected: { A: 'a\rb' } },
  {
    construct: '\\t in double quotes stays backslash-t',
    src: 'A="a\\tb"',
    expected: { A: 'a\\tb' },
    differs: 'compose and python-dotenv turn \\t into a tab',
  },
  {
    construct: '\\" in double quotes stays backslash-quote',
    src: 'A="say \\"hi\\""',
    expected: { A: 'say \\"hi\\"' },
    differs: 'compose and python-dotenv unescape \\" to "',
  },
  {
    construct: '\\\\ in double quotes stays two backslashes',
    src: 'A="c:\\\\dir"',
    expected: { A: 'c:\\\\dir' },
    differs: 'compose and python-dotenv unescape \\\\ to one backslash',
  },
  { construct: '\\n unquoted stays backslash-n', src: 'A=a\\nb', expected: { A: 'a\\nb' } },
  { construct: 'single quotes are literal: \\n stays', src: "A='a\\nb'", expected: { A: 'a\\nb' } },
  {
    construct: "\\' in single quotes is not an escape",
    src: "A='it\\'s'",
    expected: { A: "it\\'s" },
    differs: "compose and python-dotenv read 'it\\'s' as it's",
  },
  { construct: 'double quotes inside single quotes', src: `A='say "hi"'`, expected: { A: 'say "hi"' } },
  { construct: 'backticks quote too', src: 'A=`it\'s "x"`', expected: { A: 'it\'s "x"' } },
  {
    construct: 'multiline double-quoted value (a PEM key)',
    src: 'KEY="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1',
    expected: { KEY: '-----BEGIN-----\nabc\n-----END-----', NEXT: '1' },
  },
  { construct: 'multiline single-quoted value', src: "A='l1\nl2'\nB=2", expected: { A: 'l1\nl2', B: '2' } },
  {
    construct: 'CRLF line ends, also inside quotes, become LF',
    src: 'A=1\r\nB="l1\r\nl2"\r\n',
    expected: { A: '1', B: 'l1\nl2' },
  },
  { construct: 'an unterminated quote is kept as text', src: 'A="open\nB=2', expected: { A: '"open', B: '2' } },
  { construct: 'text after the closing quote keeps the quotes', src: 'A="x" y', expected: { A: '"x" y' } },
  { construct: 'a line without = is ignored', src: 'JUSTAKEY\nexport B\nC=3', expected: { C: '3' } },
  { construct: 'the last of duplicate keys wins', src: 'A=1\nA=2', expected: { A: '2' } },
  {
    construct: 'keys with dots, dashes or a leading digit are read (plan refuses them later)',
    src: 'a.b=1\nc-d=2\n1A=3',
    expected: { 'a.b': '1', 'c-d': '2', '1A': '3' },
  },
  { construct: 'a quoted key is not a key', src: '"A"=1', expected: {} },
  { construct: 'a UTF-8 BOM is skipped', src: '\uFEFFA=1', expected: { A: '1' } },
  { construct: 'unicode values', src: 'A=héllo ✓ 漢字', expected: { A: 'héllo ✓ 漢字' } },
];

describe('parseDotenv (the dotenv package, as secrets-init reads .env)', () => {
  for (const row of table) {
    const note = row.differs ? ` (differs: ${row.differs})` : '';
    it(`${row.construct}${note}`, () => assert.deepEqual(parsed(row.src), row.expected));
  }

  it('reads a Buffer like a string', () => {
    assert.deepEqual(parsed(Buffer.from('A="a\\nb"\nB=2', 'utf8')), { A: 'a\nb', B: '2' });
  });

  it('names its layer after the file', () => {
    assert.equal(parseDotenv('A=1', '/srv/app/.env').origin, 'dotenv "/srv/app/.env"');
  });

  it('reads an empty file as no keys', () => {
    assert.deepEqual(parsed(''), {});
  });
});

describe('scanDotenv', () => {
  const cases: [string, string, { key: string; line: number }[], { key: string; line: number }[]][] = [
    ['a password with # in an unquoted value', 'A=1\nPASSWORD=abc#123\n', [], [{ key: 'PASSWORD', line: 2 }]],
    ['a URL fragment', 'export URL=https://x/#frag', [], [{ key: 'URL', line: 1 }]],
    ['a real comment after a space', 'A=value # comment\n', [], []],
    ['quoted values with #', 'A="abc#123"\nB=\'x#y\'\n', [], []],
    ['a comment line', '# A=b#c\n', [], []],
    ['an empty value with a comment', 'A=#comment\n', [], []],
    ['lines inside a multi-line quoted value are not keys', 'NOTES="first\nghp_Token123=abc#def\n"\nB=2\n', [], []],
    ['an escaped quote does not close the value', 'A="say \\"hi\\" # x"\n', [], []],
    [
      'a quote opened and never closed',
      'KEY="-----BEGIN PRIVATE KEY-----\nqZTopSecretTail==\nB=2\n',
      [{ key: 'KEY', line: 1 }],
      [],
    ],
    ['a single quote inside double quotes is text', 'A="it\'s"\n', [], []],
    ['CRLF line ends', 'A=1\r\nP=a#b\r\n', [], [{ key: 'P', line: 2 }]],
  ];
  for (const [name, src, unclosed, cutAtHash] of cases) {
    it(`finds ${name}`, () => {
      assert.deepEqual(scanDotenv(src), { unclosed, cutAtHash });
    });
  }
});

describe('findNotUtf8', () => {
  const cases: [string, Buffer, { key?: string; line: number }[]][] = [
    ['valid UTF-8', Buffer.from('A=héllo 🔑\nB="multi\nline"\n'), []],
    ['a Latin-1 byte in a value', Buffer.from('A=ok\nB=caf\xe9\n', 'latin1'), [{ key: 'B', line: 2 }]],
    [
      'a bad byte on a later line of a quoted value',
      Buffer.concat([Buffer.from('PEM="-----BEGIN\nab'), Buffer.from([0xff]), Buffer.from('cd\n-----END"\nC=1\n')]),
      [{ key: 'PEM', line: 2 }],
    ],
    ['a bad byte in a comment (no key)', Buffer.from('# caf\xe9\nA=1\n', 'latin1'), [{ line: 1 }]],
    [
      'a multi-byte sequence cut short, CRLF and CR line ends',
      Buffer.concat([Buffer.from('A=1\r\nB=2\rC='), Buffer.from([0xe2, 0x82]), Buffer.from('\r\nD=4\n')]),
      [{ key: 'C', line: 3 }],
    ],
    ['a surrogate encoded in UTF-8 (CESU)', Buffer.from([0x41, 0x3d, 0xed, 0xa0, 0x80]), [{ key: 'A', line: 1 }]],
    ['an overlong encoding', Buffer.from([0x41, 0x3d, 0xc0, 0xaf]), [{ key: 'A', line: 1 }]],
  ];
  for (const [name, src, expected] of cases) {
    it(`finds ${name}`, () => assert.deepEqual(findNotUtf8(src), expected));
  }

  it('finds something exactly when a strict decoder refuses the bytes (property)', () => {
    const strict = new TextDecoder('utf-8', { fatal: true });
    const valid = (b: Uint8Array) => {
      try {
        strict.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    const bytes = fc.array(fc.oneof(fc.constantFrom(0x0a, 0x0d, 0x3d, 0x41, 0x22), fc.integer({ min: 0, max: 255 })), {
      maxLength: 60,
    });
    fc.assert(
      fc.property(bytes, (arr) => {
        const src = Buffer.from(arr);
        const found = findNotUtf8(src);
        return (found.length === 0) === valid(src);
      }),
      { numRuns: 3000 },
    );
  });
});
