import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AwsProxy, startAwsProxy } from '../helpers/aws-proxy.ts';
import { removeDir, runCli, tempDir } from '../helpers/cli.ts';
import { awsEnv, freePort } from '../helpers/moto.ts';

// A config file built to hurt the YAML parser, through the shipped bundle and every command that reads one: a
// usage error (exit 2) in one line naming the file, never "internal error" (exit 1), before any AWS call.

let proxy: AwsProxy;
let work: string;

before(async () => {
  proxy = await startAwsProxy(`http://127.0.0.1:${await freePort()}`);
  work = tempDir('secrets-init-config-');
});
after(async () => {
  await proxy?.close();
  if (work) removeDir(work);
});

const HEAD = 'apiVersion: secrets-init/v1\nkind: SecretsInit\n';

const hostile: { name: string; text: () => string; problem: RegExp }[] = [
  {
    name: 'an alias bomb (9 levels of 9 aliases)',
    text: () => {
      const lines = ['spec:', '  required: [A]', 'x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
      for (let i = 1; i < 10; i++)
        lines.push(
          `x${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(', ')}]`,
        );
      return `${HEAD}${lines.join('\n')}\n`;
    },
    problem: /: invalid YAML: aliases expand to more than 100 nodes \(an alias bomb\?\)$/,
  },
  {
    name: 'flow nesting 50000 deep',
    text: () => `${HEAD}spec: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
    problem: /: invalid YAML at line 3, column \d+ \(nested too deeply\)$/,
  },
  {
    name: 'a document of 2 MiB',
    text: () => `${HEAD}spec:\n  required: [A]\n${'# padding\n'.repeat(200_000)}`,
    problem: /: larger than 128 KiB \(is it the right file\?\)$/,
  },
  {
    name: 'a second document after ---',
    text: () => `${HEAD}spec:\n  required: [A]\n---\nspec:\n  sources: [other]\n`,
    problem: /: invalid YAML at line \d+, column \d+ \(MULTIPLE_DOCS\)$/,
  },
  {
    name: 'a key given twice among 8000',
    text: () =>
      `${HEAD}metadata:\n${Array.from({ length: 8000 }, (_, i) => `  k${i}: v`).join('\n')}\n  k1: again\nspec: {}\n`,
    problem: /: invalid YAML at line 8004, column 3 \(DUPLICATE_KEY\)$/,
  },
];

const commands: { name: string; args: (config: string) => string[]; env: () => Record<string, string> }[] = [
  {
    name: 'render',
    args: (c) => ['render', '--config', c],
    env: () => ({ ...awsEnv(proxy.endpoint), APP_ENV: 'production', SECRETS_DIR: join(work, 'out') }),
  },
  { name: 'watch', args: (c) => ['watch', '--once', '--config', c], env: () => awsEnv(proxy.endpoint) },
  { name: 'check', args: (c) => ['check', '--remote', '--config', c], env: () => awsEnv(proxy.endpoint) },
];

describe('a hostile config file is exit 2 in one line naming the file, before any AWS call', () => {
  for (const h of hostile) {
    for (const c of commands) {
      test(`${c.name}: ${h.name}`, async () => {
        const config = join(work, `${c.name}-${hostile.indexOf(h)}.yaml`);
        writeFileSync(config, h.text());
        proxy.resetCounts();
        const res = await runCli(c.args(config), c.env(), { cwd: work, timeoutMs: 60_000 });
        assert.equal(res.code, 2, `exit code; stderr: ${res.stderr.slice(0, 300)}`);
        const lines = res.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, `one line on stderr, got: ${res.stderr.slice(0, 300)}`);
        assert.ok(lines[0]!.startsWith(`secrets-init ${c.name}: config "${config}": `), lines[0]);
        assert.match(lines[0]!, h.problem);
        assert.deepEqual(proxy.counts(), {}, 'no AWS call');
      });
    }
  }
});
