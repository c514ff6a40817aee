import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePayload, type SecretPayload } from '../../init/payload.ts';
import type { SecretValue } from '../../init/secret-value.ts';
import type { SourceSpec } from '../../shared/config.ts';

// One valid secret (the seed's shape); each case tweaks the spec or the payload.
const SECRET = {
  OPENAI_API_KEY: 'sk-VALUE-openai',
  MILVUS_PORT: 19530,
  DEBUG: false,
  GOOGLE_APPLICATION_CREDENTIALS_JSON: { type: 'service_account', private_key: 'VALUE-pk' },
};
const payload = (spec: Partial<SourceSpec> = {}, body: Partial<SecretPayload> = {}): SecretPayload => ({
  spec: { secretId: 'short-cut/prod/app', ...spec },
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
      problems: ['secret "short-cut/prod/app" is not a JSON object (got object)'],
      values: [],
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
  it('keeps the JSON text of top-level numbers and leaves nested ones as numbers', () => {
    const { layer } = parsePayload({
      spec: { secretId: 'n' },
      secretString: '{"BIG":12345678901234567890,"DEC":1.50,"EXP":1e3,"NEG":-0.0,"NESTED":{"port":5432}}',
    });
    assert.deepEqual(Object.fromEntries(layer.entries), {
      BIG: { kind: 'text', text: '12345678901234567890' },
      DEC: { kind: 'text', text: '1.50' },
      EXP: { kind: 'text', text: '1e3' },
      NEG: { kind: 'text', text: '-0.0' },
      NESTED: { kind: 'json', json: { port: 5432 } },
    });
  });
});
