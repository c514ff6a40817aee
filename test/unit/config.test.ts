import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { type ConfigFile, parseMode, parseOwner, type SecretSourceSpec, validateConfig } from '../../shared/config.ts';

// One valid document using every section; each bad case below is this plus one small tweak.
type Doc = Record<string, unknown>;
function validDoc(): Doc {
  return {
    apiVersion: 'secrets-init/v1',
    kind: 'SecretsInit',
    metadata: { name: 'short-cut' },
    spec: {
      sources: [
        'short-cut/prod/app',
        {
          secretId: 'short-cut/prod/db',
          versionStage: 'AWSPREVIOUS',
          keys: ['DB_PASSWORD'],
          rename: { DB_PASSWORD: 'PGPASSWORD' },
        },
        { secretId: 'short-cut/prod/tls', key: 'TLS_KEY' },
      ],
      dotenv: { path: '.env.local' },
      files: [{ fromKey: 'TLS_KEY', path: 'tls.key', mode: '0400', envVar: 'TLS_KEY_FILE' }],
      required: ['OPENAI_API_KEY'],
      allowKeys: ['NODE_EXTRA_CA_CERTS'],
      output: { dir: '/run/secrets', mode: '0440', owner: '65532:10001' },
      timeout: '45s',
      watch: {
        clusters: [{ name: 'prod', services: [{ name: 'api', secrets: ['short-cut/prod/app'] }] }],
        interval: '10m',
        maxRedeploys: 3,
      },
    },
  };
}

/** A deep copy of the valid document with `tweak` applied to it. */
function docWith(tweak: (d: Doc & { spec: Doc }) => void): Doc {
  const d = structuredClone(validDoc()) as Doc & { spec: Doc };
  tweak(d);
  return d;
}

function configOf(doc: unknown): ConfigFile {
  const r = validateConfig(doc);
  if ('problems' in r) assert.fail(`expected a valid config, got: ${r.problems.join('; ')}`);
  return r.config;
}
function problemsOf(doc: unknown): string[] {
  const r = validateConfig(doc);
  if ('config' in r) assert.fail('expected problems, the config was accepted');
  return r.problems;
}
const sources = (d: Doc & { spec: Doc }) => d.spec.sources as unknown[];
const source1 = (d: Doc & { spec: Doc }) => sources(d)[1] as Doc;
const file0 = (d: Doc & { spec: Doc }) => (d.spec.files as Doc[])[0]!;
const output = (d: Doc & { spec: Doc }) => d.spec.output as Doc;
const watch = (d: Doc & { spec: Doc }) => d.spec.watch as Doc & { clusters: Doc[] };

