import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyRule } from '../../init/deny-list.ts';
import { type PlanInput, planOutputs } from '../../init/plan.ts';
import { type Layer, mergeLayers, type SecretValue, text } from '../../init/secret-value.ts';
import type { FileMapping } from '../../shared/config.ts';
import { ENV_FILE, GCP_FILE } from '../../shared/contract.ts';
import { ExitCode, ValidationError } from '../../shared/errors.ts';

const json = (j: object): SecretValue => ({ kind: 'json', json: j });
const binary = (s: string): SecretValue => ({ kind: 'binary', bytes: new TextEncoder().encode(s) });
const layer = (origin: string, entries: Record<string, SecretValue>): Layer => ({
  origin,
  entries: new Map(Object.entries(entries)),
});

const GCP_KEY = {
  type: 'service_account',
  project_id: 'short-cut',
  private_key: '-----BEGIN PRIVATE KEY-----\nVALUE-gcp-private-key\n-----END PRIVATE KEY-----\n',
};
const DOTENV = 'dotenv "/srv/app/.env"';
const SECRET = 'secret "short-cut/prod/app"';

// One valid world: a dotenv file under one Secrets Manager secret (which wins), as in the seed.
function planInput(
  tweak: {
    readonly secret?: Record<string, SecretValue | undefined>;
    readonly files?: readonly FileMapping[];
    readonly required?: readonly string[];
    readonly allowKeys?: readonly string[];
  } = {},
): PlanInput {
  const secret: Record<string, SecretValue | undefined> = {
    OPENAI_API_KEY: text('sk-VALUE-openai'),
    APP_SECRET_KEY: text('VALUE-app-secret'),
    MILVUS_PORT: text('19530'),
    GOOGLE_APPLICATION_CREDENTIALS_JSON: text(JSON.stringify(GCP_KEY)),
    ...tweak.secret,
  };
  const present = Object.fromEntries(Object.entries(secret).filter(([, v]) => v !== undefined)) as Record<
    string,
    SecretValue
  >;
  return {
    merged: mergeLayers([
      layer(DOTENV, { OPENAI_API_KEY: text('VALUE-local-openai'), LOCAL_ONLY: text('VALUE-local') }),
      layer(SECRET, present),
    ]),
    files: tweak.files ?? [],
    required: tweak.required ?? [],
    allowKeys: tweak.allowKeys ?? [],
    outputDir: '/run/secrets',
    fileMode: 0o440,
  };
}

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
    assert.equal(err.exitCode, ExitCode.validation);
    return err;
  }
  assert.fail('expected a ValidationError');
}
const fileNamed = (files: readonly { name: string }[], name: string) => {
  const f = files.find((x) => x.name === name);
  assert.ok(f, `no file ${name} in ${files.map((x) => x.name).join(', ')}`);
  return f as { name: string; content: Buffer; mode: number };
};

describe('mergeLayers', () => {
  it('lets later layers win and records where each key came from', () => {
    const merged = mergeLayers([
      layer('a', { X: text('1'), Y: text('2') }),
      layer('b', { Y: text('3') }),
      layer('c', { Z: text('4') }),
    ]);
    assert.deepEqual(Object.fromEntries(merged), {
      X: { value: text('1'), origin: 'a' },
      Y: { value: text('3'), origin: 'b' },
      Z: { value: text('4'), origin: 'c' },
    });
  });
});

