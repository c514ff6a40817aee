// Every variable name a supported shell treats specially, with hostile values, through the shipped bundle (the
// SDK against moto) and the real entrypoint in all five shells: either render refuses the key (exit 4, key
// named, value never shown), or the app gets the exact value and nothing was executed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DENIED_NAMES, DENIED_PREFIXES, keyRule } from '../../init/deny-list.ts';
import { isShellOwned, SHELL_NAMES, SHELL_PREFIXES } from '../../shared/shell-names.ts';
import { assertShellsInstalled, leakedValues, ROOT, removeDir, runCli, seedValues, tempDir } from '../helpers/cli.ts';
import { awsEnv, clientOptions, type Moto, startMoto } from '../helpers/moto.ts';

const ENTRYPOINT = join(ROOT, 'init', 'entrypoint.sh');

/** The five shells, each running the entrypoint the way an app image would with it as /bin/sh. */
const SHELLS: readonly { name: string; argv: readonly string[] }[] = [
  { name: 'dash', argv: ['dash'] },
  { name: 'bash --posix', argv: ['bash', '--posix'] },
  { name: 'busybox ash', argv: ['busybox', 'sh'] },
  { name: 'mksh', argv: ['mksh'] },
  // emulate sh after start-up, so that zsh's own specials (path, USERNAME, ...) exist, as they do for a script
  // that switches to sh emulation itself
  { name: 'zsh (emulate sh)', argv: ['zsh', '-c', 'emulate sh; . "$0"'] },
];

let moto: Moto;
let sm: SecretsManagerClient;
let work: string;
let marker: string;

/**
 * Values that run `touch MARKER` if a shell evaluates them as arithmetic (an array subscript), as a command
 * substitution, or at all; and plain ones that show a value being changed (arithmetic, integers). touch is
 * called by its full path, so a hostile PATH earlier in app.env cannot hide an execution.
 */
function hostileValues(): string[] {
  const touch = `${spawnSync('sh', ['-c', 'command -v touch'], { encoding: 'utf8' }).stdout.trim()} ${marker}`;
  return [`PPID[$(${touch})]`, `a[$(${touch})]`, `$(${touch})`, `\`${touch}\``, '1', 'x', '1+1', ''];
}

/** One made-up name per prefix a shell owns, for the names a later version adds. */
const PREFIXED = SHELL_PREFIXES.map((p) => `${p}NOT_YET_INVENTED`);

/** The union list: every name any supported shell treats specially, and a sample of each shell's prefixes. */
const shellOwned = [...SHELL_NAMES].filter(isShellOwned).concat(PREFIXED).sort();
/** Shell names that exist for the app and may be allowed, with the entrypoint's own settings and helpers. */
const allowable = [...SHELL_NAMES]
  .filter((n) => !isShellOwned(n))
  .concat(
    ['SECRETS_DIR', 'SECRETS_REQUIRED', 'SECRETS_OPTIONAL'],
    ['LC_NOT_YET_INVENTED'],
    // the entrypoint's helper variables: a secret may use these names too
    [...new Set(readFileSync(ENTRYPOINT, 'utf8').match(/\b_se_[a-z]+\b/g) ?? [])],
  )
  .sort();

async function createSecret(name: string, value: Record<string, string>): Promise<void> {
  await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
}

function render(secret: string, configYaml?: string) {
  const out = join(work, secret, 'out');
  const env: Record<string, string> = { ...awsEnv(moto.endpoint), APP_ENV: 'production', SECRETS_DIR: out };
  if (configYaml === undefined) env.SECRET_NAME = secret;
  else {
    const config = join(work, `${secret}.yaml`);
    writeFileSync(config, configYaml);
    env.SECRETS_CONFIG = config;
  }
  return { out, result: runCli([], env, { cwd: work }) };
}

const config = (secret: string, allowKeys: readonly string[]) =>
  `apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [${JSON.stringify(secret)}]\n` +
  `  allowKeys:\n${allowKeys.map((k) => `    - ${k}\n`).join('')}`;

