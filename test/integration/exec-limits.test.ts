// The limits of exec, held by render: what render accepts, the entrypoint can exec in every shell; what it cannot
// exec, render refuses (exit 4) instead of exiting 0 and leaving an app that never starts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXEC_ENV_BUDGET, EXEC_STRING_MAX } from '../../init/exec-limits.ts';
import { assertShellsInstalled, ROOT, removeDir, runCli, tempDir } from '../helpers/cli.ts';

const ENTRYPOINT = join(ROOT, 'init', 'entrypoint.sh');
const SHELLS = [['dash'], ['bash', '--posix'], ['busybox', 'sh'], ['mksh'], ['zsh', '--emulate', 'sh']] as const;

let work: string;
before(() => {
  assertShellsInstalled();
  work = tempDir();
});
after(() => removeDir(work));

/** Renders the dotenv `vars` (local mode) into a fresh directory. */
async function render(vars: Record<string, string>) {
  const dir = join(work, `case-${Math.random().toString(16).slice(2)}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, '.env'),
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  const res = await runCli([], { APP_ENV: 'local', DOTENV_PATH: join(dir, '.env'), SECRETS_DIR: join(dir, 'out') });
  return { ...res, out: join(dir, 'out') };
}

/** Runs the entrypoint in `shell` and execs a shell that prints the lengths of `names`. */
function execThrough(shell: readonly string[], out: string, names: readonly string[]) {
  const app = ['dash', '-c', `printf '%s ' ${names.map((n) => `"\${#${n}}"`).join(' ')}`];
  const [bin, ...pre] = shell;
  return spawnSync(bin!, [...pre, ENTRYPOINT, ...app], {
    env: { PATH: process.env.PATH, SECRETS_DIR: out },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
}

/** The longest value `name` can hold: `NAME=value` and its NUL fill MAX_ARG_STRLEN exactly. */
const longest = (name: string) => EXEC_STRING_MAX - name.length - 2;

describe('one variable: Linux MAX_ARG_STRLEN', () => {
  test('a value that exactly fills it renders, and the entrypoint execs with it in every shell', async () => {
    const res = await render({ BIG: 'x'.repeat(longest('BIG')) });
    assert.equal(res.code, 0, res.stderr);
    for (const shell of SHELLS) {
      const r = execThrough(shell, res.out, ['BIG']);
      assert.equal(r.status, 0, `${shell.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, `${longest('BIG')} `, shell.join(' '));
    }
  });

  test('one byte more is refused (exit 4) naming the key and its size, and nothing is written', async () => {
    const res = await render({ SMALL: 'ok', BIG: 'x'.repeat(longest('BIG') + 1) });
    assert.equal(res.code, 4, res.stderr);
    assert.equal(res.stderr.trimEnd().split('\n').length, 1);
    assert.match(res.stderr, /key "BIG" from dotenv "[^"]+" is 131073 bytes as NAME=value; exec passes at most 131072/);
    assert.match(res.stderr, /map it to a file/);
    assert.equal(existsSync(join(res.out, 'app.env')), false);
  });

  test("the limit is the kernel's: a hand-written app.env one byte over it cannot be exec'd", () => {
    const out = join(work, 'by-hand');
    mkdirSync(out);
    writeFileSync(join(out, 'app.env'), `export BIG='${'x'.repeat(longest('BIG') + 1)}'\n`);
    const r = execThrough(['dash'], out, ['BIG']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Argument list too long|too long/i);
  });
});

describe('all variables: the share of the exec limit', () => {
  const fill = (n: number, size: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`BIG_${i}`, 'x'.repeat(size)]));
  const size = 120 * 1024;
  const fits = Math.floor(EXEC_ENV_BUDGET / (size + 16));

  test(`${fits} values of 120 KiB render, and the entrypoint execs with all of them in every shell`, async () => {
    const res = await render(fill(fits, size));
    assert.equal(res.code, 0, res.stderr);
    for (const shell of SHELLS) {
      const r = execThrough(shell, res.out, ['BIG_0', `BIG_${fits - 1}`]);
      assert.equal(r.status, 0, `${shell.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, `${size} ${size} `, shell.join(' '));
    }
  });

  test(`${fits + 1} values of 120 KiB are refused (exit 4) naming the total and the largest keys`, async () => {
    const res = await render(fill(fits + 1, size));
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /app\.env variables take \d+ bytes of the exec limit, at most 1048576/);
    assert.match(res.stderr, /BIG_\d+ \(\d+ bytes\)/);
  });
});