describe('planOutputs', () => {
  it('renders app.env sorted, the GCP key as its own file, and points GOOGLE_APPLICATION_CREDENTIALS at it', () => {
    const plan = planOutputs(planInput());
    assert.deepEqual(
      plan.files.map((f) => [f.name, f.mode]),
      [
        [ENV_FILE, 0o440],
        [GCP_FILE, 0o440],
      ],
    );
    assert.equal(
      fileNamed(plan.files, ENV_FILE).content.toString('utf8'),
      [
        "export APP_SECRET_KEY='VALUE-app-secret'",
        "export GOOGLE_APPLICATION_CREDENTIALS='/run/secrets/gcp-credentials.json'",
        "export LOCAL_ONLY='VALUE-local'",
        "export MILVUS_PORT='19530'",
        "export OPENAI_API_KEY='sk-VALUE-openai'",
        '',
      ].join('\n'),
    );
    assert.equal(fileNamed(plan.files, GCP_FILE).content.toString('utf8'), JSON.stringify(GCP_KEY));
    assert.deepEqual([...plan.vars.keys()].sort(), [
      'APP_SECRET_KEY',
      'GOOGLE_APPLICATION_CREDENTIALS',
      'LOCAL_ONLY',
      'MILVUS_PORT',
      'OPENAI_API_KEY',
    ]);
  });

  it('keeps the GCP private key out of app.env: it exists once, in its own file', () => {
    const plan = planOutputs(planInput());
    assert.ok(!plan.vars.has('GOOGLE_APPLICATION_CREDENTIALS_JSON'));
    const all = plan.files.map((f) => f.content.toString('utf8'));
    assert.equal(all.filter((c) => c.includes('VALUE-gcp-private-key')).length, 1);
    assert.ok(!fileNamed(plan.files, ENV_FILE).content.toString('utf8').includes('PRIVATE KEY'));
  });

  it('writes the GCP key given as a JSON object as pretty JSON', () => {
    const plan = planOutputs(planInput({ secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: json(GCP_KEY) } }));
    assert.equal(fileNamed(plan.files, GCP_FILE).content.toString('utf8'), `${JSON.stringify(GCP_KEY, null, 2)}\n`);
  });

  it('writes no GCP file and no path variable when the key is absent', () => {
    const plan = planOutputs(planInput({ secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: undefined } }));
    assert.deepEqual(
      plan.files.map((f) => f.name),
      [ENV_FILE],
    );
    assert.ok(!plan.vars.has('GOOGLE_APPLICATION_CREDENTIALS'));
  });

  it('lets an explicit mapping of GOOGLE_APPLICATION_CREDENTIALS_JSON replace the default file and variable', () => {
    const files = [{ fromKey: 'GOOGLE_APPLICATION_CREDENTIALS_JSON', path: 'sa.json', mode: 0o400, envVar: 'GCP_SA' }];
    const plan = planOutputs(planInput({ files }));
    assert.deepEqual(
      plan.files.map((f) => [f.name, f.mode]),
      [
        [ENV_FILE, 0o440],
        ['sa.json', 0o400],
      ],
    );
    assert.equal(plan.vars.get('GCP_SA'), '/run/secrets/sa.json');
    assert.ok(!plan.vars.has('GOOGLE_APPLICATION_CREDENTIALS'));
  });

  it('still checks the GCP key when it is mapped explicitly', () => {
    const files = [{ fromKey: 'GOOGLE_APPLICATION_CREDENTIALS_JSON', path: 'sa.json' }];
    const err = validationError(() =>
      planOutputs(planInput({ files, secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: text('{"VALUE-no-type":1}') } })),
    );
    assert.equal(
      err.message,
      `invalid secrets: key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from ${SECRET} has no "type" field (a GCP service-account key is expected)`,
    );
  });

  it('writes a nested value that a file mapping takes as pretty JSON, with the mapping mode and path variable', () => {
    const db = { host: 'db.internal', password: 'VALUE-db-pass' };
    const files = [{ fromKey: 'DB', path: 'db.json', mode: 0o400, envVar: 'DB_CONFIG_FILE' }];
    const plan = planOutputs(planInput({ secret: { DB: json(db) }, files }));
    const f = fileNamed(plan.files, 'db.json');
    assert.equal(f.content.toString('utf8'), `${JSON.stringify(db, null, 2)}\n`);
    assert.equal(f.mode, 0o400);
    assert.equal(plan.vars.get('DB_CONFIG_FILE'), '/run/secrets/db.json');
    assert.ok(!plan.vars.has('DB'));
  });

  it('writes binary and NUL-bearing values to files byte for byte', () => {
    const bytes = new Uint8Array([0, 0xff, 0x10, 0]);
    const files = [
      { fromKey: 'BLOB', path: 'blob.bin' },
      { fromKey: 'WITH_NUL', path: 'nul.txt' },
    ];
    const plan = planOutputs(planInput({ secret: { BLOB: { kind: 'binary', bytes }, WITH_NUL: text('a\0b') }, files }));
    assert.deepEqual([...fileNamed(plan.files, 'blob.bin').content], [...bytes]);
    assert.deepEqual(fileNamed(plan.files, 'nul.txt').content, Buffer.from('a\0b'));
    assert.equal(fileNamed(plan.files, 'blob.bin').mode, 0o440, 'default mode');
  });

  it('lets spec.allowKeys allow a deny-listed key by name', () => {
    const plan = planOutputs(
      planInput({ secret: { NODE_EXTRA_CA_CERTS: text('/etc/ca.pem') }, allowKeys: ['NODE_EXTRA_CA_CERTS'] }),
    );
    assert.equal(plan.vars.get('NODE_EXTRA_CA_CERTS'), '/etc/ca.pem');
  });

  const satisfied: { name: string; required: string[]; files?: FileMapping[] }[] = [
    { name: 'plain keys', required: ['OPENAI_API_KEY', 'APP_SECRET_KEY', 'LOCAL_ONLY'] },
    {
      name: 'a key taken by a file mapping',
      required: ['OPENAI_API_KEY'],
      files: [{ fromKey: 'OPENAI_API_KEY', path: 'openai.key' }],
    },
    { name: 'the GCP JSON key (written as a file)', required: ['GOOGLE_APPLICATION_CREDENTIALS_JSON'] },
    { name: 'the path variable of a file', required: ['GOOGLE_APPLICATION_CREDENTIALS'] },
  ];
  for (const c of satisfied) {
    it(`accepts required keys satisfied by ${c.name}`, () => {
      assert.doesNotThrow(() => planOutputs(planInput({ required: c.required, files: c.files ?? [] })));
    });
  }

  // Every bad case seeds distinctive values; the message must name keys and secrets and hold none of them.
  interface Bad {
    readonly name: string;
    readonly input: PlanInput;
    readonly problem: string;
    readonly values: readonly string[];
  }
  const deny = (key: string): Bad => ({
    name: `deny-listed ${key}`,
    input: planInput({ secret: { [key]: text(`VALUE-deny-${key}`) } }),
    problem: `key "${key}" from ${SECRET} is on the deny list (allow it by name in spec.allowKeys)`,
    values: [`VALUE-deny-${key}`],
  });
  const bad: Bad[] = [
    // bad case: key names
    {
      name: 'a key with a dash',
      input: planInput({ secret: { 'MY-KEY': text('VALUE-dash') } }),
      problem: `a 6-character key (not shown) from ${SECRET} is not a valid variable name`,
      values: ['VALUE-dash'],
    },
    {
      name: 'a key starting with a digit',
      input: planInput({ secret: { '1KEY': text('VALUE-digit') } }),
      problem: `a 4-character key (not shown) from ${SECRET} is not a valid variable name`,
      values: ['VALUE-digit'],
    },
    {
      name: 'an empty key',
      input: planInput({ secret: { '': text('VALUE-empty-key') } }),
      problem: `a 0-character key (not shown) from ${SECRET} is not a valid variable name`,
      values: ['VALUE-empty-key'],
    },
    // bad case: deny list (exact names and prefixes)
    ...['PATH', 'HOME', 'LANG', 'NODE_OPTIONS', 'SECRETS_REQUIRED'].map(deny),
    ...['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'LC_MONETARY'].map(deny),
    // bad case: names a shell owns, refused even when spec.allowKeys names them
    ...(
      [
        ['RANDOM', 'bash, busybox ash, mksh, zsh'],
        ['OPTIND', 'dash, bash, busybox ash, mksh, zsh'],
        ['IFS', 'dash, bash, busybox ash, mksh, zsh'],
        ['path', 'zsh'],
        ['USERNAME', 'zsh'],
        ['KSH_VERSION', 'mksh'],
        ['_', 'bash, mksh, zsh'],
        ['BASH_ENV', 'bash'],
        ['BASH_NOT_YET_INVENTED', 'bash'],
        ['ZSH_NOT_YET_INVENTED', 'zsh'],
      ] as const
    ).map(
      ([key, shells]): Bad => ({
        name: `the shell variable ${key}, even when allowed`,
        input: planInput({ secret: { [key]: text(`VALUE-shell-${key}`) }, allowKeys: [key] }),
        problem: `key "${key}" from ${SECRET} is a shell variable (special in ${shells}); rename it (spec.allowKeys cannot allow it)`,
        values: [`VALUE-shell-${key}`],
      }),
    ),
    {
      name: 'a deny-listed key allowed only under another name',
      input: planInput({ secret: { LD_PRELOAD: text('/tmp/VALUE-evil.so') }, allowKeys: ['LD_LIBRARY_PATH'] }),
      problem: `key "LD_PRELOAD" from ${SECRET} is on the deny list (allow it by name in spec.allowKeys)`,
      values: ['/tmp/VALUE-evil.so'],
    },
    // bad case: values app.env cannot hold
    {
      name: 'a NUL byte',
      input: planInput({ secret: { TOKEN: text('VALUE-before\0VALUE-after') } }),
      problem: `key "TOKEN" from ${SECRET} contains a NUL byte`,
      values: ['VALUE-before', 'VALUE-after'],
    },
    {
      name: 'a lone high surrogate',
      input: planInput({ secret: { TOKEN: text('VALUE-high\uD800x') } }),
      problem: `key "TOKEN" from ${SECRET} is not valid Unicode (lone surrogate)`,
      values: ['VALUE-high'],
    },
    {
      name: 'a lone low surrogate at the end',
      input: planInput({ secret: { TOKEN: text('VALUE-low\uDC00') } }),
      problem: `key "TOKEN" from ${SECRET} is not valid Unicode (lone surrogate)`,
      values: ['VALUE-low'],
    },
    {
      name: 'a lone surrogate in a file-mapped value',
      input: planInput({ secret: { PEM: text('VALUE-pem\uD800') }, files: [{ fromKey: 'PEM', path: 'key.pem' }] }),
      problem: `key "PEM" from ${SECRET} is not valid Unicode (lone surrogate)`,
      values: ['VALUE-pem'],
    },
    {
      name: 'a binary value without a file mapping',
      input: planInput({ secret: { BLOB: binary('VALUE-binary') } }),
      problem: `key "BLOB" from ${SECRET} is binary; map it to a file`,
      values: ['VALUE-binary'],
    },
    {
      name: 'a nested value without a file mapping',
      input: planInput({ secret: { DB: json({ password: 'VALUE-nested' }) } }),
      problem: `key "DB" from ${SECRET} holds a nested value; map it to a file`,
      values: ['VALUE-nested', 'password'],
    },
    // bad case: file mappings
    {
      name: 'a file mapping of a missing key',
      input: planInput({ files: [{ fromKey: 'TLS_KEY', path: 'tls.key' }] }),
      problem: 'file "tls.key": key "TLS_KEY" not found in any source',
      values: [],
    },
    {
      name: 'a key that clashes with the path variable of a file',
      input: planInput({
        secret: { TLS_KEY: text('VALUE-tls'), TLS_KEY_FILE: text('VALUE-clash') },
        files: [{ fromKey: 'TLS_KEY', path: 'tls.key', envVar: 'TLS_KEY_FILE' }],
      }),
      problem: `key "TLS_KEY_FILE" from ${SECRET} clashes with the path variable of a file`,
      values: ['VALUE-tls', 'VALUE-clash'],
    },
    {
      name: 'a secret GOOGLE_APPLICATION_CREDENTIALS next to the GCP JSON',
      input: planInput({ secret: { GOOGLE_APPLICATION_CREDENTIALS: text('/VALUE/old/path.json') } }),
      problem: `key "GOOGLE_APPLICATION_CREDENTIALS" from ${SECRET} clashes with the path variable of a file`,
      values: ['/VALUE/old/path.json', 'VALUE-gcp-private-key'],
    },
    {
      name: 'a mapping and the default GCP file setting the same path variable',
      input: planInput({
        secret: { TLS_KEY: text('VALUE-tls') },
        files: [{ fromKey: 'TLS_KEY', path: 'tls.key', envVar: 'GOOGLE_APPLICATION_CREDENTIALS' }],
      }),
      problem: 'files "tls.key" and "gcp-credentials.json" both set "GOOGLE_APPLICATION_CREDENTIALS"',
      values: ['VALUE-tls', 'VALUE-gcp-private-key'],
    },
    // bad case: required
    {
      name: 'a required key missing',
      input: planInput({ required: ['OPENAI_API_KEY', 'PINECONE_API_KEY'] }),
      problem: 'required keys missing or empty: PINECONE_API_KEY',
      values: ['sk-VALUE-openai'],
    },
    {
      name: 'a required key empty',
      input: planInput({ secret: { APP_SECRET_KEY: text('') }, required: ['APP_SECRET_KEY'] }),
      problem: 'required keys missing or empty: APP_SECRET_KEY',
      values: [],
    },
    {
      name: 'a required key emptied by a later layer',
      input: planInput({ secret: { LOCAL_ONLY: text('') }, required: ['LOCAL_ONLY'] }),
      problem: 'required keys missing or empty: LOCAL_ONLY',
      values: ['VALUE-local'],
    },
    {
      name: 'a required key mapped to a file but empty',
      input: planInput({
        secret: { TLS_KEY: text('') },
        files: [{ fromKey: 'TLS_KEY', path: 'tls.key' }],
        required: ['TLS_KEY'],
      }),
      problem: 'required keys missing or empty: TLS_KEY',
      values: [],
    },
    // bad case: GCP JSON
    {
      name: 'GCP JSON that does not parse',
      input: planInput({
        secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: text('{"type": "service_account", VALUE-broken') },
      }),
      problem: `key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from ${SECRET} is not a JSON object (a GCP service-account key is expected)`,
      values: ['VALUE-broken', 'service_account'],
    },
    {
      name: 'GCP JSON that is an array',
      input: planInput({ secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: text('["VALUE-array"]') } }),
      problem: `key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from ${SECRET} is not a JSON object (a GCP service-account key is expected)`,
      values: ['VALUE-array'],
    },
    {
      name: 'GCP JSON (string form) without "type"',
      input: planInput({
        secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: text(JSON.stringify({ private_key: 'VALUE-pk-string' })) },
      }),
      problem: `key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from ${SECRET} has no "type" field (a GCP service-account key is expected)`,
      values: ['VALUE-pk-string'],
    },
    {
      name: 'GCP JSON (object form) whose "type" is not a string',
      input: planInput({
        secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: json({ type: 1, private_key: 'VALUE-pk-obj' }) },
      }),
      problem: `key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from ${SECRET} has no "type" field (a GCP service-account key is expected)`,
      values: ['VALUE-pk-obj'],
    },
    {
      name: 'GCP key as binary',
      input: planInput({ secret: { GOOGLE_APPLICATION_CREDENTIALS_JSON: binary('{"type":"VALUE-bin"}') } }),
      problem: `key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from ${SECRET} is not a JSON object (a GCP service-account key is expected)`,
      values: ['VALUE-bin'],
    },
  ];
  for (const c of bad) {
    it(`refuses with exit 4 and without the value: ${c.name}`, () => {
      const err = validationError(() => planOutputs(c.input));
      assert.equal(err.message, `invalid secrets: ${c.problem}`);
      for (const v of c.values) assert.ok(!err.message.includes(v), `value "${v}" in: ${err.message}`);
      assert.ok(!err.message.includes('VALUE'), `a seeded value in: ${err.message}`);
    });
  }

  it('reports every problem at once in one ValidationError (exit 4), without any value', () => {
    const input = planInput({
      secret: {
        'MY-KEY': text('VALUE-1'),
        LD_PRELOAD: text('VALUE-2'),
        TOKEN: text('VALUE-3\0'),
        BLOB: binary('VALUE-4'),
        DB: json({ p: 'VALUE-5' }),
        GOOGLE_APPLICATION_CREDENTIALS_JSON: text('VALUE-6'),
        APP_SECRET_KEY: text(''),
      },
      files: [{ fromKey: 'MISSING', path: 'missing.txt' }],
      required: ['APP_SECRET_KEY', 'ABSENT'],
    });
    const err = validationError(() => planOutputs(input));
    const expected = [
      'file "missing.txt": key "MISSING" not found in any source',
      `key "GOOGLE_APPLICATION_CREDENTIALS_JSON" from ${SECRET} is not a JSON object (a GCP service-account key is expected)`,
      `a 6-character key (not shown) from ${SECRET} is not a valid variable name`,
      `key "LD_PRELOAD" from ${SECRET} is on the deny list (allow it by name in spec.allowKeys)`,
      `key "TOKEN" from ${SECRET} contains a NUL byte`,
      `key "BLOB" from ${SECRET} is binary; map it to a file`,
      `key "DB" from ${SECRET} holds a nested value; map it to a file`,
      'required keys missing or empty: APP_SECRET_KEY, ABSENT',
    ];
    assert.equal(err.message, `invalid secrets: ${expected.join('; ')}`);
    assert.doesNotMatch(err.message, /VALUE/);
  });

  it('names the layer a bad key came from', () => {
    const input: PlanInput = { ...planInput(), merged: mergeLayers([layer(DOTENV, { 'BAD.KEY': text('VALUE') })]) };
    assert.equal(
      validationError(() => planOutputs(input)).message,
      `invalid secrets: a 7-character key (not shown) from ${DOTENV} is not a valid variable name`,
    );
  });

  it('does not echo a "key" that looks like a line of key material (a dotenv quote left open)', () => {
    const fragment = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ+/x=';
    const input: PlanInput = { ...planInput(), merged: mergeLayers([layer(DOTENV, { [fragment]: text('') })]) };
    const message = validationError(() => planOutputs(input)).message;
    assert.equal(message.includes(fragment.slice(0, 20)), false);
    assert.match(
      message,
      new RegExp(`a ${fragment.length}-character key \\(not shown\\) from .* is not a valid variable name`),
    );
  });
});

