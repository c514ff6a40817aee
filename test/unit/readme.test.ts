import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
import { isShellOwned, SHELL_NAMES, SHELL_PREFIXES } from '../../shared/shell-names.ts';
import { ROOT } from '../helpers/cli.ts';
import { anchors } from '../helpers/markdown.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DEPLOY_PAGE = 'docs/deploy-by-hand.md';
const deployPage = readFileSync(join(ROOT, DEPLOY_PAGE), 'utf8');

/** README is the operator's reference: these keep it from drifting away from the CLI. */
describe('README matches the CLI', () => {
  it('starts with the two commands of a fresh machine', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    assert.match(firstBlock, /^npm ci && npm run demo\b/m);
    assert.match(firstBlock, /^npm test\b/m);
  });

  it('documents every environment variable and flag of render', () => {
    const envVars = [...RENDER_USAGE.matchAll(/\[([A-Z_]+)\]/g)]
      .map((m) => m[1]!)
      .filter((n) => n !== 'OPTIONS' && !n.startsWith('_'));
    const flags = [...RENDER_USAGE.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
    assert.ok(envVars.length >= 10 && flags.length >= 10);
    for (const name of [...envVars, ...flags]) assert.ok(readme.includes(`\`${name}\``), `${name} is not in README`);
  });

  it('documents every exit code', () => {
    for (const code of Object.values(ExitCode)) assert.match(readme, new RegExp(`^\\| \`${code}\` \\|`, 'm'));
  });

  it('has a YAML config example that validates', () => {
    const section = readme.slice(readme.indexOf('### The YAML config'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(yaml, 'no YAML example');
    const result = validateConfig(parse(yaml));
    assert.ok('config' in result, 'problems' in result ? result.problems.join('; ') : '');
  });

  describe('validation rules', () => {
    const section = readme.slice(readme.indexOf('### Validation rules'), readme.indexOf('### dotenv semantics'));
    const bullet = (start: string) => {
      const from = section.indexOf(start);
      assert.ok(from >= 0, `no bullet "${start}"`);
      return section.slice(from, section.indexOf('\n- ', from));
    };
    const names = (text: string) => [...text.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]!);
    const owned = bullet('- a key that a supported shell owns');
    const denied = bullet('- a key on the deny list');

    it('lists the whole deny list, and nothing else there', () => {
      for (const name of DENIED_NAMES) {
        const prefix = DENIED_PREFIXES.find((p) => name.startsWith(p));
        const listed = denied.includes(`\`${name}\``) || (prefix && denied.includes(`\`${prefix}*\``));
        assert.ok(listed, `${name} is not in README`);
      }
      for (const prefix of DENIED_PREFIXES) assert.ok(denied.includes(`\`${prefix}*\``), `${prefix}* is not in README`);
      for (const name of names(denied)) {
        if (name === 'envVar') continue;
        assert.equal(keyRule(name), 'denied', `README lists ${name} as deny-listed`);
      }
    });

    it('gives the count of shell-owned names and their prefixes, and only shell-owned examples', () => {
      const count = [...SHELL_NAMES].filter(isShellOwned).length;
      assert.ok(owned.includes(`These are the ${count} names`), `README must say "These are the ${count} names"`);
      for (const prefix of SHELL_PREFIXES) assert.ok(owned.includes(`\`${prefix}*\``), `${prefix}* is not in README`);
      const examples = names(owned).filter((n) => !['allowKeys', 'required', 'rename', 'key', 'envVar'].includes(n));
      assert.ok(examples.length >= 30);
      for (const name of examples) assert.ok(isShellOwned(name), `README gives ${name} as a shell-owned name`);
      for (const ps of ['PS1', 'PS4']) assert.ok(isShellOwned(ps)); // written `PS1`–`PS4`
    });
  });
});

/** docs/deploy-by-hand.md now owns the deploy commands (test/integration/deploy-by-hand.test.ts runs them). */
describe('README and the deploy page point at each other, and the page matches the CLI', () => {
  it('README links the page from its deploy section', () => {
    const section = readme.slice(readme.indexOf('## Deploying on ECS'), readme.indexOf('## Local development'));
    assert.ok(section.includes(`](${DEPLOY_PAGE})`), 'README links docs/deploy-by-hand.md');
  });

  const links: [string, string, string][] = [
    ...[...readme.matchAll(/\]\(docs\/deploy-by-hand\.md#([^)]+)\)/g)].map(
      (m) => ['README', DEPLOY_PAGE, m[1]!] as [string, string, string],
    ),
    ...[...deployPage.matchAll(/\]\(\.\.\/README\.md#([^)]+)\)/g)].map(
      (m) => [DEPLOY_PAGE, 'README', m[1]!] as [string, string, string],
    ),
    ...[...deployPage.matchAll(/\]\(#([^)]+)\)/g)].map(
      (m) => [DEPLOY_PAGE, DEPLOY_PAGE, m[1]!] as [string, string, string],
    ),
  ];
  it('every anchor either links to is a heading of its target', () => {
    assert.ok(links.length >= 15, `only ${links.length} links`);
    const targets: Record<string, Set<string>> = { README: anchors(readme), [DEPLOY_PAGE]: anchors(deployPage) };
    for (const [from, to, hash] of links)
      assert.ok(targets[to]!.has(hash), `${from} links ${to}#${hash}: no such heading`);
  });

  it('runs the CLI as node dist/secrets-init.mjs with flags the commands have', () => {
    const usage: Record<string, string> = {
      render: RENDER_USAGE,
      watch: WATCH_USAGE,
      inject: INJECT_USAGE,
      policy: POLICY_USAGE,
      check: CHECK_USAGE,
    };
    const calls = [...deployPage.matchAll(/node dist\/secrets-init\.mjs (\w+)((?:.*\\\n)*.*)/g)];
    assert.ok(calls.length >= 4, 'the page runs the CLI');
    for (const [, command, rest] of calls) {
      assert.ok(usage[command!], `unknown command ${command}`);
      for (const [flag] of rest!.matchAll(/--[a-z-]+/g)) {
        assert.ok(usage[command!]!.includes(`${flag} `), `${command} has no ${flag}`);
      }
    }
  });
});
