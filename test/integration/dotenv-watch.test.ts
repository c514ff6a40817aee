import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cliArgs, recordOutput, removeDir, snapshotDir, tempDir } from '../helpers/cli.ts';

let work: string;
let child: ChildProcess;
let stdout = '';
let stderr = '';
const events = () =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event?: string; changed?: boolean; exitCode?: number });

async function waitFor(what: string, pred: () => boolean, ms = 5000): Promise<number> {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}
const rendered = () => events().filter((e) => e.event === 'render.done' && e.changed).length;
const appEnv = () => readFileSync(join(work, 'out', 'app.env'), 'utf8');

before(async () => {
  work = tempDir();
  writeFileSync(join(work, '.env'), 'GREETING=hello\n');
  child = spawn(process.execPath, cliArgs(['render', '--watch']), {
    cwd: work,
    env: { PATH: process.env.PATH, APP_ENV: 'local', SECRETS_DIR: join(work, 'out') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await waitFor('dotenv-watch.ready', () => events().some((e) => e.event === 'dotenv-watch.ready'));
});
after(() => {
  child.kill('SIGKILL');
  recordOutput(stdout + stderr);
  removeDir(work);
});

test('render --watch: the first render happens at start', () => {
  assert.equal(appEnv(), "export GREETING='hello'\n");
});

test('render --watch: an edit of the dotenv file is rendered within a second', async () => {
  const before = rendered();
  writeFileSync(join(work, '.env'), 'GREETING=bonjour\n');
  const ms = await waitFor('re-render', () => rendered() > before, 3000);
  assert.equal(appEnv(), "export GREETING='bonjour'\n");
  assert.ok(ms < 1000, `rendered after ${ms} ms`);
});

test('render --watch: an editor-style save (write new file, rename over) is picked up', async () => {
  const before = rendered();
  writeFileSync(join(work, '.env.swp'), 'GREETING=hallo\n');
  renameSync(join(work, '.env.swp'), join(work, '.env'));
  await waitFor('re-render after rename', () => rendered() > before, 3000);
  assert.equal(appEnv(), "export GREETING='hallo'\n");
});

test('render --watch: a broken edit logs the problem and keeps the last good files', async () => {
  const good = snapshotDir(join(work, 'out'));
  const failedBefore = events().filter((e) => e.event === 'render.failed').length;
  writeFileSync(join(work, '.env'), 'GREETING=broken\nLD_PRELOAD=/tmp/evil.so\n');
  await waitFor('render.failed', () => events().filter((e) => e.event === 'render.failed').length > failedBefore);
  const failed = events()
    .filter((e) => e.event === 'render.failed')
    .at(-1)!;
  assert.equal(failed.exitCode, 4);
  assert.deepEqual(snapshotDir(join(work, 'out')), good);
  assert.equal(child.exitCode, null, 'still watching');
});

test('render --watch: rapid edits are debounced into one render', async () => {
  const before = rendered();
  for (let i = 0; i < 10; i++) {
    writeFileSync(join(work, '.env'), `GREETING=burst-${i}\n`);
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor('burst render', () => rendered() > before);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(rendered() - before, 1, 'one render for the burst');
  assert.equal(appEnv(), "export GREETING='burst-9'\n");
});

test('render --watch: SIGTERM exits 0', async () => {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 3000))]);
  assert.equal(code, 0);
});
