// Behaviour of init/entrypoint.sh (secrets-entrypoint), run for real under every shell an app image may have.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { OTHER_UID, reachableCopy, setprivPrefix } from '../helpers/other-user.ts';

const ENTRYPOINT = path.join(import.meta.dirname, '..', '..', 'init', 'entrypoint.sh');
const BASE_ENV: Readonly<Record<string, string>> = { PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin' };
const APP_RAN = 'the app ran';
/** The app used where it must not start: prints APP_RAN, so an empty stdout proves it never ran. */
const FAILING_APP = ['printf', APP_RAN];
const OPTIONAL_HINT = '(set SECRETS_OPTIONAL=true to start without it)';

type Shell = { readonly name: string; readonly argv: readonly string[]; readonly required: boolean };

// dash (Debian's /bin/sh) and busybox ash (Alpine) are what app images run the entrypoint with: a
// missing one fails the suite. The others are checked when present.
const SHELLS: readonly Shell[] = [
  { name: 'dash', argv: ['dash'], required: true },
  { name: 'busybox sh', argv: ['busybox', 'sh'], required: true },
  { name: 'bash', argv: ['bash'], required: false },
  { name: 'bash --posix', argv: ['bash', '--posix'], required: false },
  { name: 'mksh', argv: ['mksh'], required: false },
  { name: 'zsh --emulate sh', argv: ['zsh', '--emulate', 'sh'], required: false },
];

type Run = { status: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string };
type RunOptions = { env?: Record<string, string>; cwd?: string; prefix?: readonly string[]; entrypoint?: string };

const tempDirs: string[] = [];

function tempDir(mode = 0o700): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrypoint-test-'));
  fs.chmodSync(dir, mode);
  tempDirs.push(dir);
  return dir;
}