describe('validateConfig', () => {
  it('accepts the full valid document and returns every section, defaulted and typed', () => {
    const c = configOf(validDoc());
    assert.deepEqual(c, {
      name: 'short-cut',
      sources: [
        { type: 'secretsmanager', secretId: 'short-cut/prod/app' },
        {
          type: 'secretsmanager',
          secretId: 'short-cut/prod/db',
          versionStage: 'AWSPREVIOUS',
          keys: ['DB_PASSWORD'],
          rename: { DB_PASSWORD: 'PGPASSWORD' },
        },
        { type: 'secretsmanager', secretId: 'short-cut/prod/tls', key: 'TLS_KEY' },
      ],
      dotenvPath: '.env.local',
      files: [{ fromKey: 'TLS_KEY', path: 'tls.key', mode: 0o400, envVar: 'TLS_KEY_FILE' }],
      required: ['OPENAI_API_KEY'],
      allowKeys: ['NODE_EXTRA_CA_CERTS'],
      outputDir: '/run/secrets',
      fileMode: 0o440,
      owner: { uid: 65532, gid: 10001 },
      timeoutMs: 45_000,
      watch: {
        clusters: [{ name: 'prod', services: [{ name: 'api', secrets: ['short-cut/prod/app'] }] }],
        intervalMs: 600_000,
        maxRedeploys: 3,
      },
    });
  });

  it('returns a deeply frozen config', () => {
    const c = configOf(validDoc());
    const db = c.sources[1] as SecretSourceSpec;
    for (const o of [c, c.sources, db, db.keys, db.rename, c.files, c.files[0]]) {
      assert.ok(Object.isFrozen(o), JSON.stringify(o));
    }
    for (const o of [c.required, c.allowKeys, c.owner, c.watch, c.watch!.clusters, c.watch!.clusters[0]]) {
      assert.ok(Object.isFrozen(o), JSON.stringify(o));
    }
  });

  it('fills defaults for a minimal document and omits what was not given', () => {
    const c = configOf({ apiVersion: 'secrets-init/v1', kind: 'SecretsInit', spec: {} });
    assert.deepEqual(c, { name: 'secrets-init', sources: [], files: [], required: [], allowKeys: [] });
  });

  it('trims a secret id given as a plain string', () => {
    const c = configOf(docWith((d) => (d.spec.sources = ['  short-cut/prod/app  '])));
    assert.deepEqual(c.sources, [{ type: 'secretsmanager', secretId: 'short-cut/prod/app' }]);
  });

  it('accepts versionId alone (pinned version)', () => {
    const c = configOf(docWith((d) => (d.spec.sources = [{ secretId: 'app', versionId: 'v-123' }])));
    assert.deepEqual(c.sources, [{ type: 'secretsmanager', secretId: 'app', versionId: 'v-123' }]);
  });

  it('reads the worked example written in YAML', () => {
    const yaml = [
      'apiVersion: secrets-init/v1',
      'kind: SecretsInit',
      'spec:',
      '  sources: [short-cut/prod/app]',
      '  output: { mode: "0440", owner: "65532:10001" }',
      '  timeout: 30s',
    ].join('\n');
    const c = configOf(parse(yaml));
    assert.equal(c.fileMode, 0o440);
    assert.equal(c.timeoutMs, 30_000);
  });

  const bad: { name: string; doc: Doc | unknown; problems: string[] }[] = [
    // bad case: not a mapping at all
    {
      name: 'a list as document',
      doc: [],
      problems: ['(root): must be a mapping with apiVersion, kind, metadata and spec'],
    },
    {
      name: 'null document',
      doc: null,
      problems: ['(root): must be a mapping with apiVersion, kind, metadata and spec'],
    },
    // bad case: header
    {
      name: 'wrong apiVersion and kind',
      doc: docWith((d) => {
        d.apiVersion = 'v1';
        d.kind = 'Secret';
      }),
      problems: ['apiVersion: must be "secrets-init/v1"', 'kind: must be "SecretsInit"'],
    },
    { name: 'spec missing', doc: docWith((d) => delete (d as Doc).spec), problems: ['spec: required'] },
    {
      name: 'metadata not a mapping',
      doc: docWith((d) => (d.metadata = 'x')),
      problems: ['metadata: must be a mapping'],
    },
    {
      name: 'metadata.name empty',
      doc: docWith((d) => (d.metadata = { name: ' ' })),
      problems: ['metadata.name: must be a non-empty string'],
    },
    // bad case: unknown fields at every level
    { name: 'unknown root field', doc: docWith((d) => (d.extra = 1)), problems: ['(root).extra: unknown field'] },
    { name: 'unknown spec field', doc: docWith((d) => (d.spec.source = [])), problems: ['spec.source: unknown field'] },
    {
      name: 'unknown source field',
      doc: docWith((d) => (source1(d).stage = 'AWSCURRENT')),
      problems: ['spec.sources[1].stage: unknown field'],
    },
    {
      name: 'unknown file field',
      doc: docWith((d) => (file0(d).owner = '1:1')),
      problems: ['spec.files[0].owner: unknown field'],
    },
    {
      name: 'unknown output field',
      doc: docWith((d) => (output(d).group = 1)),
      problems: ['spec.output.group: unknown field'],
    },
    {
      name: 'unknown dotenv field',
      doc: docWith((d) => (d.spec.dotenv = { path: '.env', override: true })),
      problems: ['spec.dotenv.override: unknown field'],
    },
    // bad case: sources
    {
      name: 'sources not a list',
      doc: docWith((d) => (d.spec.sources = 'app')),
      problems: ['spec.sources: must be a list'],
    },
    {
      name: 'source without secretId',
      doc: docWith((d) => delete source1(d).secretId),
      problems: ['spec.sources[1].secretId: required'],
    },
    {
      name: 'empty string source',
      doc: docWith((d) => (sources(d)[0] = '  ')),
      problems: ['spec.sources[0]: must be a non-empty string'],
    },
    {
      name: 'source of the wrong type',
      doc: docWith((d) => (sources(d)[0] = 42)),
      problems: ['spec.sources[0]: must be a secret id or an object with secretId, parameter or parameterPath'],
    },
    {
      name: 'versionStage and versionId together',
      doc: docWith((d) => (source1(d).versionId = 'v-1')),
      problems: ['spec.sources[1]: versionStage and versionId are exclusive'],
    },
    {
      name: 'keys not a list',
      doc: docWith((d) => (source1(d).keys = 'DB_PASSWORD')),
      problems: ['spec.sources[1].keys: must be a list of strings'],
    },
    {
      name: 'an empty key in keys',
      doc: docWith((d) => (source1(d).keys = ['DB_PASSWORD', ''])),
      problems: ['spec.sources[1].keys[1]: must be a non-empty string'],
    },
    {
      name: 'rename to an invalid variable name',
      doc: docWith((d) => (source1(d).rename = { DB_PASSWORD: 'PG-PASSWORD' })),
      problems: ['spec.sources[1].rename.DB_PASSWORD: must be a valid variable name'],
    },
    {
      name: 'rename not a map',
      doc: docWith((d) => (source1(d).rename = ['a'])),
      problems: ['spec.sources[1].rename: must be a map of secret key to variable name'],
    },
    {
      name: 'key with an invalid variable name',
      doc: docWith((d) => (sources(d)[2] = { secretId: 'tls', key: '1KEY' })),
      problems: ['spec.sources[2].key: "1KEY" is not a valid variable name'],
    },
    {
      name: 'key together with keys',
      doc: docWith((d) => (source1(d).key = 'WHOLE')),
      problems: ['spec.sources[1]: key takes the whole secret; keys and rename do not apply'],
    },
    // bad case: dotenv
    {
      name: 'dotenv without path',
      doc: docWith((d) => (d.spec.dotenv = {})),
      problems: ['spec.dotenv.path: required'],
    },
    {
      name: 'dotenv as a string',
      doc: docWith((d) => (d.spec.dotenv = '.env')),
      problems: ['spec.dotenv: must be a mapping with path'],
    },
    // bad case: files
    { name: 'files not a list', doc: docWith((d) => (d.spec.files = {})), problems: ['spec.files: must be a list'] },
    {
      name: 'file mapping not an object',
      doc: docWith((d) => (d.spec.files = ['tls.key'])),
      problems: ['spec.files[0]: must be an object with fromKey and path'],
    },
    {
      name: 'file mapping without fromKey and path',
      doc: docWith((d) => (d.spec.files = [{}])),
      problems: ['spec.files[0].fromKey: required', 'spec.files[0].path: required'],
    },
    {
      name: 'file path with a separator',
      doc: docWith((d) => (file0(d).path = '../etc/passwd')),
      problems: ['spec.files[0].path: "../etc/passwd" must be a plain file name inside the output directory'],
    },
    {
      name: 'hidden file path',
      doc: docWith((d) => (file0(d).path = '.hidden')),
      problems: ['spec.files[0].path: ".hidden" must be a plain file name inside the output directory'],
    },
    {
      name: 'reserved file name',
      doc: docWith((d) => (file0(d).path = 'app.env')),
      problems: ['spec.files[0].path: "app.env" is reserved'],
    },
    {
      name: 'world-readable file mode',
      doc: docWith((d) => (file0(d).mode = '0444')),
      problems: ['spec.files[0].mode: mode 0444 gives access to others; secrets are never world-accessible'],
    },
    {
      name: 'file envVar not a variable name',
      doc: docWith((d) => (file0(d).envVar = 'TLS-FILE')),
      problems: ['spec.files[0].envVar: "TLS-FILE" is not a valid variable name'],
    },
    {
      name: 'the same path written twice, after an invalid mapping (index is the document index)',
      doc: docWith((d) => {
        d.spec.files = [{ fromKey: 'A' }, { fromKey: 'B', path: 'x.txt' }, { fromKey: 'C', path: 'x.txt' }];
      }),
      problems: ['spec.files[0].path: required', 'spec.files[2].path: "x.txt" is written twice'],
    },
    // bad case: required / allowKeys
    {
      name: 'required name invalid',
      doc: docWith((d) => (d.spec.required = ['OPENAI_API_KEY', 'MY-KEY'])),
      problems: ['spec.required[1]: "MY-KEY" is not a valid variable name'],
    },
    {
      name: 'allowKeys not a list',
      doc: docWith((d) => (d.spec.allowKeys = 'PATH')),
      problems: ['spec.allowKeys: must be a list of strings'],
    },
    // bad case: a name a shell owns, which no config can make a secret (its index is the document index)
    {
      name: 'allowKeys naming shell variables',
      doc: docWith((d) => (d.spec.allowKeys = ['PATH', 'MY-KEY', 'RANDOM', 'path', 'BASH_ENV'])),
      problems: [
        'spec.allowKeys[1]: "MY-KEY" is not a valid variable name',
        'spec.allowKeys[2]: "RANDOM" is a shell variable (special in bash, busybox ash, mksh, zsh) and can never be a secret',
        'spec.allowKeys[3]: "path" is a shell variable (special in zsh) and can never be a secret',
        'spec.allowKeys[4]: "BASH_ENV" is a shell variable (special in bash) and can never be a secret',
      ],
    },
    {
      name: 'required naming a shell variable',
      doc: docWith((d) => (d.spec.required = ['OPENAI_API_KEY', 'SECONDS'])),
      problems: [
        'spec.required[1]: "SECONDS" is a shell variable (special in bash, mksh, zsh) and can never be a secret',
      ],
    },
    {
      name: 'a rename, a whole-secret key and a file path variable naming shell variables',
      doc: docWith((d) => {
        source1(d).rename = { DB_PASSWORD: 'OPTIND' };
        (sources(d)[2] as Doc).key = 'KSH_VERSION';
        file0(d).envVar = 'USERNAME';
      }),
      problems: [
        'spec.sources[1].rename.DB_PASSWORD: "OPTIND" is a shell variable (special in dash, bash, busybox ash, mksh, zsh) and can never be a secret',
        'spec.sources[2].key: "KSH_VERSION" is a shell variable (special in mksh) and can never be a secret',
        'spec.files[0].envVar: "USERNAME" is a shell variable (special in zsh) and can never be a secret',
      ],
    },
    // bad case: output
    {
      name: 'output not a mapping',
      doc: docWith((d) => (d.spec.output = '/run')),
      problems: ['spec.output: must be a mapping'],
    },
    {
      name: 'output mode with world bits',
      doc: docWith((d) => (output(d).mode = '0644')),
      problems: ['spec.output.mode: mode 0644 gives access to others; secrets are never world-accessible'],
    },
    {
      name: 'output mode written unquoted in YAML (0440 read as decimal 440)',
      doc: docWith((d) => (output(d).mode = parse('mode: 0440').mode)),
      problems: [
        'spec.output.mode: the number 440 is ambiguous (YAML reads an unquoted 0440 as decimal 440); quote it: "0440"',
      ],
    },
    {
      name: 'owner by user name',
      doc: docWith((d) => (output(d).owner = 'app:app')),
      problems: ['spec.output.owner: must be "uid:gid" with numeric ids'],
    },
    // bad case: timeout
    {
      name: 'timeout as a word',
      doc: docWith((d) => (d.spec.timeout = 'soon')),
      problems: ['spec.timeout: "soon" is not a duration such as "30s", "5m" or "1h"'],
    },
    {
      name: 'timeout zero',
      doc: docWith((d) => (d.spec.timeout = '0s')),
      problems: ['spec.timeout: "0s" is shorter than the minimum of 1ms'],
    },
    {
      name: 'timeout as a number',
      doc: docWith((d) => (d.spec.timeout = 30)),
      problems: ['spec.timeout: must be a duration such as "30s", "5m" or "1h"'],
    },
    {
      name: 'timeout longer than a timer holds',
      doc: docWith((d) => (d.spec.timeout = '720h')),
      problems: [
        'spec.timeout: "720h" is longer than the maximum of 2147483647ms (about 24.8 days, the longest wait a timer holds)',
      ],
    },
    // bad case: watch
    {
      name: 'watch not a mapping',
      doc: docWith((d) => (d.spec.watch = [])),
      problems: ['spec.watch: must be an object'],
    },
    {
      name: 'unknown watch field',
      doc: docWith((d) => (watch(d).once = true)),
      problems: ['spec.watch.once: unknown field'],
    },
    {
      name: 'watch clusters not a list',
      doc: docWith((d) => (watch(d).clusters = { name: 'prod' } as never)),
      problems: ['spec.watch.clusters: must be a list'],
    },
    {
      name: 'cluster without name and services',
      doc: docWith((d) => (watch(d).clusters = [{}])),
      problems: ['spec.watch.clusters[0].name: required', 'spec.watch.clusters[0].services: must be a list'],
    },
    {
      name: 'cluster and service items that are not objects, and a null clusters list',
      doc: docWith((d) => (watch(d).clusters = ['prod', { name: 'stage', services: ['api', null] }] as never)),
      problems: [
        'spec.watch.clusters[0]: must be an object with name and services',
        'spec.watch.clusters[1].services[0]: must be an object with name and secrets',
        'spec.watch.clusters[1].services[1]: must be an object with name and secrets',
      ],
    },
    {
      name: 'watch clusters null',
      doc: docWith((d) => (watch(d).clusters = null as never)),
      problems: ['spec.watch.clusters: must be a list'],
    },
    {
      name: 'service with no secrets',
      doc: docWith((d) => (watch(d).clusters[0]!.services = [{ name: 'api', secrets: [] }])),
      problems: ['spec.watch.clusters[0].services[0].secrets: must name at least one secret'],
    },
    {
      name: 'service without a name and with an unknown field',
      doc: docWith((d) => (watch(d).clusters[0]!.services = [{ secrets: ['a'], tags: {} }])),
      problems: [
        'spec.watch.clusters[0].services[0].tags: unknown field',
        'spec.watch.clusters[0].services[0].name: required',
      ],
    },
    {
      name: 'watch interval under a second',
      doc: docWith((d) => (watch(d).interval = '500ms')),
      problems: ['spec.watch.interval: "500ms" is shorter than the minimum of 1s'],
    },
    {
      name: 'watch interval longer than a timer holds',
      doc: docWith((d) => (watch(d).interval = '720h')),
      problems: [
        'spec.watch.interval: "720h" is longer than the maximum of 2147483647ms (about 24.8 days, the longest wait a timer holds)',
      ],
    },
    {
      name: 'maxRedeploys zero',
      doc: docWith((d) => (watch(d).maxRedeploys = 0)),
      problems: ['spec.watch.maxRedeploys: must be a positive integer'],
    },
  ];
  for (const c of bad) {
    it(`reports each problem with its path: ${c.name}`, () => {
      assert.deepEqual(problemsOf(c.doc), c.problems);
    });
  }

  it('reports every problem of a document at once, each with its path', () => {
    const doc = docWith((d) => {
      d.kind = 'Nope';
      delete source1(d).secretId;
      source1(d).versionId = 'v-1';
      file0(d).path = 'render.json';
      output(d).mode = '0666';
      d.spec.timeout = 'never';
    });
    assert.deepEqual(problemsOf(doc), [
      'kind: must be "SecretsInit"',
      'spec.sources[1].secretId: required',
      'spec.sources[1]: versionStage and versionId are exclusive',
      'spec.files[0].path: "render.json" is reserved',
      'spec.output.mode: mode 0666 gives access to others; secrets are never world-accessible',
      'spec.timeout: "never" is not a duration such as "30s", "5m" or "1h"',
    ]);
  });
});

