import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { BUNDLE, ROOT } from './cli.ts';

// The built bundle (scripts/build.mjs): the entry dist/secrets-init.mjs, the chunks it loads on first use in
// dist/chunks/, and the build's metafile, which says which source modules each of those files holds.

const CHUNKS = join(dirname(BUNDLE), 'chunks');
const METAFILE = join(dirname(BUNDLE), 'secrets-init.meta.json');

/** The entry and its chunks (absolute paths); throws when `npm run build` has not run. */
export function bundleFiles(): string[] {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run "npm run build" first (npm test does)`);
  const chunks = existsSync(CHUNKS) ? readdirSync(CHUNKS).map((n) => join(CHUNKS, n)) : [];
  return [BUNDLE, ...chunks];
}

/**
 * The source modules the given bundle files hold (project paths like `cli/render-command.ts`, or
 * `node_modules/...`): what loading those files makes V8 parse. A file the build did not write is an error.
 */
export function modulesIn(files: readonly string[]): string[] {
  const meta = JSON.parse(readFileSync(METAFILE, 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const byFile = new Map(Object.entries(meta.outputs).map(([out, o]) => [join(ROOT, out), Object.keys(o.inputs)]));
  return files.flatMap((f) => {
    const inputs = byFile.get(f);
    if (!inputs) throw new Error(`${relative(ROOT, f)} is not in ${relative(ROOT, METAFILE)}: a stale build?`);
    return inputs;
  });
}
