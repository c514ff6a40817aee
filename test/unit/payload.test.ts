import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parsePayload, type SecretPayload } from '../../init/payload.ts';
import { planOutputs } from '../../init/plan.ts';
import { mergeLayers, type SecretValue } from '../../init/secret-value.ts';
import type { SecretSourceSpec } from '../../shared/config.ts';

// One valid secret (the seed's shape); each case tweaks the spec or the payload.
const SECRET = {
  OPENAI_API_KEY: 'sk-VALUE-openai',
  MILVUS_PORT: 19530,
  DEBUG: false,
  GOOGLE_APPLICATION_CREDENTIALS_JSON: { type: 'service_account', private_key: 'VALUE-pk' },
};
const payload = (spec: Partial<SecretSourceSpec> = {}, body: Partial<SecretPayload> = {}): SecretPayload => ({
  spec: { type: 'secretsmanager', secretId: 'short-cut/prod/app', ...spec },
  secretString: JSON.stringify(SECRET),
  ...body,
});
const entries = (p: SecretPayload): Record<string, SecretValue> => Object.fromEntries(parsePayload(p).layer.entries);
const problems = (p: SecretPayload) => parsePayload(p).problems;

describe('parsePayload', () => {
  it('turns a JSON object into text entries (numbers and booleans as JSON prints them) and keeps nested values', () => {
    const { layer, problems: found } = parsePayload(payload());
    assert.equal(layer.origin, 'secret "short-cut/prod/app"');
    assert.deepEqual(Object.fromEntries(layer.entries), {
      OPENAI_API_KEY: { kind: 'text', text: 'sk-VALUE-openai' },
      MILVUS_PORT: { kind: 'text', text: '19530' },
      DEBUG: { kind: 'text', text: 'false' },
      GOOGLE_APPLICATION_CREDENTIALS_JSON: {
        kind: 'json',
        json: { type: 'service_account', private_key: 'VALUE-pk' },
      },
    });
    assert.deepEqual(found, []);
  });

  it('keeps keys in the order of the secret', () => {
    assert.deepEqual(Object.keys(entries(payload())), Object.keys(SECRET));
  });

  it('takes only the listed keys, once each', () => {
    assert.deepEqual(entries(payload({ keys: ['MILVUS_PORT', 'OPENAI_API_KEY', 'MILVUS_PORT'] })), {
      MILVUS_PORT: { kind: 'text', text: '19530' },
      OPENAI_API_KEY: { kind: 'text', text: 'sk-VALUE-openai' },
    });
    assert.deepEqual(problems(payload({ keys: ['MILVUS_PORT', 'MILVUS_PORT'] })), []);
  });

  it('renames keys', () => {
    const got = entries(payload({ keys: ['OPENAI_API_KEY'], rename: { OPENAI_API_KEY: 'OPENAI_KEY' } }));
    assert.deepEqual(got, { OPENAI_KEY: { kind: 'text', text: 'sk-VALUE-openai' } });
  });

  it('swaps two keys by renaming each onto the other', () => {
    const p = payload({}, { secretString: JSON.stringify({ A: 'VALUE-a', B: 'VALUE-b' }) });
    const got = parsePayload({ ...p, spec: { ...p.spec, rename: { A: 'B', B: 'A' } } });
    assert.deepEqual(Object.fromEntries(got.layer.entries), {
      B: { kind: 'text', text: 'VALUE-a' },
      A: { kind: 'text', text: 'VALUE-b' },
    });
    assert.deepEqual(got.problems, []);
  });

  it('does not take Object.prototype members for renames of keys such as "constructor"', () => {
    const p = payload(
      { rename: { A: 'RENAMED' } },
      { secretString: JSON.stringify({ constructor: 'VALUE-c', toString: 'VALUE-t', A: 'VALUE-a' }) },
    );
    assert.deepEqual([...parsePayload(p).layer.entries.keys()], ['constructor', 'toString', 'RENAMED']);
  });

  it('takes the whole secret string under `key`, JSON or not', () => {
    const got = entries(payload({ key: 'WHOLE' }, { secretString: 'not json VALUE-raw' }));
    assert.deepEqual(got, { WHOLE: { kind: 'text', text: 'not json VALUE-raw' } });
  });

  it('takes SecretBinary under `key` as binary', () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const got = entries(payload({ key: 'BLOB' }, { secretString: undefined, secretBinary: bytes }));
    assert.deepEqual(got, { BLOB: { kind: 'binary', bytes } });
  });

  // Every bad case carries a distinctive value; no problem text may contain it.
  const bad: { name: string; p: SecretPayload; problems: string[]; values: string[] }[] = [
    {
      name: 'SecretBinary without key',
      p: payload({}, { secretString: undefined, secretBinary: new TextEncoder().encode('VALUE-binary') }),
      problems: ['secret "short-cut/prod/app" holds SecretBinary; take it with "key" and map it to a file'],
      values: ['VALUE-binary'],
    },
    {
      name: 'not JSON (JSON.parse would quote the text)',
      p: payload({}, { secretString: 'VALUE-plain{' }),
      problems: ['secret "short-cut/prod/app" is not JSON (expected an object of key/value pairs)'],
      values: ['VALUE-plain'],
    },
    {
      name: 'a JSON array',
      p: payload({}, { secretString: '["VALUE-array"]' }),
      problems: ['secret "short-cut/prod/app" is not a JSON object (got an array)'],
      values: ['VALUE-array'],
    },
    {
      name: 'a JSON string',
      p: payload({}, { secretString: '"VALUE-string"' }),
      problems: ['secret "short-cut/prod/app" is not a JSON object (got string)'],
      values: ['VALUE-string'],
    },
    {
      name: 'JSON null',
      p: payload({}, { secretString: 'null' }),
      problems: ['secret "short-cut/prod/app" is not a JSON object (got null)'],
      values: [],
    },
    {
      name: 'a JSON number (kept as its text, still not an object)',
      p: payload({}, { secretString: '109876543210987654321' }),
      problems: ['secret "short-cut/prod/app" is not a JSON object (got number)'],
      values: ['109876543210987654321'],
    },
    {
      name: 'an empty secret string',
      p: payload({}, { secretString: '' }),
      problems: ['secret "short-cut/prod/app" is not JSON (expected an object of key/value pairs)'],
      values: [],
    },
    {
      name: 'a null value',
      p: payload({}, { secretString: JSON.stringify({ OK: 'VALUE-ok', EMPTY: null }) }),
      problems: ['key "EMPTY" in secret "short-cut/prod/app" is null'],
      values: ['VALUE-ok'],
    },
    {
      name: 'a listed key that is missing',
      p: payload({ keys: ['OPENAI_API_KEY', 'PINECONE_API_KEY'] }),
      problems: ['secret "short-cut/prod/app" has no key "PINECONE_API_KEY"'],
      values: ['sk-VALUE-openai'],
    },
    {
      name: 'a rename of a missing key',
      p: payload({ rename: { PINECONE_API_KEY: 'PINECONE' } }),
      problems: ['secret "short-cut/prod/app": rename of missing key "PINECONE_API_KEY"'],
      values: ['sk-VALUE-openai'],
    },
    {
      name: 'a rename onto another key of the same secret',
      p: payload({ rename: { OPENAI_API_KEY: 'MILVUS_PORT' } }),
      problems: ['secret "short-cut/prod/app": key "OPENAI_API_KEY" and key "MILVUS_PORT" both become "MILVUS_PORT"'],
      values: ['sk-VALUE-openai', '19530'],
    },
    {
      name: 'two keys renamed onto one name',
      p: payload({ rename: { OPENAI_API_KEY: 'X', DEBUG: 'X' } }),
      problems: ['secret "short-cut/prod/app": key "OPENAI_API_KEY" and key "DEBUG" both become "X"'],
      values: ['sk-VALUE-openai'],
    },
  ];
  for (const c of bad) {
    it(`reports ${c.name}, naming the secret and never the value`, () => {
      const found = problems(c.p);
      assert.deepEqual(found, c.problems);
      for (const v of c.values) assert.ok(!found.join('\n').includes(v), `value ${v} leaked`);
    });
  }

  it('keeps the valid keys of a secret that also has problems (all problems are reported together later)', () => {
    const p = payload({}, { secretString: JSON.stringify({ OK: 'VALUE-ok', BAD: null }) });
    assert.deepEqual(entries(p), { OK: { kind: 'text', text: 'VALUE-ok' } });
  });
});