/** Runs the entrypoint with `env -0` as the app; returns the app's environment. */
function appEnv(shell: (typeof SHELLS)[number], secretsDir: string): { env: Map<string, string>; stderr: string } {
  const [command, ...args] = shell.argv;
  const r = spawnSync(command!, [...args, ENTRYPOINT, '/usr/bin/env', '-0'], {
    env: { PATH: process.env.PATH, SECRETS_DIR: secretsDir },
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(r.status, 0, `${shell.name}: the entrypoint failed (${r.status}): ${r.stderr.toString()}`);
  const env = new Map<string, string>();
  for (const entry of r.stdout.toString('utf8').split('\0').slice(0, -1)) {
    env.set(entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1));
  }
  return { env, stderr: r.stderr.toString('utf8') };
}

before(async () => {
  assertShellsInstalled();
  moto = await startMoto();
  sm = new SecretsManagerClient(clientOptions(moto.endpoint));
  work = tempDir();
  marker = join(work, 'EXECUTED');
  seedValues(hostileValues());
});
after(async () => {
  sm.destroy();
  await moto.stop();
  removeDir(work);
});

describe('shell-special names: refused, or exact and inert in all five shells', () => {
  test('the lists under test are the whole class', () => {
    assert.ok(shellOwned.length > 250, `only ${shellOwned.length} shell-owned names`);
    for (const name of ['OPTIND', 'RANDOM', 'SECONDS', 'HISTCMD', 'LINENO', '_', 'EPOCHSECONDS', 'USERNAME']) {
      assert.ok(shellOwned.includes(name), name);
    }
    for (const name of ['KSH_VERSION', 'path', 'cdpath', 'fpath', 'manpath', 'mailpath', 'module_path', 'psvar']) {
      assert.ok(shellOwned.includes(name), name);
    }
    for (const name of allowable) assert.notEqual(keyRule(name), 'shell', name);
    for (const name of allowable.filter((n) => !n.startsWith('_se_'))) {
      assert.ok(DENIED_NAMES.has(name) || DENIED_PREFIXES.some((p) => name.startsWith(p)), `${name} is not denied`);
    }
  });

  test('every shell-owned name is refused with exit 4 whatever its value, naming each key and no value', async () => {
    for (const [i, value] of hostileValues().entries()) {
      const secret = `shell-owned-${i}`;
      await createSecret(secret, Object.fromEntries(shellOwned.map((n) => [n, value])));
      const { out, result } = render(secret);
      const res = await result;
      assert.equal(res.code, 4, `value #${i}: ${res.stderr.slice(0, 300)}`);
      assert.match(res.stderr, /^[^\n]+\n$/, 'one line on stderr');
      for (const name of shellOwned) {
        assert.ok(res.stderr.includes(`key "${name}" from secret "${secret}" is a shell variable`), name);
      }
      if (value.length >= 8) assert.ok(!`${res.stdout}${res.stderr}`.includes(value), `value #${i} was shown`);
      assert.equal(existsSync(out) && readdirSync(out).length > 0, false, 'nothing is written');
    }
    assert.equal(existsSync(marker), false, 'a value was executed');
  });

  test('spec.allowKeys naming a shell-owned name is a config error (exit 2) naming each', async () => {
    const { result } = render('allow-shell-owned', config('allow-shell-owned', ['PATH', ...shellOwned]));
    const res = await result;
    assert.equal(res.code, 2, res.stderr.slice(0, 300));
    assert.match(res.stderr, /^[^\n]+\n$/, 'one line on stderr');
    shellOwned.forEach((name, i) => {
      const problem = `spec.allowKeys[${i + 1}]: "${name}" is a shell variable`;
      assert.ok(res.stderr.includes(problem), problem);
    });
    assert.ok(!res.stderr.includes('spec.allowKeys[0]'), 'PATH may be allowed');
  });

  test('every allowable name, allowed, reaches the app exactly in all five shells and executes nothing', async () => {
    for (const [i, value] of hostileValues().entries()) {
      const secret = `allowable-${i}`;
      await createSecret(secret, Object.fromEntries(allowable.map((n) => [n, value])));
      const denied = allowable.filter((n) => keyRule(n) === 'denied');
      const { out, result } = render(secret, config(secret, denied));
      const res = await result;
      assert.equal(res.code, 0, `value #${i}: ${res.stderr.slice(0, 300)}`);
      for (const shell of SHELLS) {
        const app = appEnv(shell, out);
        for (const name of allowable) {
          assert.equal(app.env.get(name), value, `${shell.name}: ${name} with value #${i}`);
        }
        assert.equal(app.stderr, '', `${shell.name}: the entrypoint printed something`);
        assert.equal(existsSync(marker), false, `${shell.name}: value #${i} was executed`);
      }
      rmSync(join(work, secret), { recursive: true, force: true });
    }
    assert.deepEqual(leakedValues(), []);
  });
});