describe('validateConfig: SSM Parameter Store sources and binding ids', () => {
  const withSources = (...list: unknown[]) => docWith((d) => (d.spec.sources = list));
  const withBound = (...ids: string[]) =>
    docWith((d) => ((watch(d).clusters[0]!.services as Doc[])[0]!.secrets = ['short-cut/prod/app', ...ids]));

  it('reads parameter and parameterPath sources, fully defaulted, next to secrets in the order written', () => {
    const c = configOf(
      withSources(
        { parameter: '/short-cut/prod/DATABASE_URL' },
        'short-cut/prod/app',
        { parameter: ' /short-cut/prod/db/url:3 ', key: 'DB_URL_V3' },
        { parameter: 'PLAIN' },
        { parameter: '/short-cut/prod/x:stable', key: 'X' },
        { parameterPath: '/short-cut/prod' },
        { parameterPath: '/short-cut/prod/db/', keys: ['url'], rename: { url: 'DB_URL' }, optional: true },
      ),
    );
    assert.deepEqual(c.sources, [
      {
        type: 'ssm-parameter',
        parameter: '/short-cut/prod/DATABASE_URL',
        name: '/short-cut/prod/DATABASE_URL',
        key: 'DATABASE_URL',
      },
      { type: 'secretsmanager', secretId: 'short-cut/prod/app' },
      {
        type: 'ssm-parameter',
        parameter: '/short-cut/prod/db/url:3',
        name: '/short-cut/prod/db/url',
        selector: '3',
        key: 'DB_URL_V3',
      },
      { type: 'ssm-parameter', parameter: 'PLAIN', name: 'PLAIN', key: 'PLAIN' },
      {
        type: 'ssm-parameter',
        parameter: '/short-cut/prod/x:stable',
        name: '/short-cut/prod/x',
        selector: 'stable',
        key: 'X',
      },
      { type: 'ssm-path', path: '/short-cut/prod/', optional: false },
      { type: 'ssm-path', path: '/short-cut/prod/db/', keys: ['url'], rename: { url: 'DB_URL' }, optional: true },
    ]);
    for (const s of c.sources) assert.ok(Object.isFrozen(s));
  });

  it('takes parameter and path ids in watch bindings', () => {
    const c = configOf(withBound('ssm:/short-cut/prod/DATABASE_URL', 'ssm:/short-cut/prod/', 'ssm:PLAIN'));
    assert.deepEqual(c.watch!.clusters[0]!.services[0]!.secrets, [
      'short-cut/prod/app',
      'ssm:/short-cut/prod/DATABASE_URL',
      'ssm:/short-cut/prod/',
      'ssm:PLAIN',
    ]);
  });

  const bad: [string, Doc, string[]][] = [
    [
      'two kinds in one item',
      withSources({ secretId: 'app', parameter: '/a' }),
      ['spec.sources[0]: secretId and parameter are exclusive: one source per item'],
    ],
    [
      'a field of another kind',
      withSources({ parameter: '/a/B', versionStage: 'AWSCURRENT', keys: ['B'] }),
      ['spec.sources[0].versionStage: unknown field', 'spec.sources[0].keys: unknown field'],
    ],
    [
      'a name with a character SSM refuses',
      withSources({ parameter: '/a/b c' }),
      [
        'spec.sources[0].parameter: "/a/b c" is not a parameter name: has characters a parameter name cannot have (letters, digits, _ . - / only)',
      ],
    ],
    [
      'a hierarchical name without its leading /',
      withSources({ parameter: 'a/B' }),
      ['spec.sources[0].parameter: "a/B" is not a parameter name: a name with "/" must begin with "/"'],
    ],
    [
      'a name ending in / (a path)',
      withSources({ parameter: '/a/b/' }),
      ['spec.sources[0].parameter: "/a/b/" is not a parameter name: ends with "/" (a path, not a parameter)'],
    ],
    [
      'a selector that is neither a version nor a label',
      withSources({ parameter: '/a/B:0' }, { parameter: '/a/C:aws-x' }),
      [
        'spec.sources[0].parameter: "/a/B:0" is ":0" is neither a version (":3") nor a label (":stable")',
        'spec.sources[1].parameter: "/a/C:aws-x" is ":aws-x" is neither a version (":3") nor a label (":stable")',
      ],
    ],
    [
      'a last level that is no variable name, and one a shell owns, without key',
      withSources({ parameter: '/a/db-url' }, { parameter: '/a/RANDOM' }),
      [
        'spec.sources[0].key: required: the last level "db-url" of the name is not a valid variable name',
        'spec.sources[1].key: required: the last level "RANDOM" is a shell variable (special in bash, busybox ash, mksh, zsh)',
      ],
    ],
    [
      'a key a shell owns',
      withSources({ parameter: '/a/b', key: 'SECONDS' }),
      ['spec.sources[0].key: "SECONDS" is a shell variable (special in bash, mksh, zsh) and can never be a secret'],
    ],
    [
      'the root path, a relative path, an empty level',
      withSources({ parameterPath: '/' }, { parameterPath: 'short-cut/prod/' }, { parameterPath: '/a//b/' }),
      [
        'spec.sources[0].parameterPath: "/": the root "/" would read every parameter of the account; name a path below it',
        'spec.sources[1].parameterPath: "short-cut/prod/": a path begins with "/"',
        'spec.sources[2].parameterPath: "/a//b/": not a path: has an empty level ("//")',
      ],
    ],
    [
      'optional that is not a boolean, rename to an invalid name, key on a path',
      withSources({ parameterPath: '/a/', optional: 'yes', rename: { x: 'not-a-name' }, key: 'K' }),
      [
        'spec.sources[0].key: unknown field',
        'spec.sources[0].rename.x: must be a valid variable name',
        'spec.sources[0].optional: must be true or false',
      ],
    ],
    [
      'binding ids the watcher cannot read',
      withBound('ssm:/a//b', 'ssm:/a/B:3', 'ssm:/', 'arn:aws:ssm:us-east-1:123456789012:parameter/a/B', 'vault:kv/app'),
      [
        'spec.watch.clusters[0].services[0].secrets[1]: "ssm:/a//b" is not a parameter name: has an empty level ("//")',
        'spec.watch.clusters[0].services[0].secrets[2]: "ssm:/a/B:3": a pinned version never changes; bind the parameter by its name alone',
        'spec.watch.clusters[0].services[0].secrets[3]: "ssm:/": the root "/" would read every parameter of the account; name a path below it',
        'spec.watch.clusters[0].services[0].secrets[4]: "arn:aws:ssm:us-east-1:123456789012:parameter/a/B" is a parameter ARN; bind a parameter as ssm:NAME (and a path as ssm:/PATH/)',
        'spec.watch.clusters[0].services[0].secrets[5]: "vault:kv/app" is neither a secret name (no ":"), a secret ARN, nor ssm:NAME or ssm:/PATH/',
      ],
    ],
  ];
  for (const [what, doc, problems] of bad) {
    it(`reports ${what}, with the path`, () => assert.deepEqual(problemsOf(doc), problems));
  }
});

