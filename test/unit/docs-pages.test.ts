import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CHECK_USAGE } from '../../cli/check-command.ts';
import { INJECT_USAGE } from '../../cli/inject-command.ts';
import { POLICY_USAGE } from '../../cli/policy-command.ts';
import { RENDER_USAGE } from '../../cli/render-command.ts';
import { WATCH_USAGE } from '../../cli/watch-command.ts';
import { DENIED_NAMES, DENIED_PREFIXES, keyRule } from '../../init/deny-list.ts';
import { validateConfig } from '../../shared/config.ts';
import { ExitCode } from '../../shared/errors.ts';
import { LOG_EVENTS } from '../../shared/log-events.ts';
import { isShellOwned, SHELL_NAMES, SHELL_PREFIXES } from '../../shared/shell-names.ts';
import { ROOT } from '../helpers/cli.ts';
import { section } from '../helpers/markdown.ts';

// Each fact the code defines is stated on one docs page; these keep that page in step with the code.

const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');
const USAGE: Record<string, string> = {
  render: RENDER_USAGE,
  watch: WATCH_USAGE,
  inject: INJECT_USAGE,
  policy: POLICY_USAGE,
  check: CHECK_USAGE,
};
/** The flags a usage text lists (`  --name`, at the start of an option line). */
const flagsOf = (usage: string) => [...usage.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
const ticked = (text: string, name: string) => text.includes(`\`${name}\``) || text.includes(`\`${name} `);

describe('docs/configuration.md', () => {
  const page = read('docs/configuration.md');

  it("documents every environment variable and flag of render's usage text", () => {
    const table = section(page, '## `secrets-init render` (the default command)');
    const envVars = [...RENDER_USAGE.matchAll(/\[([A-Z_]+)\]/g)]
      .map((m) => m[1]!)
      .filter((n) => n !== 'OPTIONS' && !n.startsWith('_'));
    const flags = flagsOf(RENDER_USAGE);
    assert.ok(envVars.length >= 10 && flags.length >= 10);
    for (const name of [...envVars, ...flags]) assert.ok(ticked(table, name), `${name} is not in the render table`);
  });

  it('has a YAML config example that validates', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section(page, '## The YAML config'))?.[1];
    assert.ok(yaml, 'no YAML example');
    const result = validateConfig(parse(yaml));
    assert.ok('config' in result, 'problems' in result ? result.problems.join('; ') : '');
  });
});

describe('docs/outputs.md', () => {
  it('documents every exit code in its table', () => {
    const codes = section(read('docs/outputs.md'), '## Exit codes');
    for (const code of Object.values(ExitCode)) assert.match(codes, new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });
});

describe('docs/security.md: validation rules', () => {
  const rules = section(read('docs/security.md'), '## Validation rules (exit 4)');
  const bullet = (start: string) => {
    const from = rules.indexOf(start);
    assert.ok(from >= 0, `no bullet "${start}"`);
    return rules.slice(from, rules.indexOf('\n- ', from));
  };
  const names = (text: string) => [...text.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]!);
  const owned = bullet('- a key that a supported shell owns');
  const denied = bullet('- a key on the deny list');

  it('lists the whole deny list, and nothing else there', () => {
    for (const name of DENIED_NAMES) {
      const prefix = DENIED_PREFIXES.find((p) => name.startsWith(p));
      const listed = denied.includes(`\`${name}\``) || (prefix && denied.includes(`\`${prefix}*\``));
      assert.ok(listed, `${name} is not in the deny list`);
    }
    for (const prefix of DENIED_PREFIXES) assert.ok(denied.includes(`\`${prefix}*\``), `${prefix}* is not listed`);
    for (const name of names(denied)) {
      if (name === 'envVar') continue;
      assert.equal(keyRule(name), 'denied', `the page lists ${name} as deny-listed`);
    }
  });

  it('gives the count of shell-owned names and their prefixes, and only shell-owned examples', () => {
    const count = [...SHELL_NAMES].filter(isShellOwned).length;
    assert.ok(owned.includes(`These are the ${count} names`), `the page must say "These are the ${count} names"`);
    for (const prefix of SHELL_PREFIXES) assert.ok(owned.includes(`\`${prefix}*\``), `${prefix}* is not listed`);
    const examples = names(owned).filter((n) => !['allowKeys', 'required', 'rename', 'key', 'envVar'].includes(n));
    assert.ok(examples.length >= 30);
    for (const name of examples) assert.ok(isShellOwned(name), `the page gives ${name} as a shell-owned name`);
    for (const ps of ['PS1', 'PS4']) assert.ok(isShellOwned(ps)); // written `PS1`–`PS4`
  });
});

