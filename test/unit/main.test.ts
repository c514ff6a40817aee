import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main, USAGE } from '../../cli/main.ts';
import { fakeCliIo } from '../fakes/cli-io.ts';

describe('main', () => {
  for (const name of ['deploy', 'toString', 'constructor', 'hasOwnProperty']) {
    it(`exits 2 with one line for the unknown command "${name}", even one every object has`, async () => {
      const t = fakeCliIo();
      assert.equal(await main([name], t.io), 2);
      assert.equal(t.err(), `secrets-init: unknown command "${name}"; see "secrets-init --help"\n`);
      assert.equal(t.out(), '');
    });
  }

  it('lists every command with its summary in --help', async () => {
    const t = fakeCliIo();
    assert.equal(await main(['--help'], t.io), 0);
    assert.equal(t.out(), USAGE);
    const listed = [...USAGE.matchAll(/^ {2}([a-z]+) {2,}\S/gm)].map((m) => m[1]);
    assert.deepEqual(listed, ['render', 'watch', 'inject', 'policy', 'check']);
  });

  const runs: { args: string[]; code: number; out: RegExp; err: RegExp }[] = [
    { args: ['render', '--help'], code: 0, out: /^Usage: secrets-init render/, err: /^$/ },
    { args: ['check', '--help'], code: 0, out: /^Usage: secrets-init check/, err: /^$/ },
    { args: ['--no-such-flag'], code: 2, out: /^$/, err: /^secrets-init render: Unknown option '--no-such-flag'/ },
  ];
  const endpoints: [string, string[]][] = [
    ['render', ['SECRETS_MANAGER', 'SSM']],
    ['watch', ['ECS', 'SECRETS_MANAGER', 'SSM']],
  ];
  for (const [command, services] of endpoints) {
    it(`${command} --help names the endpoint variable of each service it calls: ${services.join(', ')}`, async () => {
      const t = fakeCliIo();
      assert.equal(await main([command, '--help'], t.io), 0);
      const named = /AWS_ENDPOINT_URL\[([A-Z_|]+)\]/.exec(t.out())?.[1]?.split('|');
      assert.deepEqual(
        named,
        services.map((s) => `_${s}`),
      );
    });
  }
  for (const r of runs) {
    it(`runs the command named first, render without one: ${r.args.join(' ')}`, async () => {
      const t = fakeCliIo();
      assert.equal(await main(r.args, t.io), r.code);
      assert.match(t.out(), r.out);
      assert.match(t.err(), r.err);
    });
  }
});
