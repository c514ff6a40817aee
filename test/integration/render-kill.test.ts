import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cliArgs, debrisIn, removeDir, runCli, tempDir, visibleNames } from '../helpers/cli.ts';

let work: string;
before(() => {
  work = tempDir();
});
after(() => removeDir(work));

const dotenv = (tag: string) => {
  const lines = [`GOOGLE_APPLICATION_CREDENTIALS_JSON='{"type":"service_account","tag":"${tag}"}'`];
  for (let i = 0; i < 2000; i++) lines.push(`KEY_${i}=${tag}-${'v'.repeat(200)}-${i}`);
  return `${lines.join('\n')}\n`;
};

test('a render killed at any point leaves one whole set visible: the old one or the new one', async () => {
  const out = join(work, 'out');
  const env = { APP_ENV: 'local', SECRETS_DIR: out, DOTENV_PATH: join(work, '.env') };
  const versions = new Map<string, Map<string, string>>();
  for (const tag of ['new', 'old']) {
    writeFileSync(join(work, '.env'), dotenv(tag));
    const res = await runCli([], env);
    assert.equal(res.code, 0, res.stderr);
    versions.set(tag, new Map(['app.env', 'gcp-credentials.json'].map((f) => [f, readFileSync(join(out, f), 'utf8')])));
  }

  let killedMidway = 0;
  for (let i = 0; i < 24; i++) {
    const tag = i % 2 === 0 ? 'new' : 'old';
    writeFileSync(join(work, '.env'), dotenv(tag));
    const child = spawn(process.execPath, cliArgs([]), { env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' });
    // Spread the kills over start-up, parsing, and writing.
    const delay = 40 + ((i * 37) % 400);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.on('close', (c, s) => r([c, s])),
    );
    clearTimeout(timer);
    if (signal === 'SIGKILL') killedMidway++;
    else assert.equal(code, 0);
    for (const f of ['app.env', 'gcp-credentials.json']) {
      const now = readFileSync(join(out, f), 'utf8');
      const whole = now === versions.get('old')!.get(f) || now === versions.get('new')!.get(f);
      assert.ok(whole, `${f} is a complete old or new version after kill #${i} at ${delay} ms`);
    }
    const visible = readdirSync(out).filter((n) => !n.startsWith('.'));
    assert.deepEqual(visible.sort(), ['app.env', 'gcp-credentials.json', 'render.json']);
  }
  assert.ok(killedMidway > 0, 'at least one render was killed before it finished');
  // What killed renders left is hidden, never under a visible name; the next render (holding the lock, so no other
  // writer can be in flight) removes it.
  writeFileSync(join(work, '.env'), dotenv('old'));
  assert.equal((await runCli([], env)).code, 0);
  assert.deepEqual(visibleNames(out), ['app.env', 'gcp-credentials.json', 'render.json']);
  assert.deepEqual(debrisIn(out), []);
});