describe('parsePayload numbers', () => {
  it('keeps the JSON text of top-level numbers', () => {
    const { layer } = parsePayload({
      spec: { type: 'secretsmanager', secretId: 'n' },
      secretString: '{"BIG":12345678901234567890,"DEC":1.50,"EXP":1e3,"NEG":-0.0,"HUGE":1e400}',
    });
    assert.deepEqual(Object.fromEntries(layer.entries), {
      BIG: { kind: 'text', text: '12345678901234567890' },
      DEC: { kind: 'text', text: '1.50' },
      EXP: { kind: 'text', text: '1e3' },
      NEG: { kind: 'text', text: '-0.0' },
      HUGE: { kind: 'text', text: '1e400' },
    });
  });

  it('keeps the JSON text of numbers at any depth, for a nested value written to a file', () => {
    const { layer } = parsePayload({
      spec: { type: 'secretsmanager', secretId: 'n' },
      secretString: '{"DB":{"port":5432,"id":109876543210987654321,"limits":[1e400,-0,1.50,{"x":1E-7}]}}',
    });
    const db = layer.entries.get('DB');
    assert.equal(db?.kind, 'json');
    assert.equal(
      JSON.stringify(db.kind === 'json' ? db.json : null),
      '{"port":5432,"id":109876543210987654321,"limits":[1e400,-0,1.50,{"x":1E-7}]}',
    );
  });
});

