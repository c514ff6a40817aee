// Bundles the CLI into one file, dist/secrets-init.mjs: what the image ships and the integration tests run.
// Start-up time is on the critical path of every ECS task start, so the bundle is shaped for it:
// - every command and dependency is only evaluated when used (dynamic imports become lazy wrappers);
// - Node built-ins are loaded through require() inside those wrappers instead of hoisted ESM imports, so
//   `render` in local mode never loads http, zlib or crypto's heavier parts for the AWS SDK it does not call.
//   (BUILD_EAGER_BUILTINS=1 turns this off, for the benchmark's on/off comparison.)
import { chmodSync, mkdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
// `import('node:http')` (the SDK's HTTP handler does this) would build an ESM facade of the module, which reads
// every export, and node:http's lazy getters then load undici (~20 ms); a require() reads nothing it is not asked for.
const LAZY_KINDS = new Set(['import-statement', 'dynamic-import']);
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^[a-z:_/]+$/ }, (args) => {
      if (!builtins.has(args.path) || !LAZY_KINDS.has(args.kind)) return undefined;
      if (args.importer.includes('/cli/bin.ts')) return undefined;
      return { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: 'js',
    }));
  },
};

mkdirSync('dist', { recursive: true });
const result = await build({
  entryPoints: ['cli/bin.ts'],
  outfile: process.env.BUILD_OUTFILE ?? 'dist/secrets-init.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: process.env.BUILD_NO_MINIFY !== '1',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: process.env.BUILD_EAGER_BUILTINS === '1' ? [] : [lazyBuiltins],
  banner: {
    // Bundled CommonJS code (and the lazy built-ins above) call require().
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
chmodSync(process.env.BUILD_OUTFILE ?? 'dist/secrets-init.mjs', 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`${process.env.BUILD_OUTFILE ?? 'dist/secrets-init.mjs'} ${(bytes / 1024).toFixed(0)} KiB`);
