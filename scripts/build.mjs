// Bundles the CLI into one file, dist/secrets-init.mjs: what the image ships, the npm bin, and what the integration
// tests run. (scripts/build-snapshot.mjs builds a V8 startup snapshot of the same CLI, measured by the bench.)
// Start-up time is on the critical path of every ECS task start, so the bundle is shaped for it:
// - every command and dependency is only evaluated when used (dynamic imports become lazy wrappers);
// - Node built-ins are loaded through require() inside those wrappers instead of hoisted ESM imports, so
//   `render` in local mode never loads http, zlib or crypto's heavier parts for the AWS SDK it does not call.
//   (BUILD_EAGER_BUILTINS=1 turns this off, and BUILD_NO_MINIFY=1 minifying, for the benchmark's on/off comparison.)
import { chmodSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { builtinsAsRequire } from './builtins-plugin.mjs';
import { BUNDLE_OPTIONS } from './bundle-options.mjs';

const outfile = process.env.BUILD_OUTFILE ?? 'dist/secrets-init.mjs';
// BUILD_ENTRY: another program bundled the same way (the bench's SDK reference, bench/sdk-floor.ts).
const entry = process.env.BUILD_ENTRY ?? 'cli/bin.ts';
mkdirSync('dist', { recursive: true });
const result = await build({
  ...BUNDLE_OPTIONS,
  entryPoints: [entry],
  outfile,
  format: 'esm',
  metafile: true,
  plugins: process.env.BUILD_EAGER_BUILTINS === '1' ? [] : [builtinsAsRequire({ keepImportsOf: /\/cli\/bin\.ts$/ })],
  banner: {
    // Bundled CommonJS code (and the built-ins loaded through require()) call require().
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
chmodSync(outfile, 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${outfile} ${(bytes / 1024).toFixed(0)} KiB`);
