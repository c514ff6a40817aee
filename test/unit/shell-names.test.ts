// Re-derives, from the shells installed here, every variable name they treat specially, and checks that
// shared/shell-names.ts has it: a new version of a shell cannot slip a name past the list.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  isShellOwned,
  SHELL_NAMES,
  SHELL_NAMES_BY_SHELL,
  SHELL_PREFIXES,
  shellVariable,
} from '../../shared/shell-names.ts';
import { assertShellsInstalled, removeDir, tempDir } from '../helpers/cli.ts';

type Shell = keyof typeof SHELL_NAMES_BY_SHELL;

/** A name a shell reported, and whether an attribute (integer, read-only, array, ...) makes it evaluate or refuse. */
interface Reported {
  readonly shell: Shell;
  readonly name: string;
  readonly how: string;
  readonly attributes: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The loop variable of the probes below: theirs, not the shell's. */
const PROBE_VAR = 'shell_names_probe_';

let dir: string;
before(() => {
  assertShellsInstalled();
  dir = tempDir();
});
after(() => removeDir(dir));

function which(command: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${command} is not installed`);
  return realpathSync(r.stdout.trim());
}

/** Runs a shell in an empty environment, as `env -i` does, and returns its stdout. */
function inEmptyEnv(argv: readonly string[], script: string): string {
  const [command, ...args] = argv;
  const r = spawnSync(which(command!), [...args, script], {
    env: {},
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    // stdin must not be a socket: bash then reads ~/.bashrc as if started by rshd
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(r.status, 0, `${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function reported(shell: Shell, how: string, names: Iterable<string>, attributes = false): Reported[] {
  return [...names].filter((n) => NAME.test(n) && n !== PROBE_VAR).map((name) => ({ shell, name, how, attributes }));
}

/** `NAME=value` lines, as `set` prints them in dash and busybox ash. */
const assignments = (out: string): string[] => [...out.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!);

function bash(argv: readonly string[]): Reported[] {
  const how = `env -i ${argv.join(' ')} -c 'declare -p; compgen -v'`;
  const out = inEmptyEnv([...argv, '-c'], 'declare -p; compgen -v');
  const declared = [...out.matchAll(/^declare -(\S+) ([A-Za-z_][A-Za-z0-9_]*)/gm)];
  const flagged = new Set(declared.filter((m) => /[airAn]/.test(m[1]!)).map((m) => m[2]!));
  const listed = out.split('\n').filter((l) => NAME.test(l));
  return [
    ...reported('bash', how, [...declared.map((m) => m[2]!), ...listed]).map((r) => ({
      ...r,
      attributes: flagged.has(r.name),
    })),
  ];
}

function mksh(): Reported[] {
  const how = "env -i mksh -c 'typeset -p; typeset +'";
  const out = inEmptyEnv(['mksh', '-c'], 'typeset -p; typeset +');
  const typed = [...out.matchAll(/^typeset((?: -\S+)*) ([A-Za-z_][A-Za-z0-9_]*)/gm)];
  const flagged = new Set(typed.filter((m) => /-[a-zA-Z]*[ir]/.test(m[1]!)).map((m) => m[2]!));
  const listed = out.split('\n').filter((l) => NAME.test(l));
  return reported('mksh', how, [...typed.map((m) => m[2]!), ...listed]).map((r) => ({
    ...r,
    attributes: flagged.has(r.name),
  }));
}

/**
 * zsh lists its parameters with their types in `$parameters`: started natively, after `emulate sh`, with
 * `--emulate sh` and as `sh` (each creates a different set), and with every installed module loaded except
 * zsh/example, a demonstration module whose `exint`/`exarr`/`exstr` nobody loads.
 */
function zsh(): Reported[] {
  const list = 'zmodload zsh/parameter; print -rl -- "${(@kv)parameters}"';
  const modulePath = inEmptyEnv(['zsh', '-fc'], 'print -r -- $module_path').trim().split(' ')[0]!;
  const modules = filesUnder(modulePath)
    .filter((f) => f.endsWith('.so'))
    .map((f) => relative(modulePath, f).slice(0, -'.so'.length))
    .filter((m) => m !== 'zsh/example');
  assert.ok(modules.length >= 20, `only ${modules.length} zsh modules found in ${modulePath}`);
  const loadAll = `for ${PROBE_VAR} in ${modules.join(' ')}; do zmodload $${PROBE_VAR} 2>/dev/null; done; unset ${PROBE_VAR}`;
  const runs: [string, readonly string[], string][] = [
    ['env -i zsh -c', ['zsh', '-c'], list],
    ["env -i zsh -c 'emulate sh'", ['zsh', '-c'], `emulate sh; ${list}`],
    ['env -i zsh --emulate sh -c', ['zsh', '--emulate', 'sh', '-c'], list],
    ['env -i ARGV0=sh zsh -c', ['zsh', '-c'], `ARGV0=sh exec zsh -c '${list}'`],
    ['env -i zsh -c with every module loaded', ['zsh', '-c'], `${loadAll}; ${list}`],
    ['env -i zsh -c zmodload -ap', ['zsh', '-c'], 'zmodload -ap'],
  ];
  return runs.flatMap(([how, argv, script]) => {
    const out = inEmptyEnv(argv, script).split('\n');
    if (script === 'zmodload -ap')
      return reported(
        'zsh',
        how,
        out.map((l) => l.split(' ')[0]!),
      );
    const types = new Map<string, string>();
    for (let i = 0; i + 1 < out.length; i += 2) types.set(out[i]!, out[i + 1]!);
    return reported('zsh', how, types.keys()).map((r) => ({
      ...r,
      attributes: /integer|float|readonly|array|association/.test(types.get(r.name)!),
    }));
  });
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(root, e.name)) : [join(root, e.name)],
  );
}

/**
 * Names a shell sets but does not list (busybox's `RANDOM` and `EPOCH*` are dynamic and hidden from `set`):
 * every identifier in the shell's own executable (each ending a C string or followed by `=`, and each of
 * its suffixes, as the linker shares string tails) is tested with `${NAME+set}` in an empty environment.
 */
function setButUnlisted(shell: Shell, argv: readonly string[]): Reported[] {
  const binary = readFileSync(which(argv[0]!)).toString('latin1');
  const candidates = new Set<string>();
  for (const [word] of binary.matchAll(/[A-Za-z_][A-Za-z0-9_]*(?=[\0=])/g)) {
    for (let i = 0; i < word.length; i++) if (NAME.test(word.slice(i))) candidates.add(word.slice(i));
  }
  candidates.delete(PROBE_VAR);
  const list = join(dir, `candidates-${argv[0]}.txt`);
  writeFileSync(list, `${[...candidates].join('\n')}\n`);
  // Read line by line: bash parses a `for` over a 26,000-word list in quadratic time.
  const script = join(dir, `probe-${argv[0]}.sh`);
  writeFileSync(
    script,
    `while read -r ${PROBE_VAR}; do\n` +
      `  eval "[ \\"\\\${$${PROBE_VAR}+set}\\" = set ]" && echo "$${PROBE_VAR}"\n` +
      `done < '${list}'\nexit 0\n`,
  );
  const out = inEmptyEnv([...argv], script);
  return reported(shell, `\${NAME+set} in env -i ${argv.join(' ')} over its executable's strings`, out.split('\n'));
}

function derive(): Reported[] {
  return [
    ...reported('dash', "env -i dash -c 'set'", assignments(inEmptyEnv(['dash', '-c'], 'set'))),
    ...reported('busybox ash', "env -i busybox ash -c 'set'", assignments(inEmptyEnv(['busybox', 'ash', '-c'], 'set'))),
    ...bash(['bash']),
    ...bash(['bash', '--posix']),
    ...mksh(),
    ...zsh(),
    ...setButUnlisted('dash', ['dash']),
    ...setButUnlisted('bash', ['bash']),
    ...setButUnlisted('busybox ash', ['busybox', 'ash']),
    ...setButUnlisted('mksh', ['mksh']),
    ...setButUnlisted('zsh', ['zsh']),
  ];
}

describe('shell names: the list holds every name the installed shells treat specially', () => {
  let found: Reported[] = [];
  before(() => {
    found = derive();
  });

  it('finds the names the issue names, so that the probes themselves work', () => {
    const names = new Set(found.map((r) => r.name));
    for (const name of ['OPTIND', 'RANDOM', 'SECONDS', 'LINENO', 'HISTCMD', 'EPOCHSECONDS', 'USERNAME', 'path']) {
      assert.ok(names.has(name), `${name} was not derived from any shell`);
    }
    for (const shell of Object.keys(SHELL_NAMES_BY_SHELL)) {
      assert.ok(
        found.some((r) => r.shell === shell && r.name === 'PATH'),
        `${shell} reported no PATH`,
      );
    }
    const busyboxDynamic = found.filter((r) => r.shell === 'busybox ash' && r.how.includes('strings'));
    assert.ok(
      busyboxDynamic.some((r) => r.name === 'RANDOM'),
      "busybox's hidden RANDOM was not found",
    );
  });

  it('has every name each shell reports, under that shell or its prefix', () => {
    const missing = found
      .filter((r) => !SHELL_NAMES_BY_SHELL[r.shell]!.has(r.name) && !SHELL_PREFIXES.some((p) => r.name.startsWith(p)))
      .map((r) => `${r.name} (${r.shell}: ${r.how})`);
    assert.deepEqual([...new Set(missing)], [], 'add these to shared/shell-names.ts');
  });

  it('never lets spec.allowKeys allow a name that a shell gives an integer, read-only or array attribute', () => {
    const allowable = found.filter((r) => r.attributes && !isShellOwned(r.name)).map((r) => `${r.name} (${r.how})`);
    assert.deepEqual([...new Set(allowable)], []);
  });

  it('names the shells in the message, and every listed name is owned or allowable by design', () => {
    assert.equal(shellVariable('RANDOM'), 'is a shell variable (special in bash, busybox ash, mksh, zsh)');
    assert.equal(shellVariable('BASH_NEW_IN_6'), 'is a shell variable (special in bash)');
    for (const name of SHELL_NAMES) assert.ok(NAME.test(name), `"${name}" is not a variable name`);
  });
});