after(() => {
  for (const dir of tempDirs) {
    fs.chmodSync(dir, 0o700);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The documented app.env format: `export NAME='value'`, sorted, `'` written `'\''`. */
function renderAppEnv(vars: Readonly<Record<string, string>>): string {
  return Object.keys(vars)
    .sort()
    .map((name) => `export ${name}='${(vars[name] ?? '').replaceAll("'", "'\\''")}'\n`)
    .join('');
}

/** A fresh SECRETS_DIR holding app.env with `content` (rendered from vars, or literal text). */
function secretsDir(content: string | Readonly<Record<string, string>>, mode = 0o700): string {
  const dir = tempDir(mode);
  fs.writeFileSync(path.join(dir, 'app.env'), typeof content === 'string' ? content : renderAppEnv(content));
  return dir;
}

function shellProblem(shell: Shell): string | undefined {
  const [bin = '', ...rest] = shell.argv;
  const r = spawnSync(bin, [...rest, '-c', 'exit 0']);
  if (r.error) return `${shell.name} is not installed (${r.error.message})`;
  if (r.status !== 0) return `${shell.name} does not start (exit ${r.status})`;
  return undefined;
}

function commandLine(shell: Shell, args: readonly string[], opts: RunOptions): [string, string[]] {
  const [bin = '', ...rest] = [...(opts.prefix ?? []), ...shell.argv, opts.entrypoint ?? ENTRYPOINT, ...args];
  return [bin, rest];
}

function run(shell: Shell, args: readonly string[], opts: RunOptions = {}): Run {
  const [bin, rest] = commandLine(shell, args, opts);
  const r = spawnSync(bin, rest, { env: opts.env ?? { ...BASE_ENV }, cwd: opts.cwd ?? '/', timeout: 10_000 });
  if (r.error) throw new Error(`running the entrypoint with ${shell.name}: ${r.error.message}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

function start(shell: Shell, args: readonly string[], opts: RunOptions = {}): ChildProcess {
  const [bin, rest] = commandLine(shell, args, opts);
  return spawn(bin, rest, {
    env: opts.env ?? { ...BASE_ENV },
    cwd: opts.cwd ?? '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.once('error', reject);
    child.once('close', () => reject(new Error(`exited before printing a line; stdout: ${JSON.stringify(out)}`)));
  });
}

/** Parses `env -0` output; values are decoded strictly, so a changed byte cannot hide behind U+FFFD. */
function parseEnv0(out: Buffer): Map<string, string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const vars = new Map<string, string>();
  let start = 0;
  for (let end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
    const entry = decoder.decode(out.subarray(start, end));
    const eq = entry.indexOf('=');
    vars.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  assert.equal(start, out.length, 'env -0 output ends with a NUL');
  return vars;
}

/** Values no shell should mangle or execute; `sentinel` is a file that executing any of them would create. */
function nastyValues(sentinel: string): Record<string, string> {
  return {
    SINGLE_QUOTES: "it's 'quoted' and '' doubled '",
    QUOTE_ESCAPE: "'\\''",
    QUOTE_BREAKOUT: `'; touch ${sentinel}; '`,
    DOUBLE_QUOTES: 'say "hi" "',
    COMMAND_SUBSTITUTION: `$(touch ${sentinel})`,
    BACKTICKS: '`touch ' + sentinel + '`',
    PARAMETERS: '$HOME ${PATH} $1 $@ $$ $',
    BACKSLASHES: 'C:\\temp\\new\\\\ \\n\\',
    GLOB: '* ? [a-z]* ~',
    NEWLINES: 'line one\nline two\n\n',
    LINE_INJECTION: `\nexport INJECTED='1'\ntouch ${sentinel}\n`,
    CRLF: 'windows\r\nline\r\n',
    BLANKS: '   \t leading and trailing \t   ',
    UNICODE: 'héllo wörld — 日本語 🔑 \u00a0\u200b',
    EMPTY: '',
    OPTION_LIKE: '-n',
    EQUALS: 'a=b=c',
    GCP_JSON: JSON.stringify({ type: 'service_account', private_key: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END' }),
    CANARY: 'canary-3f9d2c71-never-print-me',
  };
}

/** Every failing run: the given status, one line on stderr, the app never started, no value printed. */
function assertFails(r: Run, status: number, line: string | RegExp, values: Readonly<Record<string, string>>): void {
  assert.equal(r.status, status, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout.toString('utf8'), '', 'the app must not have run');
  assert.match(r.stderr, /^[^\n]*\n$/, 'exactly one line on stderr');
  const message = r.stderr.slice(0, -1);
  if (typeof line === 'string') assert.equal(message, line);
  else assert.match(message, line);
  assertNoValuePrinted(r, values);
}

function assertNoValuePrinted(r: Run, values: Readonly<Record<string, string>>): void {
  const printed = r.stdout.toString('utf8') + r.stderr;
  for (const [name, value] of Object.entries(values)) {
    // Short values ("-n", "") could occur by chance; every long one is distinctive.
    if (value.length >= 6) assert.ok(!printed.includes(value), `the value of ${name} was printed: ${printed}`);
  }
}

type OtherUser = { prefix: string[]; uid: number; entrypoint: string };

/**
 * How to run the entrypoint as a uid that file modes apply to. Root reads everything, so as root the
 * entrypoint runs as OTHER_UID through setpriv, from a copy that uid can read wherever the checkout is.
 */
function otherUser(t: TestContext): OtherUser | undefined {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { prefix: [], uid, entrypoint: ENTRYPOINT };
  if (spawnSync('setpriv', ['--version']).error) {
    t.skip('setpriv (util-linux) is not installed: cannot run the entrypoint as a non-root uid');
    return undefined;
  }
  return { prefix: setprivPrefix(), uid: OTHER_UID, entrypoint: reachableCopy(ENTRYPOINT, 0o755, 'entrypoint.sh') };
}

describe('entrypoint.sh as a file', () => {
  it('is shellcheck-clean as POSIX sh', () => {
    const r = spawnSync('shellcheck', ['-s', 'sh', ENTRYPOINT], { encoding: 'utf8' });
    assert.ifError(r.error); // shellcheck missing is a failure, not a skip
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('is executable and starts with #!/bin/sh', () => {
    assert.equal(fs.statSync(ENTRYPOINT).mode & 0o111, 0o111);
    assert.match(fs.readFileSync(ENTRYPOINT, 'utf8'), /^#!\/bin\/sh\n/);
  });
});

for (const shell of SHELLS) {
  const problem = shellProblem(shell);
  const skip = problem !== undefined && !shell.required ? `${problem}; optional shell` : false;

  describe(`entrypoint.sh under ${shell.name}`, { skip }, () => {
    if (problem !== undefined) {
      it(`needs ${shell.name}`, () => assert.fail(`${problem}: the entrypoint must be tested with ${shell.name}`));
      return;
    }

    /** Runs `env -0` through the entrypoint, failing the test unless the app started. */
    function appEnv(env: Record<string, string>, cwd = '/'): Map<string, string> {
      const r = run(shell, ['env', '-0'], { env, cwd });
      assert.equal(r.status, 0, `entrypoint failed: ${r.stderr}`);
      return parseEnv0(r.stdout);
    }

    it('replaces itself with the command, which keeps its PID', async () => {
      const child = start(shell, ['dash', '-c', 'echo $$'], { env: { ...BASE_ENV, SECRETS_DIR: secretsDir({}) } });
      const [line, end] = await Promise.all([firstLine(child), exited(child)]);
      assert.equal(end.code, 0);
      assert.equal(Number(line), child.pid);
    });

    it('delivers SIGTERM to the command itself', { timeout: 10_000 }, async () => {
      const dir = secretsDir({});
      const marker = path.join(dir, 'got-term');
      // Bounded, so that an app orphaned by a shell that did not exec still goes away on its own.
      const loop = 'i=0; while [ $i -lt 150 ]; do sleep 0.02; i=$((i+1)); done';
      const app = `trap 'echo TERM > "$0"; exit 143' TERM; echo ready; ${loop}`;
      const child = start(shell, ['dash', '-c', app, marker], { env: { ...BASE_ENV, SECRETS_DIR: dir } });
      const end = exited(child);
      try {
        assert.equal(await firstLine(child), 'ready');
        child.kill('SIGTERM');
        assert.deepEqual(await end, { code: 143, signal: null });
        assert.equal(fs.readFileSync(marker, 'utf8'), 'TERM\n');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    it('passes the arguments through untouched', () => {
      const args = [
        '',
        ' two  spaces ',
        "it's",
        '"double"',
        '*',
        '?',
        '$HOME',
        '`id`',
        '$(id)',
        'a\nb',
        '--',
        '-e',
        '\\',
        'ü🔑',
        '',
      ];
      const r = run(shell, ['printf', '%s\\0', ...args], { env: { ...BASE_ENV, SECRETS_DIR: secretsDir({}) } });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout, Buffer.from(args.map((a) => a + '\0').join(''), 'utf8'));
    });

    it('gives the app the exact value of every secret and executes none of them', () => {
      const dir = tempDir();
      const sentinel = path.join(dir, 'executed');
      const secrets = nastyValues(sentinel);
      fs.writeFileSync(path.join(dir, 'app.env'), renderAppEnv(secrets));
      fs.writeFileSync(path.join(dir, 'a-file-a-glob-would-match'), '');
      const seen = appEnv({ ...BASE_ENV, SECRETS_DIR: dir }, dir);
      for (const [name, value] of Object.entries(secrets)) assert.equal(seen.get(name), value, name);
      assert.equal(seen.has('INJECTED'), false, 'a newline in a value must not start a new assignment');
      assert.equal(fs.existsSync(sentinel), false, 'a value was executed');
    });

    it('reads the hand-written documented format, including plain assignments (set -a)', () => {
      const dir = secretsDir(
        "export GREETING='it'\\''s a '\\''test'\\'''\nexport MULTI='a\nb'\nPLAIN='exported by set -a'\n",
      );
      const seen = appEnv({ ...BASE_ENV, SECRETS_DIR: dir });
      assert.equal(seen.get('GREETING'), "it's a 'test'");
      assert.equal(seen.get('MULTI'), 'a\nb');
      assert.equal(seen.get('PLAIN'), 'exported by set -a');
    });

    it('adds nothing of its own to the environment of the app', () => {
      const secrets = { API_KEY: 'k', DB_URL: 'postgres://x' };
      const env = { ...BASE_ENV, SECRETS_DIR: secretsDir(secrets), SECRETS_REQUIRED: 'API_KEY, DB_URL', HOME: '/h' };
      // Baseline: what this shell itself adds (PWD, SHLVL, _, ...) when a script simply execs.
      const baseline = path.join(tempDir(0o755), 'baseline.sh');
      fs.writeFileSync(baseline, 'exec "$@"\n');
      const plain = run(shell, ['env', '-0'], { env, entrypoint: baseline });
      assert.equal(plain.status, 0, plain.stderr);
      const expected = [...new Set([...parseEnv0(plain.stdout).keys(), ...Object.keys(secrets)])].sort();
      const seen = appEnv(env);
      assert.deepEqual([...seen.keys()].sort(), expected);
      for (const [name, value] of Object.entries(env)) assert.equal(seen.get(name), value, name);
    });

    it('starts the app when every required name is set and non-empty', () => {
      const secrets = nastyValues('/nonexistent/sentinel');
      const required = Object.keys(secrets).filter((name) => secrets[name] !== '');
      const env = { ...BASE_ENV, SECRETS_DIR: secretsDir(secrets), SECRETS_REQUIRED: ` ${required.join(' , ')} ,` };
      assert.equal(appEnv(env).get('CANARY'), secrets['CANARY']);
    });

    it('fails with exit 1 listing every missing or empty required name, in one line', () => {
      const secrets = { ...nastyValues('/nonexistent/sentinel'), PRESENT: 'yes' };
      const dir = secretsDir(secrets);
      const env = { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_REQUIRED: 'PRESENT, MISSING_ONE ,EMPTY,CANARY,MISSING_TWO' };
      const r = run(shell, FAILING_APP, { env });
      const file = path.join(dir, 'app.env');
      assertFails(
        r,
        1,
        `secrets-entrypoint: required variables missing or empty: MISSING_ONE, EMPTY, MISSING_TWO (from ${file})`,
        secrets,
      );
    });

    it('reads its SECRETS_* settings before sourcing, so app.env cannot turn the check off', () => {
      const secrets = {
        SECRETS_REQUIRED: '',
        SECRETS_OPTIONAL: 'true',
        SECRETS_DIR: '/nonexistent',
        CANARY: 'canary-in-app-env',
      };
      const dir = secretsDir(secrets);
      const r = run(shell, FAILING_APP, { env: { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_REQUIRED: 'NEEDED' } });
      const file = path.join(dir, 'app.env');
      assertFails(r, 1, `secrets-entrypoint: required variables missing or empty: NEEDED (from ${file})`, secrets);
    });

    it('reads no variable after sourcing: helper names, PATH and a bad locale in app.env change nothing', () => {
      const helpers = [...new Set(fs.readFileSync(ENTRYPOINT, 'utf8').match(/\b_se_[a-z]+\b/g) ?? [])];
      assert.ok(helpers.length >= 10, 'the helper variables were not found');
      const secrets: Record<string, string> = {
        ...Object.fromEntries(helpers.map((name) => [name, `canary-helper ${name}`])),
        PATH: '/nonexistent-canary-path', // mksh's printf is not a builtin: a PATH from app.env hides it
        LC_ALL: 'canary-no-such-locale', // bash warns about it, quoting the value
        NEEDED: 'yes',
      };
      const dir = secretsDir(secrets);
      const r = run(shell, ['/usr/bin/env', '-0'], {
        env: { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_REQUIRED: 'NEEDED' },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const seen = parseEnv0(r.stdout);
      for (const [name, value] of Object.entries(secrets)) assert.equal(seen.get(name), value, name);
      const missing = run(shell, FAILING_APP, {
        env: { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_REQUIRED: 'NEEDED,_se_missing,ABSENT' },
      });
      const line = `secrets-entrypoint: required variables missing or empty: ABSENT (from ${path.join(dir, 'app.env')})`;
      assertFails(missing, 1, line, secrets);
    });

    it('rejects an invalid name in SECRETS_REQUIRED without evaluating it', () => {
      const dir = tempDir();
      const secrets = nastyValues(path.join(dir, 'executed-value'));
      fs.writeFileSync(path.join(dir, 'app.env'), renderAppEnv(secrets));
      const sentinel = path.join(dir, 'executed-name');
      const required = `CANARY, 1ST, BAD-NAME, $(touch ${sentinel})`;
      const r = run(shell, FAILING_APP, { env: { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_REQUIRED: required } });
      const bad = `"1ST", "BAD-NAME", "$(touch ${sentinel})"`;
      assertFails(r, 1, `secrets-entrypoint: SECRETS_REQUIRED: not a valid variable name: ${bad}`, secrets);
      assert.equal(fs.existsSync(sentinel), false, 'an invalid name was evaluated');
    });

    it('refuses a missing app.env with exit 1, naming the file', () => {
      const dir = tempDir();
      const r = run(shell, FAILING_APP, { env: { ...BASE_ENV, SECRETS_DIR: dir } });
      const file = path.join(dir, 'app.env');
      assertFails(r, 1, `secrets-entrypoint: ${file} does not exist ${OPTIONAL_HINT}`, {});
    });

    it('reads /run/secrets/app.env when SECRETS_DIR is unset or empty', (t) => {
      if (fs.existsSync('/run/secrets/app.env')) return t.skip('this machine has a /run/secrets/app.env of its own');
      for (const env of [{ ...BASE_ENV }, { ...BASE_ENV, SECRETS_DIR: '' }]) {
        assertFails(run(shell, FAILING_APP, { env }), 1, /^secrets-entrypoint: \/run\/secrets\/app\.env /, {});
      }
    });

    it('starts without a missing app.env when SECRETS_OPTIONAL=true, with a note on stderr', () => {
      const dir = tempDir();
      const r = run(shell, ['printf', APP_RAN], { env: { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_OPTIONAL: 'true' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.toString('utf8'), APP_RAN);
      const file = path.join(dir, 'app.env');
      assert.equal(
        r.stderr,
        `secrets-entrypoint: ${file} does not exist; starting without it (SECRETS_OPTIONAL=true)\n`,
      );
    });

    it('checks SECRETS_REQUIRED against the environment when an optional app.env is missing', () => {
      const dir = tempDir();
      const env = { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_OPTIONAL: 'true', SECRETS_REQUIRED: 'FROM_ENV,ABSENT' };
      const ok = run(shell, ['true'], { env: { ...env, SECRETS_REQUIRED: 'FROM_ENV', FROM_ENV: 'x' } });
      assert.equal(ok.status, 0, ok.stderr);
      const r = run(shell, FAILING_APP, { env: { ...env, FROM_ENV: 'canary-from-env' } });
      assert.equal(r.status, 1);
      const file = path.join(dir, 'app.env');
      assert.match(r.stderr, /; starting without it \(SECRETS_OPTIONAL=true\)\n/);
      assert.ok(
        r.stderr.endsWith(`secrets-entrypoint: required variables missing or empty: ABSENT (${file} not loaded)\n`),
      );
      assertNoValuePrinted(r, { FROM_ENV: 'canary-from-env' });
    });

    it('rejects a SECRETS_OPTIONAL other than true or false', () => {
      for (const value of ['yes', '1', 'TRUE']) {
        const r = run(shell, FAILING_APP, { env: { ...BASE_ENV, SECRETS_DIR: tempDir(), SECRETS_OPTIONAL: value } });
        assertFails(r, 1, 'secrets-entrypoint: SECRETS_OPTIONAL must be "true" or "false"', {});
      }
    });

    it('refuses an app.env its uid cannot read, naming the file and the uid', (t) => {
      const user = otherUser(t);
      if (!user) return;
      const secrets = { CANARY: 'canary-unreadable' };
      const dir = secretsDir(secrets, 0o755);
      const file = path.join(dir, 'app.env');
      fs.chmodSync(file, 0o000);
      const r = run(shell, FAILING_APP, {
        env: { ...BASE_ENV, SECRETS_DIR: dir },
        prefix: user.prefix,
        entrypoint: user.entrypoint,
      });
      const line = `secrets-entrypoint: ${file} is not readable by uid ${user.uid} ${OPTIONAL_HINT}`;
      assertFails(r, 1, line, secrets);
    });

    it('refuses an app.env in a directory its uid cannot enter', (t) => {
      const user = otherUser(t);
      if (!user) return;
      const dir = secretsDir({ CANARY: 'canary-unreachable' });
      fs.chmodSync(dir, 0o000);
      try {
        const r = run(shell, FAILING_APP, {
          env: { ...BASE_ENV, SECRETS_DIR: dir },
          prefix: user.prefix,
          entrypoint: user.entrypoint,
        });
        const file = path.join(dir, 'app.env');
        const line = `secrets-entrypoint: ${file} is not readable by uid ${user.uid}: cannot enter ${dir} ${OPTIONAL_HINT}`;
        assertFails(r, 1, line, { CANARY: 'canary-unreachable' });
      } finally {
        fs.chmodSync(dir, 0o700);
      }
    });

    it('starts without an unreadable app.env when SECRETS_OPTIONAL=true', (t) => {
      const user = otherUser(t);
      if (!user) return;
      const dir = secretsDir({ CANARY: 'canary-unreadable' }, 0o755);
      fs.chmodSync(path.join(dir, 'app.env'), 0o000);
      const env = { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_OPTIONAL: 'true' };
      const r = run(shell, ['env', '-0'], { env, prefix: user.prefix, entrypoint: user.entrypoint });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(parseEnv0(r.stdout).has('CANARY'), false);
      assert.match(
        r.stderr,
        /^secrets-entrypoint: \S+ is not readable by uid \d+; starting without it \(SECRETS_OPTIONAL=true\)\n$/,
      );
    });

    it('refuses a directory in place of app.env', () => {
      const dir = tempDir();
      fs.mkdirSync(path.join(dir, 'app.env'));
      const r = run(shell, FAILING_APP, { env: { ...BASE_ENV, SECRETS_DIR: dir, SECRETS_OPTIONAL: 'true' } });
      assertFails(r, 1, `secrets-entrypoint: ${path.join(dir, 'app.env')} is a directory, not an env file`, {});
    });

    const broken: readonly { what: string; content: string }[] = [
      { what: 'an unterminated quote', content: "export A='ok'\nexport SECRET='canary-broken-value\n" },
      { what: 'an invalid variable name', content: "export 1SECRET='canary-broken-value'\n" },
      { what: 'a failing command', content: "export A='canary-broken-value'\nfalse\nexport B='b'\n" },
      { what: 'an exit', content: "export A='canary-broken-value'\nexit 0\n" },
    ];
    for (const { what, content } of broken) {
      it(`fails with one line and no value when app.env contains ${what}`, () => {
        const dir = secretsDir(content);
        const r = run(shell, FAILING_APP, { env: { ...BASE_ENV, SECRETS_DIR: dir } });
        const file = path.join(dir, 'app.env').replaceAll('.', '\\.');
        assertFails(r, 1, new RegExp(`^secrets-entrypoint: ${file} is not a valid env file: `), {
          SECRET: 'canary-broken-value',
        });
      });
    }

    it('exits 2 with a usage line when no command is given', () => {
      const r = run(shell, [], { env: { ...BASE_ENV, SECRETS_DIR: secretsDir({}) } });
      assertFails(r, 2, 'secrets-entrypoint: no command given; usage: secrets-entrypoint CMD [ARGS...]', {});
    });

    it('exits 127 or 126 naming a command it cannot run', () => {
      const dir = secretsDir({ CANARY: 'canary-command' });
      const env = { ...BASE_ENV, SECRETS_DIR: dir };
      const notExecutable = path.join(dir, 'app.env');
      const cases: readonly [string, number, string][] = [
        ['no-such-command-xyz', 127, 'command not found in PATH'],
        [path.join(dir, 'no-such-file'), 127, 'no such file'],
        [notExecutable, 126, 'not an executable file'],
      ];
      for (const [command, status, reason] of cases) {
        const r = run(shell, [command, 'arg'], { env });
        assertFails(r, status, `secrets-entrypoint: cannot run ${command}: ${reason}`, { CANARY: 'canary-command' });
      }
    });

    it('keeps any string without NUL exact (property: render, source, read back)', () => {
      const special = fc.constantFrom(
        "'",
        '"',
        '\\',
        '$',
        '`',
        '(',
        ')',
        '{',
        '}',
        '\n',
        '\r',
        '\t',
        ' ',
        '*',
        '=',
        ';',
        '#',
        'é',
        '🔑',
      );
      const char = fc.oneof(special, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
      const value = fc.string({ unit: char, maxLength: 40 }).filter((s) => !s.includes('\0') && s.isWellFormed());
      const dir = tempDir();
      fc.assert(
        fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), (values) => {
          const secrets = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
          fs.writeFileSync(path.join(dir, 'app.env'), renderAppEnv(secrets));
          const seen = appEnv({ ...BASE_ENV, SECRETS_DIR: dir });
          for (const [name, v] of Object.entries(secrets)) assert.equal(seen.get(name), v, name);
        }),
        { numRuns: 25 },
      );
    });
  });
}
