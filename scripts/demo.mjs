// `npm run demo`: render in local mode from the bundled example dotenv into ./out, then show what was
// written: file names, modes, sizes and key names (never a value), the way an operator would inspect it.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const out = join(process.cwd(), 'out');
/** The settings of this render, printed as the command that repeats it. */
const settings = {
  APP_ENV: 'local',
  DOTENV_PATH: 'examples/.env',
  SECRETS_DIR: 'out',
  SECRETS_REQUIRED: 'OPENAI_API_KEY,PINECONE_API_KEY,APP_SECRET_KEY',
  SECRETS_FILE_MODE: '0400',
  LOG_LEVEL: 'warn',
};
const shown = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
console.log(`$ ${shown.join(' ')} node dist/secrets-init.mjs render`);
const env = { ...process.env, ...settings };
const res = spawnSync(process.execPath, ['dist/secrets-init.mjs', 'render'], { env, stdio: 'inherit' });
if (res.status !== 0) process.exit(res.status ?? 1);

const meta = JSON.parse(readFileSync(join(out, 'render.json'), 'utf8'));
console.log(
  `\nrendered into ${out} at ${meta.renderedAt} (sources: ${meta.sources.map((s) => s.path ?? s.secretId).join(', ')})`,
);
for (const name of [...Object.keys(meta.files), 'render.json']) {
  const st = statSync(join(out, name));
  console.log(`  ${(st.mode & 0o777).toString(8).padStart(4, '0')}  ${String(st.size).padStart(6)} B  ${name}`);
}
console.log(`\napp.env variables (names only): ${meta.keys.join(', ')}`);
console.log(
  '\nrun a command the way the app image does (prints a length, not the value):\n' +
    `  SECRETS_DIR=out sh init/entrypoint.sh sh -c 'echo "OPENAI_API_KEY: \${#OPENAI_API_KEY} characters"'`,
);
