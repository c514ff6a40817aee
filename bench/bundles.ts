import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The programs the bench starts: what ships, the same CLI as one file (the code-splitting baseline), each start-up
// optimisation switched off, the startup snapshot and two references (the AWS SDK alone; an empty snapshot), each
// written to the bench's own directory so that a rebuild by someone else mid-run changes nothing. A bundle is a
// directory as dist/ is: its entry `secrets-init.mjs` and, when split, the chunks beside it (`chunks/`).

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;

export interface Bundles {
  /** dist/secrets-init.mjs and its chunks: the npm bin, and what the init image runs. */
  readonly shipped: string;
  /** The same CLI in one file (BUILD_NO_SPLIT=1): what the image ran before code splitting. */
  readonly single: string;
  readonly eager: string;
  readonly unminified: string;
  /** bench/sdk-floor.ts bundled like the CLI: the AWS SDK reading one secret, nothing else. */
  readonly sdkFloor: string;
  /** dist/secrets-init.blob: the CLI's startup snapshot (written by this Node, the only one that loads it). */
  readonly snapshot: string;
  /** A startup snapshot whose main does nothing: what deserialising a user snapshot costs by itself. */
  readonly emptySnapshot: string;
  /** Bytes of each (a bundle: its entry and chunks together). */
  readonly sizes: Readonly<Record<string, number>>;
  /** Files of each bundle (its entry and chunks). */
  readonly files: Readonly<Record<string, number>>;
}

/** The entry of the bundle in `dir`. */
export const entryOf = (dir: string) => join(dir, 'secrets-init.mjs');

/** Copies what `npm run build` wrote and builds the variants into `dir`. */
export function buildBundles(dir: string, say: (s: string) => void): Bundles {
  const build = (name: string, env: Record<string, string>) => {
    const outdir = join(dir, name);
    execFileSync(NODE, ['scripts/build.mjs'], { cwd: ROOT, env: { ...process.env, ...env, BUILD_OUTDIR: outdir } });
    return entryOf(outdir);
  };
  const shipped = join(dir, 'shipped');
  // npm run bench builds first
  cpSync(join(ROOT, 'dist', 'secrets-init.mjs'), entryOf(shipped));
  cpSync(join(ROOT, 'dist', 'chunks'), join(shipped, 'chunks'), { recursive: true });
  const snapshot = join(dir, 'secrets-init.blob');
  cpSync(join(ROOT, 'dist', 'secrets-init.blob'), snapshot);
  say(
    'building the one-file bundle, the off variants (eager built-ins, unminified), the SDK reference and an empty snapshot',
  );
  const single = build('single', { BUILD_NO_SPLIT: '1' });
  const eager = build('eager', { BUILD_EAGER_BUILTINS: '1' });
  const unminified = build('unminified', { BUILD_NO_MINIFY: '1' });
  const sdkFloor = build('sdk-floor', { BUILD_ENTRY: 'bench/sdk-floor.ts' });
  const emptyScript = join(dir, 'empty-snapshot.cjs');
  const emptySnapshot = join(dir, 'empty.blob');
  writeFileSync(emptyScript, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {});\n");
  execFileSync(NODE, ['--snapshot-blob', emptySnapshot, '--build-snapshot', emptyScript], { cwd: dir });
  const all = { shipped: entryOf(shipped), single, eager, unminified, sdkFloor, snapshot, emptySnapshot };
  const parts = (f: string) => {
    const chunks = join(dirname(f), 'chunks');
    const names = f.endsWith('.mjs') ? safeList(chunks) : [];
    return [f, ...names.map((n) => join(chunks, n))];
  };
  const sizes = Object.fromEntries(
    Object.entries(all).map(([k, f]) => [k, parts(f).reduce((n, p) => n + statSync(p).size, 0)]),
  );
  const files = Object.fromEntries(Object.entries(all).map(([k, f]) => [k, parts(f).length]));
  return { ...all, sizes, files };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
