import { execFileSync } from 'node:child_process';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The programs the bench starts: what ships, each start-up optimisation switched off, the startup snapshot and
// two references (the AWS SDK alone; an empty snapshot), each written to the bench's own directory so that a
// rebuild by someone else mid-run changes nothing.

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;

export interface Bundles {
  /** dist/secrets-init.mjs: the npm bin, and what the init image runs without the snapshot. */
  readonly shipped: string;
  readonly eager: string;
  readonly unminified: string;
  /** bench/sdk-floor.ts bundled like the CLI: the AWS SDK reading one secret, nothing else. */
  readonly sdkFloor: string;
  /** dist/secrets-init.blob: the CLI's startup snapshot (written by this Node, the only one that loads it). */
  readonly snapshot: string;
  /** A startup snapshot whose main does nothing: what deserialising a user snapshot costs by itself. */
  readonly emptySnapshot: string;
  /** Bytes of each. */
  readonly sizes: Readonly<Record<string, number>>;
}

/** Copies what `npm run build` wrote and builds the variants into `dir`. */
export function buildBundles(dir: string, say: (s: string) => void): Bundles {
  const copy = (from: string, name: string) => {
    const to = join(dir, name);
    copyFileSync(join(ROOT, from), to); // npm run bench builds first
    return to;
  };
  const build = (name: string, env: Record<string, string>) => {
    const outfile = join(dir, name);
    execFileSync(NODE, ['scripts/build.mjs'], { cwd: ROOT, env: { ...process.env, ...env, BUILD_OUTFILE: outfile } });
    return outfile;
  };
  const shipped = copy('dist/secrets-init.mjs', 'shipped.mjs');
  const snapshot = copy('dist/secrets-init.blob', 'secrets-init.blob');
  say('building the off variants (eager built-ins, unminified), the SDK reference and an empty snapshot');
  const eager = build('eager.mjs', { BUILD_EAGER_BUILTINS: '1' });
  const unminified = build('unminified.mjs', { BUILD_NO_MINIFY: '1' });
  const sdkFloor = build('sdk-floor.mjs', { BUILD_ENTRY: 'bench/sdk-floor.ts' });
  const emptyScript = join(dir, 'empty-snapshot.cjs');
  const emptySnapshot = join(dir, 'empty.blob');
  writeFileSync(emptyScript, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {});\n");
  execFileSync(NODE, ['--snapshot-blob', emptySnapshot, '--build-snapshot', emptyScript], { cwd: dir });
  const all = { shipped, eager, unminified, sdkFloor, snapshot, emptySnapshot };
  const sizes = Object.fromEntries(Object.entries(all).map(([k, f]) => [k, statSync(f).size]));
  return { ...all, sizes };
}