describe('planOutputs: a file path variable', () => {
  it('on the deny list is refused unless allowed by name', () => {
    const files = [{ fromKey: 'OPENAI_API_KEY', path: 'lib.so', envVar: 'LD_PRELOAD' }];
    const err = validationError(() => planOutputs(planInput({ files })));
    assert.match(err.message, /file "lib.so": envVar "LD_PRELOAD" is on the deny list/);
    const plan = planOutputs(planInput({ files, allowKeys: ['LD_PRELOAD'] }));
    assert.ok(plan.vars.get('LD_PRELOAD')?.endsWith('/lib.so'));
  });
});

describe('keyRule', () => {
  const table: [string, ReturnType<typeof keyRule>][] = [
    ['PATH', 'denied'],
    ['HOME', 'denied'],
    ['LC_ALL', 'denied'],
    ['LC_ANYTHING_NEW', 'denied'],
    ['LD_PRELOAD', 'denied'],
    ['LD_ANYTHING_NEW', 'denied'],
    ['DYLD_LIBRARY_PATH', 'denied'],
    ['NODE_OPTIONS', 'denied'],
    ['PYTHONPATH', 'denied'],
    ['SECRETS_OPTIONAL', 'denied'],
    ['GLIBC_TUNABLES', 'denied'],
    ['BASH_FUNC_ls%%', 'shell'],
    ['BASH_ENV', 'shell'],
    ['BASH_VERSINFO', 'shell'],
    ['UID', 'shell'],
    ['EUID', 'shell'],
    ['RANDOM', 'shell'],
    ['SECONDS', 'shell'],
    ['OPTIND', 'shell'],
    ['path', 'shell'],
    ['fpath', 'shell'],
    ['_', 'shell'],
    ['IFS', 'shell'],
    ['PS4', 'shell'],
    ['MY_PATH', 'free'],
    ['Path', 'free'],
    ['OLD_LD_PRELOAD', 'free'],
    ['LD', 'free'],
    ['OPENAI_API_KEY', 'free'],
    ['SECRETS_DIR_EXTRA', 'free'],
    ['_se_names', 'free'],
    ['__', 'free'],
  ];
  for (const [name, rule] of table) {
    it(`treats ${name} as ${rule}`, () => assert.equal(keyRule(name), rule));
  }
});