describe('parseMode', () => {
  const accepted: { input: unknown; mode: number }[] = [
    { input: '0440', mode: 0o440 },
    { input: '440', mode: 0o440 },
    { input: ' 0400 ', mode: 0o400 },
    { input: '0600', mode: 0o600 },
    { input: '0750', mode: 0o750 },
    { input: 288, mode: 0o440 }, // YAML 0o440
    { input: 0o400, mode: 0o400 }, // YAML 0o400 = 256: "256" read as octal would be world-writable, so no doubt
    { input: 0o640, mode: 0o640 }, // 416
    { input: 0o600, mode: 0o600 }, // 384
  ];
  for (const c of accepted) {
    it(`accepts ${JSON.stringify(c.input)} as ${c.mode.toString(8)}`, () => assert.equal(parseMode(c.input), c.mode));
  }

  const refused: { input: unknown; message: RegExp }[] = [
    { input: '0444', message: /^mode 0444 gives access to others/ },
    { input: '0401', message: /^mode 0401 gives access to others/ },
    { input: '0777', message: /^mode 0777 gives access to others/ },
    { input: 0o664, message: /^mode 0664 gives access to others/ },
    { input: '0040', message: /^mode must let the owner read the file$/ },
    { input: '0200', message: /^mode must let the owner read the file$/ },
    { input: '04440', message: /^must be an octal mode/ },
    { input: '0o440', message: /^must be an octal mode/ },
    { input: '0880', message: /^must be an octal mode/ },
    { input: 'rw-r-----', message: /^must be an octal mode/ },
    { input: 1.5, message: /^must be an octal mode/ },
    { input: -1, message: /^must be an octal mode/ },
    { input: 0o1000, message: /^must be an octal mode/ },
    { input: null, message: /^must be an octal mode/ },
    // YAML 1.2 reads an unquoted 0440 / 0400 / 0600 as decimal numbers: never silently 0670 / 0620 / 01130.
    { input: 440, message: /^the number 440 is ambiguous .*quote it: "0440"$/ },
    { input: 400, message: /^the number 400 is ambiguous .*quote it: "0400"$/ },
    { input: 600, message: /^the number 600 is ambiguous .*quote it: "0600"$/ },
  ];
  for (const c of refused) {
    it(`refuses ${JSON.stringify(c.input)}`, () => {
      const r = parseMode(c.input);
      assert.equal(typeof r, 'string', `got mode ${typeof r === 'number' ? r.toString(8) : r}`);
      assert.match(r as string, c.message);
    });
  }
});

