import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { RENDER_USAGE } from '../../cli/render-command.ts';
import { DENIED_NAMES, DENIED_PREFIXES } from '../../init/deny-list.ts';
import { validateConfig } from '../../shared/config.ts';
import { ExitCode } from '../../shared/errors.ts';
import { ROOT } from '../helpers/cli.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

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