describe('the command pages document every flag', () => {
  const pages: [command: string, page: string, heading: string][] = [
    ['watch', 'docs/watcher.md', '## Options'],
    [
      'inject',
      'docs/inject-policy-check.md',
      '## `secrets-init inject`: wire the init container into your task definition',
    ],
    ['policy', 'docs/inject-policy-check.md', '## `secrets-init policy`: least-privilege IAM for a config'],
    ['check', 'docs/inject-policy-check.md', '## `secrets-init check`: validate a config, and the secrets it names'],
  ];
  for (const [command, page, heading] of pages) {
    it(`${command}: ${page}`, () => {
      const text = section(read(page), heading);
      const flags = flagsOf(USAGE[command]!).filter((f) => f !== '--help');
      assert.ok(flags.length >= 3);
      // In the text or in an example command.
      for (const flag of flags) {
        assert.match(text, new RegExp(`${flag}(?![a-z-])`), `${flag} of ${command} is not under "${heading}"`);
      }
    });
  }
});

describe('docs/logs.md', () => {
  /** Each table row's event: the levels its level column names, and the fields its fields column lists in order. */
  function documented(): Map<string, { levels: string[]; fields: string[] }> {
    const rows = new Map<string, { levels: string[]; fields: string[] }>();
    for (const line of read('docs/logs.md').split('\n')) {
      const m = /^\| `([a-z-]+\.[a-z-]+)` \|([^|]*)\|([^|]*)\|/.exec(line);
      if (!m) continue;
      const [, event, level, fields] = m;
      const row = {
        levels: [...new Set(level!.match(/\b(?:info|warn|error)\b/g))].sort(),
        // The names in backticks, not those in parentheses (values, notes: `mode` (`once`, `loop`)).
        fields: [...fields!.replace(/\([^)]*\)/g, '').matchAll(/`([^`]+)`/g)].map((f) => f[1]!),
      };
      const earlier = rows.get(event!);
      if (earlier) assert.deepEqual(row, earlier, `${event}: its rows in two tables differ`);
      rows.set(event!, row);
    }
    return rows;
  }

  it('has a row for every event of the catalog (shared/log-events.ts), and no other', () => {
    assert.deepEqual([...documented().keys()].sort(), Object.keys(LOG_EVENTS).sort());
  });

  for (const [event, spec] of Object.entries(LOG_EVENTS)) {
    it(`${event}: its levels and its fields, in the order a line has them`, () => {
      const row = documented().get(event);
      assert.ok(row, `no row for ${event}`);
      assert.deepEqual(row.levels, [...spec.levels].sort(), `the levels of ${event}`);
      const bound: readonly string[] = 'bound' in spec ? spec.bound : [];
      assert.deepEqual(row.fields, [...bound, ...spec.fields], `the fields of ${event}`);
    });
  }
});

describe('docs/development.md', () => {
  it('names every file of the product folders in its code map, and only files that are there', () => {
    const map = /```\n([\s\S]*?)```/.exec(section(read('docs/development.md'), '## The code map in full'))?.[1] ?? '';
    const listed = new Set<string>();
    let dir = '';
    for (const line of map.split('\n')) {
      const top = /^([a-z]+)\/ /.exec(line);
      if (top) dir = top[1]!;
      else if (line.startsWith('  '))
        for (const [name] of line.matchAll(/[\w-]+\.(?:ts|sh)\b/g)) listed.add(`${dir}/${name}`);
    }
    const files = ['cli', 'shared', 'init', 'watcher', 'ops'].flatMap((d) =>
      readdirSync(join(ROOT, d))
        .filter((f) => /\.(ts|sh)$/.test(f))
        .map((f) => `${d}/${f}`),
    );
    assert.deepEqual([...listed].sort(), files.sort());
  });
});

describe('every page runs the CLI as node dist/secrets-init.mjs, with flags its command has', () => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((p) =>
    p.endsWith('.md'),
  );
  for (const page of pages) {
    it(page, () => {
      const calls = [...read(page).matchAll(/node dist\/secrets-init\.mjs (\w+)((?:.*\\\n)*.*)/g)];
      for (const [, command, rest] of calls) {
        if (command === 'COMMAND') continue; // the placeholder of "how to run it"
        assert.ok(USAGE[command!], `${page}: unknown command ${command}`);
        for (const [flag] of rest!.matchAll(/--[a-z-]+/g)) {
          assert.ok(USAGE[command!]!.includes(`${flag} `), `${page}: ${command} has no ${flag}`);
        }
      }
    });
  }
});
