// NODE_COMPILE_CACHE=DIR node scripts/warm-compile-cache.mjs APP_DIR: fills Node's compile cache with the chunks of
// the bundle in APP_DIR (APP_DIR/chunks/*.mjs) that `render` can load, as Dockerfile.init does after running
// `render --help` once, and as the bench does to start from the image's cache. `render --help` caches the entry and
// the render command's chunks only; a Secrets Manager render also loads its client's chunks (an SSM render, a
// config file, ... theirs): without this step each task start would compile those afresh. Left out: the chunk of
// the other commands (cli/other-commands.ts; watch runs for hours, inject, policy and check are operator tools),
// which compiles on first use and would be the largest part of the cache in the image's layer. Node writes a
// module's cache entry when it compiles it (and writes them out at exit), so importing each chunk once is enough:
// their top level only defines things (no timer, socket or output). Plain ESM with no dependency: the image's final
// stage (distroless, no npm) runs it from a bind mount, so it is not in the image.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Chunks not warmed: esbuild names a chunk after the module a dynamic import() loads. */
const NOT_FOR_RENDER = /^other-commands-/;

const [app] = process.argv.slice(2);
if (!app || !process.env.NODE_COMPILE_CACHE) {
  process.stderr.write('usage: NODE_COMPILE_CACHE=DIR node scripts/warm-compile-cache.mjs APP_DIR\n');
  process.exit(2);
}
const chunks = join(app, 'chunks');
const all = readdirSync(chunks).filter((n) => n.endsWith('.mjs'));
const names = all.filter((n) => !NOT_FOR_RENDER.test(n));
if (names.length === all.length) {
  process.stderr.write(`warm-compile-cache: no chunk of ${chunks} matches ${NOT_FOR_RENDER}: renamed?\n`);
  process.exit(1);
}
for (const name of names) await import(pathToFileURL(join(chunks, name)).href);
console.log(`warm-compile-cache: ${names.length} of ${all.length} chunks of ${app} compiled into the cache`);
