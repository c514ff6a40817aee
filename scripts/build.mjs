// Bundles the CLI into one file, dist/secrets-init.mjs: what the image ships and the integration tests run.
import { chmodSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist', { recursive: true });
const result = await build({
  entryPoints: ['cli/bin.ts'],
  outfile: 'dist/secrets-init.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  banner: {
    // Some bundled CommonJS dependencies call require() for Node built-ins.
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
chmodSync('dist/secrets-init.mjs', 0o755);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`dist/secrets-init.mjs ${(bytes / 1024).toFixed(0)} KiB`);
