import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { debrisIn, removeDir, runCli, SHELLS, sourceInShell, tempDir, visibleNames } from '../helpers/cli.ts';

let work: string;
before(() => {
  work = tempDir();
});
after(() => removeDir(work));

const ROUNDS = 4;
const RENDERS = 20;

/** Render w of a round: its own tag everywhere, and its own set of files (some with a GCP key, some with a mapped file). */
function input(round: number, w: number): { env: Record<string, string>; tag: string } {
  const tag = `r${round}w${w}`;
  const lines = [`TAG=${tag}`, `FILLER=${tag}-${'x'.repeat(2000)}`];
  if (w % 2 === 0) lines.push(`GOOGLE_APPLICATION_CREDENTIALS_JSON='{"type":"service_account","tag":"${tag}"}'`);
  if (w % 3 === 0) lines.push(`TLS_CERT=${tag}`);
  const dotenv = join(work, `${tag}.env`);
  writeFileSync(dotenv, `${lines.join('\n')}\n`);
  const env: Record<string, string> = { APP_ENV: 'local', SECRETS_DIR: join(work, 'out'), DOTENV_PATH: dotenv };
  if (w % 3 === 0) {
    const config = join(work, `${tag}.yaml`);
    writeFileSync(
      config,
      'apiVersion: secrets-init/v1\nkind: SecretsInit\nspec:\n  files:\n    - fromKey: TLS_CERT\n      path: tls.crt\n',
    );
    env.SECRETS_CONFIG = config;
  }
  return { env, tag };
}

test(`${RENDERS} renders at once into one directory, ${ROUNDS} rounds: each round leaves exactly one render's set`, async () => {
  const out = join(work, 'out');
  for (let round = 0; round < ROUNDS; round++) {
    const renders = Array.from({ length: RENDERS }, (_, w) => input(round, w));
    const results = await Promise.all(renders.map((r) => runCli([], r.env, { timeoutMs: 120_000 })));
    for (const [w, res] of results.entries()) assert.equal(res.code, 0, `round ${round} render ${w}: ${res.stderr}`);

    // One render's set: render.json lists exactly the visible files, with their digests, and every file says
    // the same tag.
    const meta = JSON.parse(readFileSync(join(out, 'render.json'), 'utf8')) as {
      files: Record<string, { sha256: string }>;
    };
    assert.deepEqual(visibleNames(out), [...Object.keys(meta.files), 'render.json'].sort(), `round ${round}`);
    for (const [name, { sha256 }] of Object.entries(meta.files)) {
      const digest = createHash('sha256')
        .update(readFileSync(join(out, name)))
        .digest('hex');
      assert.equal(digest, sha256, `round ${round}: ${name} is the file render.json describes`);
    }
    const [tag, gcpPath] = sourceInShell(SHELLS[0]!, join(out, 'app.env'), ['TAG', 'GOOGLE_APPLICATION_CREDENTIALS']);
    const w = renders.findIndex((r) => r.tag === tag!.toString());
    assert.ok(w >= 0, `round ${round}: app.env is one of this round's renders`);
    assert.equal('gcp-credentials.json' in meta.files, w % 2 === 0, `round ${round}: the GCP file belongs to ${tag}`);
    if (w % 2 === 0) {
      assert.equal(gcpPath!.toString(), join(out, 'gcp-credentials.json'));
      assert.equal(JSON.parse(readFileSync(gcpPath!.toString(), 'utf8')).tag, tag!.toString());
    } else assert.equal(gcpPath!.toString(), '', `round ${round}: no path to a file this set does not have`);
    assert.equal('tls.crt' in meta.files, w % 3 === 0);
    if (w % 3 === 0) assert.equal(readFileSync(join(out, 'tls.crt'), 'utf8'), tag!.toString());
    assert.deepEqual(debrisIn(out), [], `round ${round}: nothing left behind`);
  }
});
