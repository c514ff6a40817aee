import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_COMMAND_OPTIONS, type ConfigCommandLine, configCommand, configPathOf } from '../../cli/command-line.ts';
import { fakeCliIo } from '../fakes/cli-io.ts';

const OPTIONS = { ...CONFIG_COMMAND_OPTIONS, once: { type: 'boolean' } } as const;

/** A command with the shared prelude that records what its body was given. */
function recorder() {
  const seen: ConfigCommandLine<typeof OPTIONS>[] = [];
  const command = configCommand({ name: 'demo', usage: 'Usage: demo\n', options: OPTIONS }, async (line) => {
    seen.push(line);
    return 0;
  });
  return { command, seen };
}

describe('configPathOf', () => {
  const cases: [what: string, flag: string | undefined, env: string | undefined, want: string | undefined][] = [
    ['--config over SECRETS_CONFIG', 'a.yaml', 'b.yaml', 'a.yaml'],
    ['SECRETS_CONFIG without --config', undefined, 'b.yaml', 'b.yaml'],
    ['neither', undefined, undefined, undefined],
    ['a blank SECRETS_CONFIG is none', undefined, '  ', undefined],
    ['a blank --config is none', '', 'b.yaml', undefined],
    ['trimmed', ' a.yaml ', undefined, 'a.yaml'],
  ];
  for (const [what, flag, env, want] of cases) {
    it(what, () => assert.equal(configPathOf(flag, { SECRETS_CONFIG: env }), want));
  }
});

describe('configCommand', () => {
  for (const flag of ['--help', '-h']) {
    it(`prints the usage for ${flag}, exit 0, and neither reads a config nor runs`, async () => {
      const r = recorder();
      const t = fakeCliIo({ env: { SECRETS_CONFIG: '/nonexistent/config.yaml' } });
      assert.equal(await r.command([flag], t.io), 0);
      assert.equal(t.out(), 'Usage: demo\n');
      assert.deepEqual(r.seen, []);
    });
  }

  it('refuses an unknown flag with exit 2 naming the command', async () => {
    const r = recorder();
    await assert.rejects(r.command(['--bogus'], fakeCliIo().io), {
      name: 'UsageError',
      exitCode: 2,
      message: `Unknown option '--bogus'; see "secrets-init demo --help"`,
    });
    assert.deepEqual(r.seen, []);
  });

  it('runs without a config when none is named', async () => {
    const r = recorder();
    assert.equal(await r.command(['--once'], fakeCliIo().io), 0);
    assert.equal(r.seen.length, 1);
    assert.deepEqual({ ...r.seen[0]?.values }, { once: true });
    assert.equal(r.seen[0]?.config, undefined);
  });

  it('reads the config named (relative to cwd) before running, and refuses a bad one with every problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'command-line-'));
    try {
      await writeFile(join(dir, 'ok.yaml'), 'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [db]\n');
      await writeFile(
        join(dir, 'bad.yaml'),
        'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  sources: [{}]\n  x: 1\n',
      );
      const r = recorder();
      assert.equal(await r.command([], fakeCliIo({ env: { SECRETS_CONFIG: 'ok.yaml' }, cwd: dir }).io), 0);
      assert.equal(r.seen[0]?.configPath, 'ok.yaml');
      assert.deepEqual(r.seen[0]?.config?.sources, [{ type: 'secretsmanager', secretId: 'db' }]);
      await assert.rejects(r.command(['--config', 'bad.yaml'], fakeCliIo({ cwd: dir }).io), {
        name: 'UsageError',
        message: /^config ".*bad\.yaml": spec\.x: unknown field; spec\.sources\[0\]\.secretId: required$/,
      });
      assert.equal(r.seen.length, 1, 'a bad config never reaches the command');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
