#!/usr/bin/env node
import * as nodeModule from 'node:module';

// Cache V8 bytecode of the bundle between runs (a warm init container or a re-render starts faster).
// NODE_COMPILE_CACHE chooses the directory; without it the OS temp dir is used. Best effort by design.
try {
  // a namespace import: a named one fails to link on Node older than 22.1 instead of just skipping the cache
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // read-only file system or unsupported: start without a cache
}

const { start } = await import('./start.ts');
await start(process.argv.slice(2));
