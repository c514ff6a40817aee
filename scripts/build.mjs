// Bundles the CLI: dist/secrets-init.mjs, the entry (what the image runs, the npm bin, what the integration tests
// run), and dist/chunks/*.mjs beside it, which the entry loads on first use. (scripts/build-snapshot.mjs builds a V8
// startup snapshot of the same CLI from a bundle of its own, in one file; the bench measures it.)
// Start-up time is on the critical path of every ECS task start, so the bundle is shaped for it:
// - code splitting: every dynamic import() of the project's code is a chunk, loaded and parsed only when first used
//   (a dependency's own import()s stay inside its chunk: scripts/dependency-imports-plugin.mjs). `render` parses
//   neither the other commands nor the ECS or SSM client (in local mode no AWS SDK at all), where one file had V8
//   pre-parse all of it at every start; and cli/bin.ts enables the compile cache before any chunk is compiled, so
//   the npm bin gets the cache too. (BUILD_NO_SPLIT=1 writes the one-file bundle instead: the bench's baseline.)
// - every command and dependency is only evaluated when used;
// - Node built-ins are loaded through require() inside the chunks that use them instead of hoisted ESM imports, so
//   `render` in local mode never loads http, zlib or crypto's heavier parts for the AWS SDK it does not call.
//   (BUILD_EAGER_BUILTINS=1 turns this off, and BUILD_NO_MINIFY=1 minifying, for the benchmark's on/off comparison.)
// BUILD_OUTDIR (default dist): where the entry, its chunks and the build's metafile (which chunk holds which
// module: secrets-init.meta.json, read by the tests, never shipped) go.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { builtinsAsRequire } from './builtins-plugin.mjs';
import { BUNDLE_OPTIONS } from './bundle-options.mjs';
import { dependencyImportsInChunk } from './dependency-imports-plugin.mjs';

const outdir = process.env.BUILD_OUTDIR ?? 'dist';
// BUILD_ENTRY: another program bundled the same way (the bench's SDK reference, bench/sdk-floor.ts).
const entry = process.env.BUILD_ENTRY ?? 'cli/bin.ts';
const split = process.env.BUILD_NO_SPLIT !== '1';
const file = join(outdir, 'secrets-init.mjs');
// Chunks of an earlier build would stay beside the new ones (their names carry a content hash).
rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  ...BUNDLE_OPTIONS,
  entryPoints: { 'secrets-init': entry },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: split,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  metafile: true,
  plugins: [
    dependencyImportsInChunk(),
    ...(process.env.BUILD_EAGER_BUILTINS === '1' ? [] : [builtinsAsRequire({ keepImportsOf: /\/cli\/bin\.ts$/ })]),
  ],
  banner: {
    // Bundled CommonJS code (and the built-ins loaded through require()) call require(), in every chunk.
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
chmodSync(file, 0o755);
writeFileSync(join(outdir, 'secrets-init.meta.json'), JSON.stringify(result.metafile));
const outputs = Object.values(result.metafile.outputs);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const total = outputs.reduce((n, o) => n + o.bytes, 0);
console.log(`${file} ${split ? `and ${outputs.length - 1} chunks, ${kib(total)} in all` : kib(total)}`);
