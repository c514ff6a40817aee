import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Parameter } from '@aws-sdk/client-ssm';
import { render } from '../../init/render.ts';
import { resolveRenderSettings } from '../../init/render-settings.ts';
import {
  chunksOf,
  type FetchedParameter,
  GET_PARAMETERS_MAX,
  pathLayer,
  readParameters,
  ssmSources,
  ssmVerdict,
} from '../../init/ssm-source.ts';
import type { SsmPort } from '../../shared/aws-ports.ts';
import { type ParameterSourceSpec, type SsmSourceSpec, validateConfig } from '../../shared/config.ts';
import { ValidationError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { removeDir, tempDir } from '../helpers/cli.ts';

// Text an SDK error message may carry; it must never reach a verdict.
const LEAK = 'RequestId: LEAK-0f3a; value LEAK-secret';
const sdkError = (name: string, status = 400) =>
  Object.assign(new Error(`${name}: ${LEAK}`), { name, $metadata: { httpStatusCode: status, requestId: 'LEAK-0f3a' } });

/** Specs as the config gives them (so keys and selectors are defaulted exactly as render sees them). */
function specs(...sources: unknown[]): SsmSourceSpec[] {
  return configOf(...sources).sources as SsmSourceSpec[];
}

const T0 = new Date('2026-01-02T03:04:05.678Z');
/** name -> versions (the last is current). */
type Store = Record<string, string[]>;
const STORE: Store = {
  '/app/prod/DATABASE_URL': ['VALUE-db-1', 'VALUE-db-2'],
  '/app/prod/db/pool': ['VALUE-pool'],
  '/app/prod/API_KEY': ['VALUE-api'],
  '/app/prod2/OTHER': ['VALUE-other'],
  PLAIN: ['VALUE-plain'],
};

interface FakeOptions {
  /** GetParametersByPath answers this many a page (moto and AWS: at most 10; AWS may answer fewer, even none). */
  readonly pageSize?: number;
  /** Answer an empty page with a token before each real one. */
  readonly emptyPages?: boolean;
  /** The first N calls of this command throw ThrottlingException (the SDK's retries used up). */
  readonly throttle?: { readonly command: string; readonly times: number };
  /** Every call of this command throws this error. */
  readonly fails?: { readonly command: string; readonly error: Error };
  /** GetParametersByPath also answers a parameter from outside the path. */
  readonly strayParameter?: boolean;
  /** GetParameters answers version 1 whatever was asked. */
  readonly wrongVersion?: boolean;
  /** GetParameters leaves these names out of both lists. */
  readonly skip?: readonly string[];
}

function fakeSsm(store: Store, opts: FakeOptions = {}) {
  const calls: { command: string; input: Record<string, unknown> }[] = [];
  const answer = (name: string, i: number): Parameter => ({
    Name: name,
    Value: store[name]![i],
    Version: i + 1,
    LastModifiedDate: new Date(T0.getTime() + i * 1000),
    Type: 'SecureString',
  });
  const send = async (command: { input: Record<string, unknown> }, options?: { abortSignal?: AbortSignal }) => {
    const name = command.constructor.name;
    calls.push({ command: name, input: command.input });
    assert.ok(options?.abortSignal, `${name} was sent without an abort signal`);
    const n = calls.filter((c) => c.command === name).length;
    if (opts.throttle?.command === name && n <= opts.throttle.times) throw sdkError('ThrottlingException');
    if (opts.fails?.command === name) throw opts.fails.error;
    if (name === 'GetParametersCommand') {
      const names = command.input.Names as string[];
      assert.ok(names.length <= GET_PARAMETERS_MAX, `GetParameters with ${names.length} names`);
      assert.equal(command.input.WithDecryption, true);
      const Parameters: Parameter[] = [];
      const InvalidParameters: string[] = [];
      for (const ref of names) {
        if (opts.skip?.includes(ref)) continue;
        const [base, sel] = ref.split(':') as [string, string | undefined];
        const versions = store[base];
        const i = sel === undefined ? (versions?.length ?? 0) - 1 : Number(sel) - 1;
        if (!versions || !(i in versions)) InvalidParameters.push(ref);
        else Parameters.push(answer(base, opts.wrongVersion ? 0 : i));
      }
      return { Parameters: Parameters.reverse(), InvalidParameters };
    }
    if (name === 'GetParametersByPathCommand') {
      const { Path, Recursive, WithDecryption, MaxResults, NextToken } = command.input as {
        Path: string;
        Recursive: boolean;
        WithDecryption: boolean;
        MaxResults: number;
        NextToken?: string;
      };
      assert.equal(Recursive, true);
      assert.equal(WithDecryption, true);
      assert.ok(MaxResults <= 10);
      const under = Object.keys(store)
        .filter((k) => k.startsWith(`${Path}/`))
        .sort();
      const token = NextToken ?? '0';
      if (opts.emptyPages && !token.endsWith('+')) return { Parameters: [], NextToken: `${token}+` };
      const from = Number(token.replace('+', ''));
      const size = Math.min(MaxResults, opts.pageSize ?? MaxResults);
      const page = under.slice(from, from + size).map((k) => answer(k, store[k]!.length - 1));
      if (opts.strayParameter) page.push(answer('/app/prod2/OTHER', 0));
      return { Parameters: page, ...(from + size < under.length && { NextToken: String(from + size) }) };
    }
    throw new Error(`unexpected command ${name}`);
  };
  return { client: { send } as unknown as SsmPort, calls };
}

const live = () => new AbortController().signal;
const names = (o: { ok: boolean; value?: readonly FetchedParameter[] }) => (o.value ?? []).map((p) => p.name);

describe('readParameters', () => {
  it('reads named parameters with GetParameters, decrypted, whatever order AWS answers in; a pin reads its version', async () => {
    const { client, calls } = fakeSsm(STORE);
    const s = specs(
      { parameter: '/app/prod/DATABASE_URL' },
      { parameter: '/app/prod/DATABASE_URL:1', key: 'OLD' },
      { parameter: 'PLAIN' },
    );
    const got = await readParameters(s, client, live());
    assert.deepEqual(
      got.map((o) => (o.ok ? o.value.map((p) => [p.name, p.value, p.version]) : o.error)),
      [
        [['/app/prod/DATABASE_URL', 'VALUE-db-2', 2]],
        [['/app/prod/DATABASE_URL', 'VALUE-db-1', 1]],
        [['PLAIN', 'VALUE-plain', 1]],
      ],
    );
    // Two references of one name never share a call: the answer names the parameter, not the reference.
    assert.deepEqual(
      calls.map((c) => c.input.Names),
      [['/app/prod/DATABASE_URL', 'PLAIN'], ['/app/prod/DATABASE_URL:1']],
    );
  });

  it('chunks references 10 a call, each reference once, no name twice in a chunk', () => {
    const many = specs(
      ...Array.from({ length: 23 }, (_, i) => ({ parameter: `/p/N${i % 21}`, key: `K${i}` })),
    ) as ParameterSourceSpec[];
    const chunks = chunksOf([
      ...many,
      ...(specs({ parameter: '/p/N0:2', key: 'X' }, { parameter: '/p/N0:3', key: 'Y' }) as ParameterSourceSpec[]),
    ]);
    assert.deepEqual(
      chunks.map((c) => c.length),
      [10, 10, 2, 1],
    );
    for (const c of chunks) assert.equal(new Set(c.map((s) => s.name)).size, c.length);
    assert.equal(chunks.flat().length, 23);
  });

  it('fails a name listed in InvalidParameters, or answered by neither list, or answered at another version', async () => {
    const cases: [FakeOptions, unknown, string][] = [
      [
        {},
        { parameter: '/app/prod/MISSING' },
        'ParameterNotFound (listed in InvalidParameters: no such parameter, version or label)',
      ],
      [
        {},
        { parameter: '/app/prod/DATABASE_URL:9' },
        'ParameterNotFound (listed in InvalidParameters: no such parameter, version or label)',
      ],
      [{ skip: ['PLAIN'] }, { parameter: 'PLAIN' }, 'not returned by GetParameters'],
      [{ wrongVersion: true }, { parameter: '/app/prod/DATABASE_URL:2' }, 'GetParameters answered version 1, not 2'],
    ];
    for (const [opts, spec, error] of cases) {
      const { client } = fakeSsm(STORE, opts);
      const got = await readParameters(specs({ parameter: '/app/prod/API_KEY' }, spec), client, live());
      assert.equal(got[0]!.ok, true, 'the other name of the call is read');
      assert.deepEqual(got[1], { ok: false, error });
    }
  });

  it('reads every page of a path, following the token through empty pages, sorted by name', async () => {
    for (const opts of [{ pageSize: 1 }, { pageSize: 2, emptyPages: true }, {}]) {
      const { client, calls } = fakeSsm(STORE, opts);
      const [got] = await readParameters(specs({ parameterPath: '/app/prod/' }), client, live());
      assert.deepEqual(names(got as never), ['/app/prod/API_KEY', '/app/prod/DATABASE_URL', '/app/prod/db/pool']);
      assert.ok(
        calls.every((c) => c.input.Path === '/app/prod'),
        'the path is sent without its final /',
      );
      if (opts.pageSize === 1) assert.equal(calls.length, 3);
    }
  });

  it('fails an empty path unless optional, and a path whose answer strays outside it', async () => {
    const { client } = fakeSsm(STORE);
    const got = await readParameters(
      specs({ parameterPath: '/app/none/' }, { parameterPath: '/app/none', optional: true }),
      client,
      live(),
    );
    assert.deepEqual(got, [
      { ok: false, error: 'no parameter under the path (say optional: true if it may be empty)' },
      { ok: true, value: [] },
    ]);
    const stray = fakeSsm(STORE, { strayParameter: true });
    const [bad] = await readParameters(specs({ parameterPath: '/app/prod/' }), stray.client, live());
    assert.deepEqual(bad, { ok: false, error: 'GetParametersByPath answered a parameter outside the path' });
  });

  it('retries a throttled read with its own back-off, then fails with the error name only', async () => {
    const { client, calls } = fakeSsm(STORE, { throttle: { command: 'GetParametersByPathCommand', times: 2 } });
    const [ok] = await readParameters(specs({ parameterPath: '/app/prod/' }), client, live());
    assert.equal(ok!.ok, true);
    assert.equal(calls.length, 3);

    const errors: [string, string][] = [
      ['AccessDeniedException', 'AccessDeniedException (ssm:GetParameters, or kms:Decrypt of a SecureString, denied)'],
      ['ParameterNotFound', 'ParameterNotFound (no such parameter)'],
      ['InvalidKeyId', 'InvalidKeyId (the KMS key of a SecureString is disabled, deleted or not allowed)'],
      ['InternalServerError', 'InternalServerError'],
    ];
    for (const [name, error] of errors) {
      const f = fakeSsm(STORE, { fails: { command: 'GetParametersCommand', error: sdkError(name) } });
      const [got] = await readParameters(specs({ parameter: 'PLAIN' }), f.client, live());
      assert.deepEqual(got, { ok: false, error });
    }
  });

  it('throws at the deadline instead of answering', async () => {
    const { client } = fakeSsm(STORE, { fails: { command: 'GetParametersCommand', error: sdkError('AbortError') } });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(readParameters(specs({ parameter: 'PLAIN' }), client, ac.signal), { name: 'AbortError' });
  });
});

describe('ssmVerdict', () => {
  const p = (name: string, value = `VALUE-${name}`, version = 1): FetchedParameter => ({
    name,
    value,
    version,
    lastModified: T0,
  });

  it('gives a parameter one key and records its name, version and date, never its value', () => {
    const [spec] = specs({ parameter: '/app/prod/DATABASE_URL:2', key: 'DB' });
    const v = ssmVerdict(spec!, { ok: true, value: [p('/app/prod/DATABASE_URL', 'VALUE-x', 2)] });
    assert.ok(v.read.ok);
    assert.equal(v.subject, 'parameter "/app/prod/DATABASE_URL:2"');
    assert.deepEqual([...v.read.value.layer.entries], [['DB', { kind: 'text', text: 'VALUE-x' }]]);
    assert.equal(v.read.value.version, '2');
    assert.deepEqual(v.read.value.record, {
      type: 'ssm-parameter',
      parameter: '/app/prod/DATABASE_URL:2',
      name: '/app/prod/DATABASE_URL',
      version: 2,
      lastModified: '2026-01-02T03:04:05.678Z',
    });
    assert.ok(!JSON.stringify(v.read.value.record).includes('VALUE'));
  });

  it('passes a failure on as it is', () => {
    const [spec] = specs({ parameterPath: '/app/prod/' });
    assert.deepEqual(ssmVerdict(spec!, { ok: false, error: 'ParameterNotFound' }), {
      subject: 'parameter path "/app/prod/"',
      read: { ok: false, error: 'ParameterNotFound' },
      problems: [],
      warnings: [],
    });
  });

  it('keys a path by the name under it, / as _; keys and rename as for a secret; records only what it took', () => {
    const [spec] = specs({
      parameterPath: '/app/prod/',
      keys: ['db_url', 'API_KEY'],
      rename: { db_url: 'DATABASE_URL' },
    });
    const v = ssmVerdict(spec!, {
      ok: true,
      value: [p('/app/prod/API_KEY'), p('/app/prod/db/url'), p('/app/prod/unused')],
    });
    assert.ok(v.read.ok);
    assert.deepEqual([...v.read.value.layer.entries.keys()], ['DATABASE_URL', 'API_KEY']);
    assert.deepEqual(v.problems, []);
    const record = v.read.value.record;
    assert.deepEqual(record.type === 'ssm-path' && record.parameters.map((x) => x.name), [
      '/app/prod/API_KEY',
      '/app/prod/db/url',
    ]);
  });

  const problems: [string, unknown, FetchedParameter[], string[]][] = [
    [
      'two parameters giving one key',
      { parameterPath: '/a/' },
      [p('/a/db/url'), p('/a/db_url')],
      ['parameter path "/a/": parameters "/a/db/url" and "/a/db_url" both give key "db_url"'],
    ],
    [
      'two parameters giving one key shaped like a token (names not shown)',
      { parameterPath: '/a/' },
      [p('/a/ghp/SEEDEDaBcDeFgHiJkLmNoPqRsTuVwXyZ0123'), p('/a/ghp_SEEDEDaBcDeFgHiJkLmNoPqRsTuVwXyZ0123')],
      ['parameter path "/a/": two parameters both give a 40-character key (not shown)'],
    ],
    [
      'a key in keys with no parameter, a rename of a missing key',
      { parameterPath: '/a/', keys: ['x', 'MISSING'], rename: { gone: 'GONE' } },
      [p('/a/x')],
      ['parameter path "/a/" has no parameter for key "MISSING"', 'parameter path "/a/": rename of missing key "gone"'],
    ],
    [
      'a rename onto another key',
      { parameterPath: '/a/', rename: { x: 'y' } },
      [p('/a/x'), p('/a/y')],
      ['parameter path "/a/": key "x" and key "y" both become "y"'],
    ],
  ];
  for (const [what, source, params, want] of problems) {
    it(`reports ${what}, naming keys, never values`, () => {
      const [spec] = specs(source);
      const v = ssmVerdict(spec!, { ok: true, value: params });
      assert.deepEqual(v.problems, want);
      assert.ok(!v.problems.join('').includes('VALUE'));
    });
  }

  it('pathLayer keeps the path as the origin of every key, for messages', () => {
    const [spec] = specs({ parameterPath: '/a/' });
    assert.equal(pathLayer(spec as never, [p('/a/x')]).layer.origin, 'parameter path "/a/"');
  });
});

describe('render() with a path source (ssmSources on a plain fake)', () => {
  it('holds the keys a path gives to the exec limits: over the budget is exit 4 naming the largest, nothing written', async () => {
    // 130 parameters of 8 KiB (the advanced tier's largest) are 1 MiB and more as NAME=value strings.
    const store: Store = {};
    for (let i = 0; i < 130; i++) store[`/big/P${String(i).padStart(3, '0')}`] = ['v'.repeat(8192)];
    const { client } = fakeSsm(store);
    const work = tempDir();
    try {
      const settings = resolveRenderSettings(
        { appEnv: 'production', outputDir: join(work, 'out') },
        { AWS_REGION: 'us-east-1' },
        { ...configOf({ parameterPath: '/big/' }) },
        work,
      );
      const sources = ssmSources(settings.sources as SsmSourceSpec[], { client: () => client });
      const deps = { logger: createLogger('silent', process.stdout), now: () => new Date(0), sources };
      await assert.rejects(render(settings, deps), (err: Error) => {
        assert.ok(err instanceof ValidationError);
        assert.match(err.message, /app\.env variables take \d+ bytes of the exec limit, at most 1048576/);
        assert.match(err.message, /P000 \(8198 bytes\)/);
        return true;
      });
      assert.equal(existsSync(join(work, 'out')), false);
    } finally {
      removeDir(work);
    }
  });
});

function configOf(...sources: unknown[]) {
  const r = validateConfig({ apiVersion: 'secrets-init/v1', kind: 'SecretsInit', spec: { sources } });
  if ('problems' in r) assert.fail(r.problems.join('; '));
  return r.config;
}