describe('parseOwner', () => {
  const table: { input: unknown; expected: ReturnType<typeof parseOwner> }[] = [
    { input: '65532:10001', expected: { uid: 65532, gid: 10001 } },
    { input: ' 1000:1000 ', expected: { uid: 1000, gid: 1000 } },
    { input: '0:0', expected: { uid: 0, gid: 0 } },
    { input: '1000', expected: { uid: 1000, gid: 1000 } },
    { input: 1000, expected: { uid: 1000, gid: 1000 } },
    { input: '4294967294:4294967294', expected: { uid: 4294967294, gid: 4294967294 } },
    { input: '4294967295:1', expected: 'ids must be 0 to 4294967294 (4294967295 means "unchanged" to chown)' },
    { input: '1:4294967295', expected: 'ids must be 0 to 4294967294 (4294967295 means "unchanged" to chown)' },
    { input: '4294967296', expected: 'ids must be 0 to 4294967294 (4294967295 means "unchanged" to chown)' },
    { input: `${'9'.repeat(400)}:1`, expected: 'ids must be 0 to 4294967294 (4294967295 means "unchanged" to chown)' },
    { input: 'app:app', expected: 'must be "uid:gid" with numeric ids' },
    { input: '1000:', expected: 'must be "uid:gid" with numeric ids' },
    { input: ':1000', expected: 'must be "uid:gid" with numeric ids' },
    { input: '-1:1', expected: 'must be "uid:gid" with numeric ids' },
    { input: '1:2:3', expected: 'must be "uid:gid" with numeric ids' },
    { input: 1.5, expected: 'must be "uid:gid" with numeric ids' },
    { input: { uid: 1 }, expected: 'must be "uid:gid"' },
    { input: undefined, expected: 'must be "uid:gid"' },
  ];
  for (const c of table) {
    it(`parses ${JSON.stringify(c.input)}`, () => assert.deepEqual(parseOwner(c.input), c.expected));
  }
});