describe('numbers from secret to output (property)', () => {
  // A JSON tree whose numbers are kept as the text they were generated as.
  type Tree = { num: string } | { str: string } | Tree[] | { obj: [string, Tree][] };
  const NUMBER = /^-?(0|[1-9]\d{0,40})(\.\d{1,20})?([eE][+-]?\d{1,4})?$/;
  // Keys that are not array indexes: a JS object lists those first, whatever their order in the text.
  const members = (value: fc.Arbitrary<Tree>) =>
    fc
      .uniqueArray(
        fc.tuple(
          fc.string({ maxLength: 5 }).map((k) => `k${k}`),
          value,
        ),
        {
          maxLength: 4,
          selector: ([k]) => k,
        },
      )
      .map((obj): Tree => ({ obj }));
  const { nested } = fc.letrec<{ tree: Tree; nested: Tree }>((tie) => ({
    nested: fc.oneof({ depthSize: 'small' }, fc.array(tie('tree'), { maxLength: 4 }), members(tie('tree'))),
    tree: fc.oneof(
      { depthSize: 'small' },
      fc.stringMatching(NUMBER).map((num) => ({ num })),
      fc.string({ maxLength: 6 }).map((str) => ({ str })),
      tie('nested'),
    ),
  }));
  const compact = (t: Tree): string => {
    if (Array.isArray(t)) return `[${t.map(compact).join(',')}]`;
    if ('num' in t) return t.num;
    if ('str' in t) return JSON.stringify(t.str);
    return `{${t.obj.map(([k, v]) => `${JSON.stringify(k)}:${compact(v)}`).join(',')}}`;
  };
  /** JSON.stringify(_, null, 2)'s layout, with each number as written. */
  const pretty = (t: Tree, indent = ''): string => {
    const inner = `${indent}  `;
    const block = (open: string, items: string[], close: string) =>
      items.length === 0 ? open + close : `${open}\n${items.map((i) => inner + i).join(',\n')}\n${indent}${close}`;
    if (Array.isArray(t))
      return block(
        '[',
        t.map((v) => pretty(v, inner)),
        ']',
      );
    if ('num' in t) return t.num;
    if ('str' in t) return JSON.stringify(t.str);
    return block(
      '{',
      t.obj.map(([k, v]) => `${JSON.stringify(k)}: ${pretty(v, inner)}`),
      '}',
    );
  };

  it('keeps every number text exactly: top-level ones in app.env, nested ones in a mapped file', () => {
    fc.assert(
      fc.property(fc.stringMatching(NUMBER), nested, (top, config) => {
        const { layer, problems } = parsePayload({
          spec: { type: 'secretsmanager', secretId: 'n' },
          secretString: `{"N":${top},"CONFIG":${compact(config)}}`,
        });
        assert.deepEqual(problems, []);
        const plan = planOutputs({
          merged: mergeLayers([layer]),
          files: [{ fromKey: 'CONFIG', path: 'config.json' }],
          required: [],
          allowKeys: [],
          outputDir: '/run/secrets',
          fileMode: 0o440,
        });
        assert.equal(plan.vars.get('N'), top);
        const file = plan.files.find((f) => f.name === 'config.json')!.content.toString('utf8');
        assert.equal(file, `${pretty(config)}\n`);
      }),
      { numRuns: 500 },
    );
  });
});
