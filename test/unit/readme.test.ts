import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CHECK_USAGE } from '../../cli/check-command.ts';
import { INJECT_USAGE } from '../../cli/inject-command.ts';
import { POLICY_USAGE } from '../../cli/policy-command.ts';
import { RENDER_USAGE } from '../../cli/render-command.ts';
import { DENIED_NAMES, DENIED_PREFIXES } from '../../init/deny-list.ts';
import { validateConfig } from '../../shared/config.ts';
import { ExitCode } from '../../shared/errors.ts';
import { WATCH_USAGE } from '../../watcher/watch-settings.ts';
import { ROOT } from '../helpers/cli.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const DEPLOY_PAGE = 'docs/deploy-by-hand.md';
const deployPage = readFileSync(join(ROOT, DEPLOY_PAGE), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');
const anchors = (markdown: string) => new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));

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

  it('lists the whole deny list', () => {
    const section = readme.slice(readme.indexOf('### Validation rules'), readme.indexOf('### dotenv semantics'));
    for (const name of DENIED_NAMES) {
      if (/^PS[1-4]$/.test(name)) continue; // written as `PS1`–`PS4`
      assert.ok(section.includes(`\`${name}\``), `${name} is not in README's deny list`);
    }
    for (const prefix of DENIED_PREFIXES) assert.ok(section.includes(`\`${prefix}*\``), `${prefix}* is not in README`);
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
